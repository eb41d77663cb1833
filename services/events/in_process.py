"""The embedded event bus: an in-process log with consumer groups, for one process and tests.

It mirrors Redis Streams on purpose so that code and tests behave the same on both adapters:
a group starts at the oldest retained event, hands each event to one of its consumers, keeps it
pending until acknowledged, and lets any consumer claim entries pending longer than
``claim_idle_ms``. Events every group has acknowledged are dropped, and the log never holds
more than ``maxlen`` events. Nothing survives the process: durability needs the Redis bus.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from services.events import Event, Handler, deliver


@dataclass
class _Pending:
    consumer: str
    since: float
    deliveries: int = 1


@dataclass
class _Group:
    cursor: int  # sequence number of the next event never handed out
    pending: dict[int, _Pending] = field(default_factory=dict)  # ascending sequence numbers


class InProcessBus:
    """A thread-safe in-process event bus with Redis-like consumer groups.

    Args:
        maxlen: most events kept (the oldest go first), like a stream's ``MAXLEN``.
        claim_idle_ms: how long an entry stays with a consumer before others may claim it.
        max_deliveries: deliveries after which a failing event moves to ``dead_letters``.
    """

    def __init__(
        self, *, maxlen: int = 100_000, claim_idle_ms: int = 30_000, max_deliveries: int = 5
    ) -> None:
        self.maxlen = maxlen
        self.claim_idle_ms = claim_idle_ms
        self.max_deliveries = max_deliveries
        self.dead_letters: list[Event] = []
        self._log: deque[Event] = deque()
        self._first = 0  # sequence number of self._log[0]
        self._groups: dict[str, _Group] = {}
        self._cond = threading.Condition()

    def publish(self, event: Event) -> None:
        """Append one event."""
        self.publish_many((event,))

    def publish_many(self, events: Iterable[Event]) -> int:
        """Append events and wake waiting consumers; returns how many."""
        batch = list(events)
        with self._cond:
            self._log.extend(batch)
            self._trim()
            self._cond.notify_all()
        return len(batch)

    def consume(
        self, group: str, consumer: str, handler: Handler, *, count: int = 200, block_ms: int = 100
    ) -> int:
        """Hand one batch to ``handler`` and acknowledge what it finished (see ``EventBus``)."""
        deadline = time.monotonic() + block_ms / 1000
        with self._cond:
            state = self._groups.setdefault(group, _Group(cursor=self._first))
            seqs = self._claim(state, consumer, count) or self._take(state, consumer, count)
            while not seqs and (left := deadline - time.monotonic()) > 0:
                self._cond.wait(left)
                seqs = self._take(state, consumer, count)
            events = [self._log[seq - self._first] for seq in seqs]
        if not events:
            return 0
        done = deliver(handler, events)
        with self._cond:
            for index in done:
                state.pending.pop(seqs[index], None)
        return len(done)

    def pending(self, group: str) -> int:
        """How many events of ``group`` are delivered but not yet acknowledged."""
        with self._cond:
            state = self._groups.get(group)
            return len(state.pending) if state else 0

    def close(self) -> None:
        """Nothing to release; wakes waiting consumers."""
        with self._cond:
            self._cond.notify_all()

    def _take(self, state: _Group, consumer: str, count: int) -> list[int]:
        start = max(state.cursor, self._first)  # events trimmed before delivery are lost
        end = min(start + count, self._first + len(self._log))
        now = time.monotonic()
        for seq in range(start, end):
            state.pending[seq] = _Pending(consumer, now)
        state.cursor = max(state.cursor, end)
        return list(range(start, end))

    def _claim(self, state: _Group, consumer: str, count: int) -> list[int]:
        if not state.pending:
            return []
        now = time.monotonic()
        idle = self.claim_idle_ms / 1000
        claimed: list[int] = []
        for seq, entry in list(state.pending.items()):
            if len(claimed) >= count:
                break
            if now - entry.since < idle:
                continue
            if seq < self._first:  # trimmed away while pending
                del state.pending[seq]
            elif entry.deliveries >= self.max_deliveries:
                self.dead_letters.append(self._log[seq - self._first])
                del state.pending[seq]
            else:
                entry.consumer, entry.since = consumer, now
                entry.deliveries += 1
                claimed.append(seq)
        return claimed

    def _trim(self) -> None:
        # Keep what some group has not acknowledged yet, but never more than maxlen events.
        low = self._first + len(self._log)
        for state in self._groups.values():
            oldest = next(iter(state.pending), state.cursor)
            low = min(low, oldest, state.cursor)
        if not self._groups:
            low = self._first
        low = max(low, self._first + len(self._log) - self.maxlen)
        while self._first < low:
            self._log.popleft()
            self._first += 1
