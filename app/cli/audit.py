"""``concierge audit verify``: walk the audit log's hash chain and say whether it holds.

Exit code 0 when every row checks out, 1 when one does not (``first_bad_id`` names it), 2 when
the database cannot be opened. With ``--json`` stdout gets exactly one JSON object:
``{"rows": n, "ok": bool, "first_bad_id": id | null}``.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError

from app.bootstrap import open_engine
from services.audit import verify_chain
from services.db import SchemaMismatch, safe_url
from services.settings import get_settings

audit = typer.Typer(help="The audit log: check that no entry was changed.", no_args_is_help=True)


def register(cli: typer.Typer) -> None:
    """Add the ``audit`` command group to the CLI."""
    cli.add_typer(audit, name="audit")


@audit.command()
def verify(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object on stdout.")
    ] = False,
) -> None:
    """Check every link of the audit log's hash chain (exit code 1 when one is broken)."""
    settings = get_settings()
    url = safe_url(settings.resolved_database_url)
    try:
        engine = open_engine(settings)
    except (SchemaMismatch, SQLAlchemyError) as exc:
        typer.echo(f"error: cannot open the database at {url}: {exc}", err=True)
        raise typer.Exit(code=2) from None
    try:
        with engine.connect() as conn:
            report = verify_chain(conn)
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(report.to_json()))
    elif report.ok:
        typer.echo(f"audit log intact: {report.rows} entries, every link checks out")
    else:
        typer.echo(
            f"audit log BROKEN at entry {report.first_bad_id} ({report.rows} entries): "
            "it was changed, removed or moved after it was written"
        )
    if not report.ok:
        raise typer.Exit(code=1)
