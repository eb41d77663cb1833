"""Where each person's feature state lives, and the consumer that feeds it from the event bus.

``MemoryFeatureStore`` keeps states in a dict (embedded default, tests); ``RedisFeatureStore``
(``services/features/redis_store.py``) keeps one Redis hash per person so that many consumers and
app replicas share it. Both apply an event atomically and at most once: the event id is
recorded in the same step as the counters and registers change.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from services.events import Event, EventBus, run_consumer
from services.features.incremental import FeatureState, apply_changes, changes, features, prune


class FeatureStore(Protocol):
    """Holds feature states; applying is atomic and idempotent per event id."""

    def apply(self, event: Event) -> bool:
        """Apply one event; False when it had been applied already."""
        ...

    def apply_many(self, events: Sequence[Event]) -> int:
        """Apply a batch (each event atomically); returns how many were new."""
        ...

    def features(self, person_id: int, now: datetime | None = None) -> dict[str, Any] | None:
        """The person's features at ``now`` (default: the current time); None if unknown."""
        ...

    def state(self, person_id: int) -> FeatureState | None:
        """A copy of the person's raw state; None if unknown."""
        ...

    def prune(self, person_id: int, now: datetime) -> int:
        """Drop the person's buckets beyond the horizon; returns how many entries went."""
        ...


class MemoryFeatureStore:
    """Feature states in a dict, guarded by one lock (cheap: an apply takes microseconds)."""

    def __init__(self) -> None:
        self._states: dict[int, FeatureState] = {}
        self._lock = threading.Lock()

    def apply(self, event: Event) -> bool:
        """Apply one event; False when it had been applied already."""
        return self.apply_many((event,)) == 1

    def apply_many(self, events: Sequence[Event]) -> int:
        """Apply a batch; returns how many events were new."""
        work = [(event.person_id, changes(event)) for event in events]  # pure: outside the lock
        applied = 0
        with self._lock:
            for person_id, change in work:
                state = self._states.get(person_id)
                if state is None:
                    state = self._states[person_id] = FeatureState()
                applied += apply_changes(state, change)
        return applied

    def features(self, person_id: int, now: datetime | None = None) -> dict[str, Any] | None:
        """The person's features at ``now``; None if no event of theirs was applied."""
        with self._lock:
            state = self._states.get(person_id)
            return None if state is None else features(state, now or datetime.now(UTC))

    def state(self, person_id: int) -> FeatureState | None:
        """A copy of the person's raw state."""
        with self._lock:
            state = self._states.get(person_id)
            if state is None:
                return None
            return FeatureState(dict(state.counters), dict(state.registers), dict(state.applied))

    def prune(self, person_id: int, now: datetime) -> int:
        """Drop the person's buckets beyond the horizon."""
        with self._lock:
            state = self._states.get(person_id)
            return 0 if state is None else prune(state, now)

    def people(self) -> list[int]:
        """Everyone with a state."""
        with self._lock:
            return list(self._states)


class ProfileConsumer:
    """Feeds the feature store from the bus; an event is acknowledged after the store applied it.

    Args:
        bus: where events come from.
        store: where feature states go.
        group: the consumer group; every replica of this consumer uses the same one.
        consumer: this consumer's name within the group (default: host and process id).
        count: most events per batch.
        block_ms: how long one poll waits for events.
    """

    def __init__(
        self,
        bus: EventBus,
        store: FeatureStore,
        *,
        group: str = "profiles",
        consumer: str | None = None,
        count: int = 200,
        block_ms: int = 100,
    ) -> None:
        self.bus = bus
        self.store = store
        self.group = group
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}"
        self.count = count
        self.block_ms = block_ms
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def handle(self, events: Sequence[Event]) -> None:
        """Apply a batch; raising leaves it unacknowledged, and re-applying is harmless."""
        self.store.apply_many(events)

    def poll(self) -> int:
        """Process at most one batch; returns how many events were acknowledged."""
        return self.bus.consume(
            self.group, self.consumer, self.handle, count=self.count, block_ms=self.block_ms
        )

    def start(self) -> threading.Thread:
        """Consume in a daemon thread until :meth:`stop`."""
        self._stop.clear()
        self._thread = threading.Thread(
            target=run_consumer,
            args=(self.bus, self.group, self.consumer, self.handle),
            kwargs={"stop": self._stop, "count": self.count, "block_ms": self.block_ms},
            name=f"profile-consumer-{self.consumer}",
            daemon=True,
        )
        self._thread.start()
        return self._thread

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the thread to finish its batch and wait for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
