"""The assistant, wired once: chat model, tools, the bank behind them, and the checkpointer.

Shared by the terminal chat (``concierge chat``) and the web app. Conversations are checkpointed
in LangGraph's SQLite saver under ``var/`` by default and in its Postgres saver when the system
of record is PostgreSQL, so any process — or replica — can continue any conversation.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from agents.context import CustomerContext
from agents.customer import ContextCache, customer_context
from agents.graph import compile_graph
from agents.llm import make_chat_model
from services.settings import Settings
from tools.bank import Bank
from tools.registry import all_tools
from tools.runtime import ChatContext


@dataclass
class Assistant:
    """A compiled graph and the bank its tools act on."""

    graph: Any
    bank: Bank

    def context(self, person_id: int, now: datetime | None = None) -> ChatContext:
        """The run context for the signed-in ``person_id``."""
        return ChatContext(person_id=person_id, bank=self.bank, now=now or datetime.now(UTC))

    def prepare(self, person_id: int, now: datetime | None = None) -> CustomerContext:
        """Read ``person_id``'s context ahead of their first message (warms every cache).

        Called when a customer opens the chat, as the customer page's dashboard reads their
        insights when it loads: the first turn then finds the context, the insights and the
        next best action ready instead of computing them while the customer waits.
        """
        return customer_context(self.context(person_id, now))

    def run(
        self, thread_id: str, person_id: int, payload: Any, now: datetime | None = None
    ) -> dict[str, Any]:
        """One run of the graph on ``thread_id`` for ``person_id``.

        The checkpoint is written when the run ends or waits for approval ("exit"
        durability), not after every step: a process killed mid-run resumes from the turn
        before, and a write it had begun replays by its idempotency key instead of running
        twice.
        """
        config = {"configurable": {"thread_id": thread_id}}
        context = self.context(person_id, now)
        return dict(self.graph.invoke(payload, config, context=context, durability="exit"))


def _knowledge(settings: Settings) -> Any:
    from knowledge.index import KnowledgeBase, make_client

    return KnowledgeBase(make_client(var_dir=settings.var_dir, chroma_url=settings.chroma_url))


def make_recommender(engine: Engine, insights: Any, cache_url: str | None = None) -> Any:
    """The recommender over ``engine``: vectors in Redis at ``cache_url``, else in-process.

    It shares ``insights`` (an ``InsightCache``) with the conversation's context, so a cold
    customer runs the detectors once for both.
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


@contextmanager
def checkpointer(settings: Settings) -> Iterator[Any]:
    """LangGraph's Postgres saver on PostgreSQL, else its SQLite saver under ``var/``."""
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
            saver.setup()
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


def build_assistant(
    settings: Settings,
    engine: Engine,
    saver: Any,
    *,
    recommender: Any = None,
    insights: Any = None,
) -> Assistant:
    """The assistant over ``engine``, checkpointing into ``saver``.

    ``recommender`` and ``insights`` (an ``InsightCache``) are the app's own when it shares
    them with its REST routes; built here otherwise.
    """
    from agents.offline.batching import BatchingClassifier
    from agents.offline.classifier import default_classifier

    # one model for every conversation of the process: concurrent turns share encoder passes
    model = make_chat_model(
        settings.llm,
        classifier=lambda: BatchingClassifier(
            default_classifier(settings.var_dir, model=settings.nlu_model)
        ),
    )
    from services.fresh_cache import FreshCache
    from services.insights.cache import InsightCache

    insights = insights if insights is not None else InsightCache()
    bank = Bank(
        engine,
        knowledge=_knowledge(settings),
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
    return Assistant(graph, bank)
