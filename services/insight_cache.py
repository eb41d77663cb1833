"""Insights remembered between a customer's chat turns, until their records change.

Running every detector costs a few milliseconds of queries and arithmetic per customer, and a
conversation asks for them on every turn. :class:`InsightCache` keeps the last result per
customer and serves it while (a) the newest ledger entry and digital event of the customer are
the ones it was computed from — any booking, transfer or event makes a fresh one — and (b) the
clock has moved less than ``max_age_s`` and not past midnight (detectors look at windows of
days, and holdings or settings can change without a booking).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select
from sqlmodel import SQLModel

from services.insight_detectors import detect_all
from services.insight_history import History, load_history
from services.insights import Insight


@dataclass(frozen=True)
class _Kept:
    mark: tuple[int, int]
    now: datetime
    found: tuple[Insight, ...]


def watermark(conn: Connection, *, person_id: int) -> tuple[int, int]:
    """The ids of the customer's newest ledger entry and digital event (0 when none)."""
    tables = SQLModel.metadata.tables
    ledger, events = tables["ledger_entry"], tables["digital_event"]
    newest_entry = conn.execute(
        select(func.max(ledger.c.id)).where(ledger.c.person_id == person_id)
    ).scalar()
    newest_event = conn.execute(
        select(func.max(events.c.id)).where(events.c.person_id == person_id)
    ).scalar()
    return int(newest_entry or 0), int(newest_event or 0)


def revision(conn: Connection, *, person_id: int) -> tuple[int, int, int, int]:
    """:func:`watermark`, the customer's newest executed write, and whether they exist.

    One statement. Every write a customer asks for (a transfer, a card frozen, a goal made, a
    payment scheduled) leaves a ``write_request`` row, and every booking a ledger entry, so the
    tuple changes whenever anything a conversation shows of the customer does; the last part
    (their id, or 0) changes when the customer is erased.
    """
    tables = SQLModel.metadata.tables
    ledger, events = tables["ledger_entry"], tables["digital_event"]
    writes, people = tables["write_request"], tables["person"]
    row = conn.execute(
        select(
            select(func.max(ledger.c.id)).where(ledger.c.person_id == person_id).scalar_subquery(),
            select(func.max(events.c.id)).where(events.c.person_id == person_id).scalar_subquery(),
            select(func.max(writes.c.id)).where(writes.c.person_id == person_id).scalar_subquery(),
            select(people.c.id).where(people.c.id == person_id).scalar_subquery(),
        )
    ).one()
    return int(row[0] or 0), int(row[1] or 0), int(row[2] or 0), int(row[3] or 0)


class InsightCache:
    """The detectors' findings per customer, recomputed only when something changed.

    The history they were computed from is kept too, so a recomputation after a booking
    reads only the new ledger entries (:func:`~services.insight_history.load_history`).
    """

    def __init__(
        self, *, max_age_s: float = 60.0, size: int = 10_000, histories: int = 500
    ) -> None:
        self.max_age_s, self.size, self.histories = max_age_s, size, histories
        self._kept: OrderedDict[int, _Kept] = OrderedDict()
        # a history is a year of ledger lines: kept for the most recently seen customers only
        self._history: OrderedDict[int, tuple[tuple[int, int], History]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def insights(self, conn: Connection, *, person_id: int, now: datetime) -> list[Insight]:
        """``insights_for(conn, person_id, now)``, from memory when still valid."""
        mark = watermark(conn, person_id=person_id)
        with self._lock:
            kept = self._kept.get(person_id)
            if kept is not None and self._fresh(kept, mark, now):
                self._kept.move_to_end(person_id)
                self.hits += 1
                return list(kept.found)
        # a booking or an event since: read only the new ledger entries (the ledger is
        # append-only; a smaller newest id means records were erased, so read everything)
        with self._lock:
            had = self._history.get(person_id)
        previous = had[1] if had is not None and mark[0] >= had[0][0] else None
        history = load_history(conn, person_id=person_id, now=now, previous=previous)
        found = detect_all(history, now)
        with self._lock:
            self.misses += 1
            self._history[person_id] = (mark, history)
            self._history.move_to_end(person_id)
            while len(self._history) > self.histories:
                self._history.popitem(last=False)
            self._kept[person_id] = _Kept(mark, now, tuple(found))
            self._kept.move_to_end(person_id)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)
        return found

    def forget(self, person_id: int) -> None:
        """Drop what is kept for ``person_id`` (e.g. after a change that books nothing)."""
        with self._lock:
            self._kept.pop(person_id, None)
            self._history.pop(person_id, None)

    def _fresh(self, kept: _Kept, mark: tuple[int, int], now: datetime) -> bool:
        age = (now - kept.now).total_seconds()
        return kept.mark == mark and 0 <= age <= self.max_age_s and now.date() == kept.now.date()
