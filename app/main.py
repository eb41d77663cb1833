"""The FastAPI application and its composition root.

``create_app`` is cheap and touches nothing outside the process; the ``lifespan`` opens the
database when the server starts and closes it when it stops. ``app`` is what ``uvicorn
app.main:app`` (and ``concierge serve``) runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI

from app.api import auth, chat, customers, health
from app.assistant import build_assistant, checkpointer
from app.wiring import open_engine
from services.settings import Settings, get_settings


def _version() -> str:
    try:
        return version("concierge")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "0.0.0"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the web app.

    Args:
        settings: Configuration; read from the environment when omitted.

    Returns:
        The app, not yet started: its lifespan opens the database.
    """
    settings = settings if settings is not None else get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = open_engine(settings)
        try:
            app.state.engine = engine
            app.state.secret_key = settings.resolved_secret_key()
            with checkpointer(settings) as saver:
                # built on the first chat (training the intent model the first time takes
                # seconds); the REST routes never wait for it
                app.state.assistant_factory = lambda: build_assistant(settings, engine, saver)
                yield
        finally:
            engine.dispose()

    app = FastAPI(
        title="Concierge",
        description="Agentic banking assistant: a customer's own data, decisions and chat.",
        version=_version(),
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(customers.router)
    app.include_router(chat.router)
    return app


app = create_app()
