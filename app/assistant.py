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

from agents.customer import customer_context
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

    def run(
        self, thread_id: str, person_id: int, payload: Any, now: datetime | None = None
    ) -> dict[str, Any]:
        """One run of the graph on ``thread_id`` for ``person_id``."""
        config = {"configurable": {"thread_id": thread_id}}
        return dict(self.graph.invoke(payload, config, context=self.context(person_id, now)))


def _knowledge(settings: Settings) -> Any:
    from knowledge.index import KnowledgeBase, make_client

    return KnowledgeBase(make_client(var_dir=settings.var_dir, chroma_url=settings.chroma_url))


def _recommender(engine: Engine) -> Any:
    from services.insight_detectors import insights_for
    from services.recommendations import default_catalog
    from services.recommendations.cache import LruVectorStore, Recommender, loader_from_engine

    return Recommender(
        LruVectorStore(), load=loader_from_engine(engine, insights_for), catalog=default_catalog()
    )


@contextmanager
def checkpointer(settings: Settings) -> Iterator[Any]:
    """LangGraph's Postgres saver on PostgreSQL, else its SQLite saver under ``var/``."""
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() == "postgresql":
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg import Connection
        from psycopg.rows import dict_row

        plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
        with Connection.connect(
            plain, autocommit=True, prepare_threshold=0, row_factory=dict_row
        ) as conn:
            saver = PostgresSaver(conn)
            saver.setup()
            yield saver
        return
    from langgraph.checkpoint.sqlite import SqliteSaver

    settings.var_dir.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(settings.var_dir / "checkpoints.db", check_same_thread=False)
    try:
        yield SqliteSaver(db)
    finally:
        db.close()


def build_assistant(settings: Settings, engine: Engine, saver: Any) -> Assistant:
    """The assistant over ``engine``, checkpointing into ``saver``."""
    from agents.classifier import default_classifier

    model = make_chat_model(
        settings.llm,
        classifier=lambda: default_classifier(settings.var_dir, model=settings.nlu_model),
    )
    bank = Bank(engine, knowledge=_knowledge(settings), recommender=_recommender(engine))

    def summarise(person_id: int, now: datetime, messages: list[Any]) -> str:
        from agents.summaries import build_summary

        found = build_summary(bank, person_id=person_id, now=now, conversations={"chat": messages})
        return found.text()

    bank.summarise = summarise
    graph = compile_graph(
        model=model, tools=all_tools(), customer_context=customer_context, checkpointer=saver
    )
    return Assistant(graph, bank)
