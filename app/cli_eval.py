"""``concierge eval ...``: evaluations that print one JSON object with ``--json``."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

evals = typer.Typer(help="Evaluations: measure a layer against known truth.", no_args_is_help=True)


@evals.command("identity")
def identity(
    customers: Annotated[int, typer.Option(min=10, help="Size of the bank to build.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the bank and its exports.")] = 7,
    noise: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="How much the systems disagree (0..1).")
    ] = 0.3,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Seed, export with noise, ingest, resolve identities; score pairwise against the truth."""
    from evals.identity import run_identity_eval

    err = Console(stderr=True)
    with err.status("starting") as status:
        result = run_identity_eval(
            customers=customers,
            seed=seed,
            noise=noise,
            step=lambda name: status.update(f"{name} ({customers} customers, noise {noise})"),
        )
    if as_json:
        typer.echo(json.dumps(result))
        return
    for key, value in result.items():
        typer.echo(f"{key:>20}: {value}")


@evals.command("recommendations")
def recommendations(
    customers: Annotated[int, typer.Option(min=50, help="Size of each bank.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the test bank (training: seed + 1000).")] = 7,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Train on one bank, recommend on another; score the levels and the insight detectors."""
    from evals.recommendations import run_recommendations_eval

    err = Console(stderr=True)
    with err.status("starting") as status:
        result = run_recommendations_eval(
            customers=customers, seed=seed, step=lambda name: status.update(name)
        )
    if as_json:
        typer.echo(json.dumps(result))
        return
    for level, figures in result["levels"].items():
        typer.echo(f"{level:>12}: {figures}")
    for kind, figures in result["insights"].items():
        typer.echo(f"{kind:>24}: {figures}")


def register(cli: typer.Typer) -> None:
    """Add the ``eval`` command group to the CLI."""
    cli.add_typer(evals, name="eval")
