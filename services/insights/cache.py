"""Insights remembered between a customer's chat turns, until their records change.

Running every detector costs a few milliseconds of queries and arithmetic per customer, and a
conversation asks for them on every turn. :class:`InsightCache` keeps the last result per
customer and serves it while (a) the newest ledger entry and digital event of the customer are
the ones it was computed from — any booking, transfer or event makes a fresh one — and (b) the
clock has moved less than ``max_age_s`` and not past midnight (detectors look at windows of
days, and holdings or settings can change without a booking).
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, Integer, bindparam, func, select
from sqlmodel import SQLModel

from services.fresh_cache import FreshCache
from services.insights import Insight
from services.insights.detectors import detect_all
from services.insights.history import History, load_history


@cache
def _statements() -> tuple[Any, Any]:
    """The watermark and revision statements, built once (the tables are declared by then).

    They run before every turn, and building a SQLAlchemy statement costs more than SQLite
    takes to answer it.
    """
    tables = SQLModel.metadata.tables
    ledger, events = tables["ledger_entry"], tables["digital_event"]
    writes, people = tables["write_request"], tables["person"]
    who = bindparam("person_id", type_=Integer)
    newest_entry = select(func.max(ledger.c.id)).where(ledger.c.person_id == who)
    newest_event = select(func.max(events.c.id)).where(events.c.person_id == who)
    newest_write = select(func.max(writes.c.id)).where(writes.c.person_id == who)
    exists = select(people.c.id).where(people.c.id == who)
    marks = [newest_entry, newest_event]
    return (
        select(*(q.scalar_subquery() for q in marks)),
        select(*(q.scalar_subquery() for q in [*marks, newest_write, exists])),
    )


def watermark(conn: Connection, *, person_id: int) -> tuple[int, int]:
    """The ids of the customer's newest ledger entry and digital event (0 when none)."""
    row = conn.execute(_statements()[0], {"person_id": int(person_id)}).one()
    return int(row[0] or 0), int(row[1] or 0)


def revision(conn: Connection, *, person_id: int) -> tuple[int, int, int, int]:
    """:func:`watermark`, the customer's newest executed write, and whether they exist.

    One statement. Every write a customer asks for (a transfer, a card frozen, a goal made, a
    payment scheduled) leaves a ``write_request`` row, and every booking a ledger entry, so the
    tuple changes whenever anything a conversation shows of the customer does; the last part
    (their id, or 0) changes when the customer is erased.
    """
    row = conn.execute(_statements()[1], {"person_id": int(person_id)}).one()
    return int(row[0] or 0), int(row[1] or 0), int(row[2] or 0), int(row[3] or 0)


class InsightCache(FreshCache[tuple[Insight, ...]]):
    """The detectors' findings per customer, recomputed only when something changed.

    The history they were computed from is kept too (for the last ``histories`` customers),
    so a recomputation after a booking reads only the new ledger entries
    (:func:`~services.insights.history.load_history`).
    """

    def __init__(
        self, *, max_age_s: float = 60.0, size: int = 10_000, histories: int = 500
    ) -> None:
        super().__init__(max_age_s=max_age_s, size=size)
        self.histories = histories
        # a history is a year of ledger lines: kept for the most recently seen customers only
        self._history: OrderedDict[int, tuple[tuple[int, int], History]] = OrderedDict()

    def insights(self, conn: Connection, *, person_id: int, now: datetime) -> list[Insight]:
        """``insights_for(conn, person_id, now)``, from memory when still valid."""
        mark = watermark(conn, person_id=person_id)
        kept = self.get(person_id, mark, now)
        if kept is not None:
            return list(kept)
        # a booking or an event since: read only the new ledger entries and events (both are
        # append-only; a smaller newest id means records were erased, so read everything)
        with self._lock:
            had = self._history.get(person_id)
        fits = had is not None and mark[0] >= had[0][0] and mark[1] >= had[0][1]
        previous = had[1] if had is not None and fits else None
        history = load_history(conn, person_id=person_id, now=now, previous=previous)
        found = detect_all(history, now)
        with self._lock:
            self._history[person_id] = (mark, history)
            self._history.move_to_end(person_id)
            while len(self._history) > self.histories:
                self._history.popitem(last=False)
        self.put(person_id, mark, now, tuple(found))
        return found

    def forget(self, person_id: int) -> None:
        """Drop what is kept for ``person_id`` (e.g. after a change that books nothing)."""
        super().forget(person_id)
        with self._lock:
            self._history.pop(person_id, None)
