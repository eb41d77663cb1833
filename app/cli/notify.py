"""``concierge notify``: notification workers and the scheduler's pass, outside the server.

``concierge notify work`` runs a worker that sends due notifications until stopped (Ctrl-C or
SIGTERM hands back what it holds); run several, on any machines sharing the database, when the
server processes do not send (``CONCIERGE_NOTIFY_DISPATCH=false``). ``concierge notify sweep``
runs one pass of the scheduler over every customer (``--json``: what it found).
"""

from __future__ import annotations

import asyncio
import json
import signal
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from app.bootstrap import open_engine
from services.notifications.channels.setup import build_channels
from services.notifications.dispatch import Dispatcher
from services.notifications.notifier import Notifier
from services.notifications.outbox import release_worker
from services.recommendations.catalog import default_catalog
from services.settings import get_settings

notify = typer.Typer(help="Notifications: workers that send, the scheduler.", no_args_is_help=True)


def register(cli: typer.Typer) -> None:
    """Add the ``notify`` command group to the CLI."""
    cli.add_typer(notify, name="notify")


@notify.command()
def work(
    batch: Annotated[int, typer.Option(min=1, max=1000, help="Deliveries claimed at once.")] = 50,
    name: Annotated[str | None, typer.Option(help="This worker's name in the outbox.")] = None,
) -> None:
    """Send due notifications until stopped; several workers share the outbox safely."""
    settings = get_settings()
    engine = open_engine(settings)
    dispatcher = Dispatcher(
        engine,
        build_channels(settings),
        worker=name,
        batch=batch,
        app_url=settings.app_url,
        lease=timedelta(seconds=settings.notify_lease_seconds),
    )
    typer.echo(f"notification worker {dispatcher.worker} sending", err=True)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await dispatcher.run(stop)

    try:
        asyncio.run(main())
    finally:
        with engine.begin() as conn:
            released = release_worker(conn, dispatcher.worker, datetime.now(UTC))
        typer.echo(
            f"stopped: {dispatcher.sent} sent, {dispatcher.failed} failed, {released} handed back",
            err=True,
        )
        engine.dispose()


@notify.command()
def sweep(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """One scheduler pass over every customer: what is due to be told (bills, maturities...)."""
    settings = get_settings()
    engine = open_engine(settings)
    try:
        channels = build_channels(settings)
        found = Notifier(engine, catalog=default_catalog(), channels=channels).sweep(everyone=True)
    finally:
        engine.dispose()
    typer.echo(json.dumps(found) if as_json else f"swept {found['customers']} customers: {found}")
