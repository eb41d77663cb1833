"""Per-customer values kept in memory while the customer's records are unchanged.

A value is served while (a) the *mark* it was computed at — a tuple read cheaply from the
database, such as the newest ledger entry and event ids — is still the customer's mark, and (b)
it is at most ``max_age_s`` old and from the same day (detectors and contexts look at windows of
days, and some changes book nothing). Least recently used entries go beyond ``size``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime
from typing import Generic, TypeVar

V = TypeVar("V")


class FreshCache(Generic[V]):
    """``get``/``put`` per customer id, under the freshness rule above; thread-safe."""

    def __init__(self, *, max_age_s: float = 60.0, size: int = 10_000) -> None:
        self.max_age_s, self.size = max_age_s, size
        self._kept: OrderedDict[int, tuple[tuple[int, ...], datetime, V]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, person_id: int, mark: tuple[int, ...], now: datetime) -> V | None:
        """The value kept for ``person_id`` if it was computed at ``mark`` and is still fresh."""
        with self._lock:
            kept = self._kept.get(person_id)
            if kept is not None:
                age = (now - kept[1]).total_seconds()
                if kept[0] == mark and 0 <= age <= self.max_age_s and now.date() == kept[1].date():
                    self._kept.move_to_end(person_id)
                    self.hits += 1
                    return kept[2]
            self.misses += 1
            return None

    def put(self, person_id: int, mark: tuple[int, ...], now: datetime, value: V) -> None:
        """Keep ``value``, computed at ``mark`` and ``now``."""
        with self._lock:
            self._kept[person_id] = (mark, now, value)
            self._kept.move_to_end(person_id)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)

    def forget(self, person_id: int) -> None:
        """Drop what is kept for ``person_id``."""
        with self._lock:
            self._kept.pop(person_id, None)
