"""The FastAPI application.

``create_app`` is cheap and touches nothing outside the process; the ``lifespan`` opens the
database, the checkpointer, the event bus, the feature store and the recommender when the
server starts (each built by the composition root, :mod:`app.bootstrap`), starts the live
consumer that applies events (``services.features.live``) and the warm start that loads the
assistant and the knowledge index in the background (:mod:`app.warmup`), and closes them all
when it stops.
``app`` is what ``uvicorn app.main:app`` (and ``concierge serve``) runs.

The REST routes and the chat share one recommender, so an answer given in either place (and
every applied event) is seen by both at once.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from agents.assistant import Assistant
from app import bootstrap
from app.api import (
    advice,
    advisor,
    auth,
    cases,
    chat,
    customers,
    dashboard,
    events,
    health,
    inbox,
    metrics,
    pages,
    transactions,
)
from app.api import live as live_chat
from app.chat_threads import ChatThreads
from app.heap import freeze_heap
from app.live import make_hub
from app.logging_setup import install as install_log_masking
from app.notify import Notifications
from app.warmup import WarmUp, app_parts
from services.events import Event
from services.features.live import LiveUpdates
from services.insights.cache import InsightCache
from services.recommendations.recommender import Recommender
from services.settings import Settings, get_settings

log = logging.getLogger(__name__)
DB_UNAVAILABLE = (
    "The bank's records are unavailable for a moment; nothing was changed. Please try again."
)


def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    # A lost connection (a database restart) or an exhausted pool: the request's transaction
    # was rolled back, the pool drops the dead connection (and pre-pings the others), and
    # a retry -- with the same idempotency key for a write -- is safe.
    log.warning("database unavailable during %s %s: %s", request.method, request.url.path, exc)
    return JSONResponse(
        status_code=503,
        content={"detail": DB_UNAVAILABLE, "code": "database_unavailable"},
        headers={"Retry-After": "1"},
    )


def _version() -> str:
    try:
        return version("concierge")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "0.0.0"


def _refresh(recommender: Recommender) -> Any:
    # Events are booked into the record first, so a rebuild from it is exact (and catches new
    # insights, which folding a delta into the cached vector would not).
    def handle(batch: Any) -> None:
        for person_id in {event.person_id for event in batch if isinstance(event, Event)}:
            recommender.invalidate(person_id)

    return handle


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the web app.

    Args:
        settings: Configuration; read from the environment when omitted.

    Returns:
        The app, not yet started: its lifespan opens the database.
    """
    settings = settings if settings is not None else get_settings()
    install_log_masking()  # before anything logs: no personal data in any log line

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = bootstrap.open_engine(settings)
        bus = bootstrap.event_bus(settings)
        live: LiveUpdates | None = None
        notify: Notifications | None = None
        # announcements between customers' chats and advisors' consoles, across processes
        app.state.live_hub = make_hub(settings.redis_url)
        warm_up: WarmUp | None = None
        # chat turns run here, a few at a time (see Settings.chat_threads), turns first
        app.state.chat_executor = ChatThreads(settings.chat_threads)
        try:
            app.state.engine = engine
            app.state.secret_key = settings.resolved_secret_key()
            bootstrap.purge_expired_keys(engine, settings)
            # one insight cache and one recommender for chat and REST alike
            insights = app.state.insights = InsightCache()
            recommender = app.state.recommender = bootstrap.make_recommender(
                engine, insights, settings.cache_url
            )
            app.state.event_bus = bus
            store = app.state.feature_store = bootstrap.feature_store(settings)
            notify = app.state.notifications = Notifications(
                settings, engine, recommender.catalog, app.state.live_hub
            )
            live = app.state.live_updates = LiveUpdates(
                bus, engine, store, handlers=[_refresh(recommender), notify.notifier.on_events]
            )
            live.start()
            await notify.start()
            with bootstrap.checkpointer(settings) as saver:
                app.state.saver = saver

                def assistant() -> Assistant:
                    return bootstrap.build_assistant(
                        settings, engine, saver, recommender=recommender, insights=insights
                    )

                # built by the warm start in the background (training the intent model the
                # first time takes seconds), else on the first chat; REST never waits for it
                app.state.assistant_factory = assistant
                if settings.warm_start:
                    warm_up = app.state.warm_up = WarmUp(app_parts(app))
                    warm_up.start()
                freeze_heap()  # what start-up loaded stays: out of the collector's way
                yield
        finally:
            if warm_up is not None:
                warm_up.stop()
            if notify is not None:
                await notify.stop()
            if live is not None:
                live.stop()
            app.state.chat_executor.shutdown(wait=True, cancel_futures=True)
            bus.close()
            await app.state.live_hub.close()
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
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(PoolTimeout, _database_unavailable)
    app.state.metrics = metrics.Metrics(app)
    app.add_middleware(metrics.RequestMetrics)
    for api in (health, metrics, auth, customers, transactions, dashboard, advice, inbox, events):
        app.include_router(api.router)
    app.include_router(advisor.router)
    app.include_router(cases.router)
    app.include_router(live_chat.router)
    app.include_router(live_chat.socket_router)
    app.include_router(chat.router)
    app.include_router(pages.router)
    app.mount("/static", pages.static_files(), name="static")
    return app


app = create_app()
