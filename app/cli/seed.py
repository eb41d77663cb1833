"""``concierge seed``: the synthetic demo bank, created in the configured database.

``register(cli)`` adds the command to the ``concierge`` app. It refuses to overwrite a bank
unless told ``--replace``, and says so when an earlier run did not finish.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from app.api.queries import first_usernames
from app.bootstrap import open_engine
from app.cli.errors import fail
from services.db import (
    SchemaMismatch,
    bank_state,
    create_schema,
    drop_schema,
    safe_url,
    schema_mismatches,
)
from services.settings import DEMO_ADVISOR, Settings, get_settings

DEMO_USERS_SHOWN = 3
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})


def register(cli: typer.Typer) -> None:
    """Add ``seed`` to ``cli``."""
    cli.command()(seed)


def _parse_as_of(text: str | None) -> date:
    if text is None:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date (YYYY-MM-DD)", param_hint="'--as-of'"
        ) from None


def _summary(result: Any) -> dict[str, Any]:
    rows = {str(table): int(count) for table, count in result.rows.items()}
    return {
        "customers": int(result.customers),
        "rows": rows,
        "total_rows": sum(rows.values()),
        "seconds": round(float(result.seconds), 3),
        "rows_per_second": round(float(result.rows_per_second), 1),
        "as_of": result.as_of.isoformat(),
    }


def _print_summary(summary: dict[str, Any], out: Console) -> None:
    table = Table(title=f"Seeded {summary['customers']} customers as of {summary['as_of']}")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in sorted(summary["rows"].items()):
        table.add_row(name, f"{count:,}")
    table.add_row("total", f"{summary['total_rows']:,}", style="bold")
    out.print(table)
    out.print(
        f"{summary['seconds']:.2f} s, {summary['rows_per_second']:,.0f} rows/s", highlight=False
    )


def _public_url(settings: Settings) -> str:
    # A wildcard bind address is not somewhere a browser can go; this machine is.
    host = settings.host if settings.host not in WILDCARD_HOSTS else "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


def _print_sign_in(usernames: list[str], settings: Settings, out: Console) -> None:
    """Where the app is served and who can sign in: the block `make run` leaves on screen."""
    url = _public_url(settings)
    lines = [
        "",
        "Concierge (once `concierge serve` runs):",
        f"  customer page    {url}/",
        f"  advisor console  {url}/advisor",
        f"  API docs         {url}/docs",
    ]
    if usernames:
        lines.append(f"Demo customers (password: {settings.demo_password}):")
        lines.extend(f"  {username}" for username in usernames)
    lines.append(f"Demo advisor: {DEMO_ADVISOR} (password: {settings.demo_advisor_password})")
    for line in lines:
        out.print(line, highlight=False, markup=False, soft_wrap=True)


def _demo_usernames(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return first_usernames(session, limit=DEMO_USERS_SHOWN)


def _load_generator() -> Callable[..., Any]:
    # Imported on demand so `concierge --help` and `serve` never load the generator.
    try:
        from services.synth.writer import seed_bank
    except ImportError as exc:
        raise fail(f"the bank generator is not available ({exc})") from None
    return seed_bank


def _run_seed(
    seed_bank: Callable[..., Any],
    engine: Engine,
    *,
    customers: int,
    seed: int,
    as_of: date,
    workers: int,
) -> Any:
    columns = (
        TextColumn("seeding customers"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as progress:
        task = progress.add_task("seed", total=customers)
        return seed_bank(
            engine,
            customers=customers,
            seed=seed,
            as_of=as_of,
            workers=workers,
            password=get_settings().demo_password,
            progress=lambda done: progress.advance(task, done),
        )


def _forget_sessions(settings: Settings) -> None:
    # Ids restart with a new bank: a token signed for the old one must not name a new person.
    # A generated key is replaced; a configured CONCIERGE_SECRET_KEY is the operator's to rotate.
    if settings.secret_key is None:
        (settings.var_dir / "secret.key").unlink(missing_ok=True)


def seed(
    customers: Annotated[int, typer.Option(min=1, help="How many customers to create.")] = 300,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same bank.")] = 7,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", metavar="YYYY-MM-DD", help="The bank's today (default: today in UTC)."
        ),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Parallel generator workers.")] = 2,
    replace: Annotated[
        bool, typer.Option("--replace", help="Wipe an existing bank and seed a new one.")
    ] = False,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing when a bank is already there.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON summary object on stdout.")
    ] = False,
) -> None:
    """Create the synthetic demo bank in the configured database."""
    if replace and if_empty:
        raise fail("--replace and --if-empty contradict each other; pass one", code=2)
    day = _parse_as_of(as_of)
    settings = get_settings()
    url = safe_url(settings.resolved_database_url)
    try:
        # With --replace an outdated schema is about to be dropped anyway.
        engine = open_engine(settings, verify=not replace)
    except SchemaMismatch as exc:
        raise fail(f"{url}: {exc}") from None
    except SQLAlchemyError as exc:
        raise fail(f"cannot open the database at {url}: {exc}") from None
    try:
        state = bank_state(engine)
        seeded = state != "empty"
        if state == "partial" and not replace:
            raise fail(
                f"the database at {url} holds a bank whose seeding did not finish; "
                "pass --replace to wipe it and seed again",
                code=2,
            )
        if seeded:
            if if_empty:
                if as_json:
                    typer.echo(json.dumps({"skipped": True, "reason": "already seeded"}))
                else:
                    typer.echo(f"already seeded, skipping ({url})")
                    _print_sign_in(_demo_usernames(engine), settings, Console())
                return
            if not replace:
                raise fail(
                    f"the database at {url} already holds a bank; pass --replace to wipe it "
                    "and seed a new one (or --if-empty to keep it)",
                    code=2,
                )
        seed_bank = _load_generator()  # before wiping anything, so a missing one costs nothing
        if seeded or (replace and schema_mismatches(engine)):
            drop_schema(engine)
            create_schema(engine)
            _forget_sessions(settings)
        result = _run_seed(
            seed_bank, engine, customers=customers, seed=seed, as_of=day, workers=workers
        )
        summary = _summary(result)
        if as_json:
            typer.echo(json.dumps(summary))
            return
        out = Console()
        _print_summary(summary, out)
        _print_sign_in(_demo_usernames(engine), settings, out)
    except SQLAlchemyError as exc:
        raise fail(f"database error at {url}: {exc}") from None
    finally:
        engine.dispose()
