"""The bank behind the tools: the database, the knowledge base and the recommender, wired once.

The composition root (``app.bootstrap``) builds one ``Bank`` and passes it in every run's
context; tools take the customer from that context, never from their arguments. What the bank
holds besides the engine is typed by the Protocols below (the ports): the real adapters satisfy
them, and tests pass simpler fakes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Engine


class KnowledgeSearch(Protocol):
    """The bank's help articles, searched (``knowledge.index.KnowledgeBase``)."""

    def search(self, query: str, *, k: int = 3) -> Sequence[Any]:
        """The ``k`` best passages for ``query``, best first."""
        ...


class Recommends(Protocol):
    """Next best actions (``services.recommendations.recommender.Recommender``)."""

    def decide(
        self, person_id: int, *, now: datetime, level: str, k: int = 3, channel: str | None = None
    ) -> Sequence[Any]:
        """The customer's best ``k`` recommendations now, with their reasons."""
        ...

    def respond(
        self,
        conn: Connection,
        *,
        person_id: int,
        offer_code: str,
        channel: str,
        response: str,
        at: datetime,
    ) -> int:
        """Record the customer's answer to an offer."""
        ...

    def invalidate(self, person_id: int) -> None:
        """Forget what is cached for the customer (their records changed)."""
        ...


class InsightSource(Protocol):
    """The customer's insights (``services.insights.cache.InsightCache``)."""

    def insights(self, conn: Connection, *, person_id: int, now: datetime) -> Sequence[Any]:
        """What the detectors find in the customer's history now."""
        ...


class RevisionCache(Protocol):
    """Values kept per customer while their records' revision holds (``FreshCache``)."""

    def get(self, person_id: int, mark: tuple[int, ...], now: datetime) -> Any | None:
        """The value kept for ``person_id`` at revision ``mark``, or None."""
        ...

    def put(self, person_id: int, mark: tuple[int, ...], now: datetime, value: Any) -> None:
        """Keep ``value`` for ``person_id`` at revision ``mark``."""
        ...


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
    knowledge: KnowledgeSearch | None = None
    recommender: Recommends | None = None
    level: str = "predictive"
    summarise: Callable[[int, datetime, list[Any]], str] | None = None
    insights: InsightSource | None = None
    contexts: Any = None  # an ``agents.customer.ContextCache`` (a RevisionCache of contexts)
    names: RevisionCache | None = None

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
