"""``concierge serve``: the web app on one or several processes."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.errors import fail
from services.settings import get_settings


def register(cli: typer.Typer) -> None:
    """Add ``serve`` to ``cli``."""
    cli.command()(serve)


def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to bind (default: CONCIERGE_HOST, else 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            min=1, max=65535, help="Port to listen on (default: CONCIERGE_PORT, else 8000)."
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Server processes, each listening on the port itself (SO_REUSEPORT) so the "
            "kernel spreads connections evenly. More than one needs the shared engines "
            "(PostgreSQL, Redis) so every process sees the same caches and events.",
        ),
    ] = 1,
) -> None:
    """Serve the web app (REST API, chat, OpenAPI at /docs)."""
    from app.serving import ServeError
    from app.serving import serve as serve_app

    settings = get_settings()
    try:
        code = serve_app(
            "app.main:app",
            host=host or settings.host,
            port=port or settings.port,
            workers=workers,
            log_level=settings.log_level.lower(),
            ws_per_message_deflate=settings.ws_compression,
        )
    except ServeError as exc:
        raise fail(str(exc)) from None
    if code:
        raise typer.Exit(code)
