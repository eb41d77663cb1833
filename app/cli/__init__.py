"""The ``concierge`` command line: one module per command or group, joined here.

Commands with ``--json`` print exactly one JSON object on stdout; progress and notes go to
stderr so the output can be piped.
"""

from __future__ import annotations

import typer

cli = typer.Typer(
    name="concierge",
    help="Concierge, the agentic banking assistant.",
    no_args_is_help=True,
    add_completion=False,
)

COMMAND_GROUPS = "concierge.commands"  # entry-point group of command groups from above


@cli.callback()
def _root() -> None:
    """Concierge, the agentic banking assistant."""
    from app.logging_setup import install

    install()  # no personal data in any log line of any command


def _register_groups() -> None:
    # Each command group lives in its own module and joins the one `concierge` command here.
    # Evaluations and benchmarks sit above the delivery layer, so the CLI does not import them:
    # they add their groups through the `concierge.commands` entry points (pyproject.toml).
    from importlib.metadata import entry_points

    from app.cli import audit, chat, data, nlu, notify, seed, serve

    seed.register(cli)
    serve.register(cli)
    data.register(cli)
    for entry in sorted(entry_points(group=COMMAND_GROUPS), key=lambda e: e.name):
        entry.load()(cli)
    nlu.register(cli)
    chat.register(cli)
    audit.register(cli)
    notify.register(cli)


_register_groups()


def main() -> None:
    """Entry point of the ``concierge`` console script."""
    cli()
