"""``concierge export`` and ``concierge ingest``: the bank's data out as source files, and in.

``register(cli)`` adds both commands to the ``concierge`` app. As everywhere in the CLI,
``--json`` prints exactly one JSON object on stdout, and progress goes to stderr.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from app.bootstrap import open_engine
from app.cli.errors import fail
from services.db import bank_state, safe_url
from services.ingest import DEFAULT_BATCH, IngestError, MappingError, ingest, load_mapping
from services.settings import get_settings
from services.synth.export import NoBankError, export_bank


class Source(StrEnum):
    """The source systems ``concierge ingest`` loads."""

    core_banking = "core-banking"
    crm = "crm"
    events = "events"


def _engine() -> tuple[Engine, str]:
    settings = get_settings()
    url = safe_url(settings.resolved_database_url)
    try:
        return open_engine(settings), url
    except SQLAlchemyError as exc:
        raise fail(f"cannot open the database at {url}: {exc}") from None


def _print_counts(title: str, header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    table = Table(title=title)
    for i, name in enumerate(header):
        table.add_column(name, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*(f"{v:,}" if isinstance(v, int) else str(v) for v in row))
    Console().print(table)


def export(
    out: Annotated[
        Path, typer.Option("--out", file_okay=False, help="Folder to write the files into.")
    ],
    noise: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="How much the systems disagree, 0 (none) to 1."),
    ] = 0.3,
    seed: Annotated[
        int | None,
        typer.Option(help="Seed of the disagreements (default: the bank's own seed)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON summary object on stdout.")
    ] = False,
) -> None:
    """Write the seeded bank as core banking, CRM and digital exports, with truth.json."""
    engine, url = _engine()
    try:
        state = bank_state(engine)
        if state != "complete":
            what = (
                "holds no bank" if state == "empty" else "holds a bank whose seeding did not finish"
            )
            raise fail(f"the database at {url} {what}; seed one with `concierge seed`")
        columns = (TextColumn("exporting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=Console(stderr=True)) as bar:
            task = bar.add_task("export", total=None)
            stats = export_bank(
                engine,
                out,
                noise=noise,
                noise_seed=seed,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    except NoBankError as exc:
        raise fail(f"the database at {url}: {exc}") from None
    except OSError as exc:
        raise fail(f"cannot write under {out}: {exc}") from None
    except SQLAlchemyError as exc:
        raise fail(f"database error at {url}: {exc}") from None
    finally:
        engine.dispose()
    summary = {
        "out": str(out),
        "noise": noise,
        "rows": stats.rows,
        "total_rows": sum(stats.rows.values()),
        "seconds": round(stats.seconds, 3),
    }
    if as_json:
        typer.echo(json.dumps(summary))
        return
    rows = [(name, count) for name, count in stats.rows.items()]
    _print_counts(f"Exported to {out} (noise {noise})", ("file", "rows"), rows)
    Console().print(f"{stats.seconds:.2f} s", highlight=False)


def ingest_command(
    source: Annotated[Source, typer.Argument(help="Which system the export comes from.")],
    path: Annotated[
        Path,
        typer.Argument(
            exists=True,
            help="Core banking: the folder of CSVs. CRM, events: the file or its folder.",
        ),
    ],
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--mapping", exists=True, dir_okay=False, help="YAML mapping of the bank's names."
        ),
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Rows per database transaction.")
    ] = DEFAULT_BATCH,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as one JSON object on stdout.")
    ] = False,
) -> None:
    """Load a source system's export (idempotent; malformed rows go to ingest_reject)."""
    try:
        rules = load_mapping(mapping, source=source.value) if mapping else None
    except MappingError as exc:
        raise fail(str(exc), code=2) from None
    engine, url = _engine()
    try:
        columns = (
            TextColumn(f"ingesting {source.value}"),
            BarColumn(),
            TextColumn("{task.completed:,} rows"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=Console(stderr=True)) as bar:
            task = bar.add_task("ingest", total=None)
            report = ingest(
                engine,
                source.value,
                path,
                mapping=rules,
                batch_size=batch_size,
                progress=lambda done: bar.update(task, completed=done),
            )
    except (IngestError, MappingError) as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot read {path}: {exc}") from None
    except SQLAlchemyError as exc:
        raise fail(f"database error at {url}: {exc}") from None
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(report.as_dict()))
        return
    rows = [(name, c.read, c.loaded, c.skipped, c.rejected) for name, c in report.files.items()]
    header = ("file", "read", "loaded", "already there", "rejected")
    _print_counts(f"Ingested {source.value} from {path}", header, rows)
    Console().print(f"{report.batches} batches, {report.seconds:.2f} s", highlight=False)
    if report.rejected:
        typer.echo(
            f"{report.rejected} row(s) rejected: see table ingest_reject (file, line, reason)",
            err=True,
        )


def register(cli: typer.Typer) -> None:
    """Add ``export`` and ``ingest`` to the ``concierge`` command line."""
    cli.command("export")(export)
    cli.command("ingest")(ingest_command)
