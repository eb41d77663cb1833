"""The composition root: every adapter the settings choose, built in one place.

The web app's lifespan, the CLI, the evaluations and the benchmarks all build what they need
here, so each runs the same code on the same choices: SQLite or PostgreSQL for the system of
record, the in-process bus or Redis Streams for events, the in-process LRU or Redis for
cached vectors and features, an embedded or a server Chroma for the knowledge base, LangGraph's
SQLite or Postgres saver for conversations, and the offline model or any LangChain chat model.
Everything else receives what it needs through its arguments (typed by the ports: ``EventBus``,
``FeatureStore``, the ``tools.bank`` Protocols); tests pass the in-memory fakes instead.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from agents.assistant import Assistant
from services.db import create_schema, make_engine
from services.events import EventBus
from services.features.store import FeatureStore, MemoryFeatureStore
from services.insights.cache import InsightCache
from services.settings import Settings

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langgraph.checkpoint.base import BaseCheckpointSaver

    from knowledge.index import KnowledgeBase
    from services.recommendations.recommender import Recommender

log = logging.getLogger(__name__)


def open_engine(settings: Settings, *, verify: bool = True) -> Engine:
    """An engine on the configured database, with every table in place.

    Args:
        settings: Where the database is (``resolved_database_url``).
        verify: Refuse tables made by an older Concierge (``SchemaMismatch``); off when the
            caller is about to drop them.

    Returns:
        A ready engine; the caller disposes of it.
    """
    engine = make_engine(settings.resolved_database_url)
    try:
        create_schema(engine, verify=verify)
    except BaseException:
        engine.dispose()
        raise
    return engine


def purge_expired_keys(engine: Engine, settings: Settings) -> int:
    """Drop idempotency keys older than the retention window; how many went.

    A database that cannot be reached is logged and left for the next start (0).
    """
    from services.banking.retention import purge_write_requests

    retention = timedelta(hours=settings.idempotency_retention_hours)
    try:
        with engine.begin() as conn:
            gone = purge_write_requests(conn, now=datetime.now(UTC), retention=retention)
    except SQLAlchemyError:
        log.warning("could not purge expired idempotency keys at start-up", exc_info=True)
        return 0
    if gone:
        log.info("purged %d idempotency keys older than %s", gone, retention)
    return gone


def event_bus(settings: Settings) -> EventBus:
    """The bus the settings choose: in-process by default, Redis Streams when configured.

    When Redis is configured but does not answer, the in-process bus is used with a warning:
    the app keeps serving, though events then reach this process's consumers only.

    Raises:
        ValueError: when the Redis bus is chosen without a ``CONCIERGE_REDIS_URL``.
    """
    if settings.event_bus == "redis":
        if not settings.redis_url:
            raise ValueError("CONCIERGE_EVENT_BUS=redis needs CONCIERGE_REDIS_URL")
        from services.events.redis_streams import RedisStreamBus, connect_or_fallback

        client = connect_or_fallback(settings.redis_url, fallback="the in-process event bus")
        if client is not None:
            return RedisStreamBus(client)
    from services.events.in_process import InProcessBus

    return InProcessBus()


def feature_store(settings: Settings) -> FeatureStore:
    """Live features in Redis when ``CONCIERGE_CACHE_URL`` answers, else in this process."""
    if settings.cache_url:
        from services.events.redis_streams import connect_or_fallback
        from services.features.redis_store import RedisFeatureStore

        client = connect_or_fallback(settings.cache_url, fallback="the in-process feature store")
        if client is not None:
            return RedisFeatureStore(client)
    return MemoryFeatureStore()


def make_recommender(
    engine: Engine, insights: InsightCache, cache_url: str | None = None
) -> Recommender:
    """The recommender over ``engine``: vectors in Redis at ``cache_url``, else in-process.

    It shares ``insights`` with the conversation's context, so a cold customer runs the
    detectors once for both.
    """
    from services.recommendations import default_catalog
    from services.recommendations.recommender import (
        Recommender,
        loader_from_engine,
        make_vector_store,
    )

    return Recommender(
        make_vector_store(cache_url),
        load=loader_from_engine(engine, insights.insights),
        catalog=default_catalog(),
    )


def knowledge_base(settings: Settings) -> KnowledgeBase:
    """The help articles' index: embedded Chroma under ``var/``, or the configured server.

    Its search ranks with the question model, learnt from the articles' phrasings and the
    bank's question log (``CONCIERGE_KNOWLEDGE_QUESTIONS``) and kept under ``var/knowledge``.
    """
    from knowledge.index import KnowledgeBase, make_client

    return KnowledgeBase(
        make_client(var_dir=settings.var_dir, chroma_url=settings.chroma_url),
        var_dir=settings.var_dir,
        question_log=settings.knowledge_questions,
    )


CHECKPOINT_SETUP_LOCK = 0x636B7074  # a PostgreSQL advisory lock key: "ckpt"


@contextmanager
def checkpointer(settings: Settings) -> Iterator[BaseCheckpointSaver[Any]]:
    """LangGraph's Postgres saver on PostgreSQL, else its SQLite saver under ``var/``.

    Conversations live beside the system of record, so any process or replica can continue
    any conversation.
    """
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() == "postgresql":
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg import Connection
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool

        plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
        # a pool, not one connection: concurrent conversations checkpoint side by side
        pool: ConnectionPool[Connection[dict[str, Any]]]
        with ConnectionPool(
            plain,
            connection_class=Connection[dict[str, Any]],
            min_size=1,
            max_size=10,
            kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
        ) as pool:
            saver = PostgresSaver(pool)
            # processes starting together would each run the saver's migrations: one at a time
            with pool.connection() as conn:
                # polled, not waited on in a statement: the migrations' CREATE INDEX
                # CONCURRENTLY waits for every running statement, a blocked lock call included
                while not (
                    conn.execute(
                        "SELECT pg_try_advisory_lock(%s) AS got", (CHECKPOINT_SETUP_LOCK,)
                    ).fetchone()
                    or {}
                ).get("got"):
                    time.sleep(0.1)
                try:
                    saver.setup()
                finally:
                    conn.execute("SELECT pg_advisory_unlock(%s)", (CHECKPOINT_SETUP_LOCK,))
            yield saver
        return
    from langgraph.checkpoint.sqlite import SqliteSaver

    settings.var_dir.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(settings.var_dir / "checkpoints.db", check_same_thread=False)
    # WAL with NORMAL sync: a commit survives the process dying (the restart case), without
    # an fsync per checkpoint; the ledger lives in its own database with its own settings
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    try:
        yield SqliteSaver(db)
    finally:
        db.close()


def chat_model(settings: Settings, *, shared: bool = True) -> BaseChatModel:
    """The chat model ``CONCIERGE_LLM`` names (the offline model by default).

    ``shared``: one intent classifier for every conversation of the process, so concurrent
    turns share encoder passes (micro-batched).
    """
    from agents.llm import make_chat_model
    from agents.offline.batching import BatchingClassifier
    from agents.offline.classifier import default_classifier

    def classifier() -> Any:
        found = default_classifier(
            settings.var_dir, model=settings.nlu_model, examples=settings.nlu_examples
        )
        return BatchingClassifier(found) if shared else found

    return make_chat_model(settings.llm, classifier=classifier)


def build_assistant(
    settings: Settings,
    engine: Engine,
    saver: Any,
    *,
    recommender: Recommender | None = None,
    insights: InsightCache | None = None,
) -> Assistant:
    """The assistant over ``engine``, checkpointing into ``saver``.

    ``recommender`` and ``insights`` are the app's own when it shares them with its REST
    routes; built here otherwise. Installs the runtime patches (once per process).
    """
    from agents import runtime_patches
    from agents.customer import ContextCache, customer_context
    from agents.graph import compile_graph
    from services.fresh_cache import FreshCache
    from tools.bank import Bank
    from tools.registry import all_tools

    runtime_patches.install()
    if saver is not None:
        runtime_patches.prepare_saver(saver)
    model = chat_model(settings)
    insights = insights if insights is not None else InsightCache()
    bank = Bank(
        engine,
        knowledge=knowledge_base(settings),
        recommender=recommender
        if recommender is not None
        else make_recommender(engine, insights, settings.cache_url),
        insights=insights,
        contexts=ContextCache(),
        names=FreshCache(),
    )

    def summarise(person_id: int, now: datetime, messages: list[Any]) -> str:
        from agents.summaries import build_summary

        found = build_summary(bank, person_id=person_id, now=now, conversations={"chat": messages})
        return found.text()

    bank.summarise = summarise
    graph = compile_graph(
        model=model, tools=all_tools(), customer_context=customer_context, checkpointer=saver
    )
    return Assistant(graph, bank, classifier=getattr(model, "classifier", None))


def make_graph(config: dict[str, Any] | None = None) -> Any:
    """The graph on the configured model, for LangGraph's own tooling (``langgraph.json``).

    LangGraph's server supplies its own checkpointer, so this compiles without one.
    """
    from agents.customer import customer_context
    from agents.graph import build
    from services.settings import get_settings
    from tools.registry import all_tools

    model = chat_model(get_settings(), shared=False)
    return build(model=model, tools=all_tools(), customer_context=customer_context).compile()
