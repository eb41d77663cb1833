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
        recommender: A ``services.recommendations.cache.Recommender``, or None.
        level: The decision level for recommendations.
        summarise: ``(person_id, now, messages) -> str``, the advisor's context summary a
            handoff carries (``agents.summaries``, injected by the composition root).
    """

    engine: Engine
    knowledge: Any = None
    recommender: Any = None
    level: str = "predictive"
    summarise: Callable[[int, datetime, list[Any]], str] | None = None

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
