"""The bank behind the tools: the database, the knowledge base and the recommender, wired once.

The composition root (the app's lifespan, the CLI) builds one ``Bank`` and passes it in every
run's context; tools take the customer from that context, never from their arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine


@dataclass
class Bank:
    """What the tools reach through the run's context.

    Attributes:
        engine: The system of record.
        knowledge: A ``knowledge.index.KnowledgeBase``, or None when not configured.
        recommender: A ``services.recommendations.recommender.Recommender``, or None.
        level: The decision level for recommendations.
        summarise: ``(person_id, now, messages) -> str``, the advisor's context summary a
            handoff carries (``agents.summaries``, injected by the composition root).
        insights: A ``services.insights.cache.InsightCache`` shared by the runs, or None to
            run the detectors afresh every time.
        contexts: An ``agents.customer.ContextCache`` keeping customers' conversation
            contexts between turns, or None to read them afresh every run.
        names: A ``services.fresh_cache.FreshCache`` of the names a confirmation shows for
            a customer's refs (accounts, payees, cards, schedules, goals), kept while their
            ``services.insights.cache.revision`` is unchanged; None reads them every time.
    """

    engine: Engine
    knowledge: Any = None
    recommender: Any = None
    level: str = "predictive"
    summarise: Callable[[int, datetime, list[Any]], str] | None = None
    insights: Any = None
    contexts: Any = None
    names: Any = None

    def insights_of(self, conn: Connection, *, person_id: int, now: datetime) -> list[Any]:
        """The customer's current insights, through the cache when there is one."""
        if self.insights is not None:
            return list(self.insights.insights(conn, person_id=person_id, now=now))
        from services.insights.detectors import insights_for

        return list(insights_for(conn, person_id=person_id, now=now))

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reads."""
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A connection in a transaction: committed on success, rolled back on any error."""
        with self.engine.begin() as conn:
            yield conn
