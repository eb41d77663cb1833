"""Cached feature vectors, fresh decisions: in-process LRU by default, Redis at scale.

Two things are cached. Each customer's feature vector (``to_bytes``, about 1 KB): building
one cold reads the system of record; deciding on a cached one is a pure function, orders of
magnitude cheaper (``concierge bench decisions`` measures both). And each decision made on it
(:mod:`~services.recommendations.decision_cache`), stamped with a digest of the vector it was
made from, the propensity's version and the clock window it holds for (until the next
cool-down end or quiet-hours edge), so a repeat asks the store twice and decides nothing.

Freshness: :meth:`Recommender.on_events` (an event-bus handler) folds each new event into
the cached vector at once (``live.apply_event``), so a paycheck that lands shows in the next
decision; :meth:`Recommender.respond` records an answer and updates the cached offer history,
so a declined offer is not shown again; entries expire after ``ttl_seconds`` and are rebuilt
from the system of record. Concurrent writers use compare-and-set, so no update is lost.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from typing import Any, Protocol

from sqlalchemy import Connection, Engine

from services.events import Event
from services.recommendations.actions import Catalog
from services.recommendations.control import ControlGroup
from services.recommendations.decision_cache import (
    MAX_AGE_S,
    CachedDecision,
    DecisionStore,
    LruDecisionStore,
    decision_key,
    token_of,
    valid_until,
)
from services.recommendations.engine import Recommendation, decide
from services.recommendations.learning import OnlineLearner, record_response
from services.recommendations.live import apply_event, apply_response
from services.recommendations.propensity import Propensity
from services.recommendations.risk import RiskModels
from services.recommendations.signals import InsightFinder, segment_of
from services.recommendations.vector import (
    FeatureVector,
    build_vector,
    from_bytes,
    to_bytes,
)

DAY = 86_400
Loader = Callable[[int, datetime], FeatureVector]
CAS_TRIES = 5


class VectorStore(Protocol):
    """Holds encoded vectors by person id; ``swap`` is an atomic compare-and-set."""

    def get(self, person_id: int) -> bytes | None:
        """The stored bytes, or None."""
        ...

    def put(self, person_id: int, data: bytes) -> None:
        """Store (or replace) a vector, with a fresh time to live."""
        ...

    def swap(self, person_id: int, old: bytes, new: bytes) -> bool:
        """Replace ``old`` with ``new`` only if ``old`` is still stored; whether it was."""
        ...

    def delete(self, person_id: int) -> None:
        """Forget a vector."""
        ...


class LruVectorStore:
    """An in-process LRU of encoded vectors with a time to live (the embedded default)."""

    def __init__(
        self,
        capacity: int = 200_000,
        ttl_seconds: float = DAY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capacity, self.ttl, self.clock = capacity, ttl_seconds, clock
        self._items: OrderedDict[int, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, person_id: int) -> bytes | None:
        """The stored bytes unless expired; marks the entry recently used."""
        with self._lock:
            item = self._items.get(person_id)
            if item is None:
                return None
            if item[0] <= self.clock():
                del self._items[person_id]
                return None
            self._items.move_to_end(person_id)
            return item[1]

    def put(self, person_id: int, data: bytes) -> None:
        """Store, evicting the least recently used entry beyond ``capacity``."""
        with self._lock:
            self._items[person_id] = (self.clock() + self.ttl, data)
            self._items.move_to_end(person_id)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def swap(self, person_id: int, old: bytes, new: bytes) -> bool:
        """Compare-and-set, keeping the entry's expiry."""
        with self._lock:
            item = self._items.get(person_id)
            if item is None or item[1] != old:
                return False
            self._items[person_id] = (item[0], new)
            return True

    def delete(self, person_id: int) -> None:
        """Forget a vector."""
        with self._lock:
            self._items.pop(person_id, None)


_SWAP = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
  return 1
end
return 0
"""


class RedisVectorStore:
    """Vectors in Redis (``<prefix>:<person id>``), shared by every replica."""

    def __init__(self, client: Any, *, prefix: str = "concierge:nba:vec", ttl_seconds: int = DAY):
        self.client, self.prefix, self.ttl = client, prefix, ttl_seconds
        self._swap = client.register_script(_SWAP)

    def _key(self, person_id: int) -> str:
        return f"{self.prefix}:{person_id}"

    def get(self, person_id: int) -> bytes | None:
        """The stored bytes, or None."""
        data = self.client.get(self._key(person_id))
        return None if data is None else bytes(data)

    def put(self, person_id: int, data: bytes) -> None:
        """Store with a time to live."""
        self.client.set(self._key(person_id), data, ex=self.ttl)

    def swap(self, person_id: int, old: bytes, new: bytes) -> bool:
        """Compare-and-set in one server-side step."""
        return bool(self._swap(keys=[self._key(person_id)], args=[old, new]))

    def delete(self, person_id: int) -> None:
        """Forget a vector."""
        self.client.delete(self._key(person_id))


def make_vector_store(url: str | None, *, ttl_seconds: int = DAY) -> VectorStore:
    """Redis when ``url`` is given (``CONCIERGE_CACHE_URL``), else the in-process LRU.

    An unreachable Redis gives the in-process LRU too, with a logged warning.
    """
    if url:
        from services.events.redis_streams import connect_or_fallback

        client = connect_or_fallback(url, fallback="the in-process vector cache")
        if client is not None:
            return RedisVectorStore(client, ttl_seconds=ttl_seconds)
    return LruVectorStore(ttl_seconds=ttl_seconds)


def loader_from_engine(engine: Engine, insights_of: InsightFinder | None = None) -> Loader:
    """A loader that builds vectors from the system of record (with insights, if given)."""

    def load(person_id: int, now: datetime) -> FeatureVector:
        with engine.connect() as conn:
            found = insights_of(conn, person_id=person_id, now=now) if insights_of else None
            return build_vector(conn, person_id=person_id, now=now, insights=found)

    return load


class Recommender:
    """Next best actions from cached vectors, kept fresh by events and responses."""

    def __init__(
        self,
        store: VectorStore,
        *,
        load: Loader,
        catalog: Catalog,
        propensity: Propensity | None = None,
        risk: RiskModels | None = None,
        control: ControlGroup | None = None,
        decisions: DecisionStore | None = None,
        max_age_s: float = MAX_AGE_S,
    ) -> None:
        """Wire the stores and models.

        ``decisions`` defaults to an in-process LRU; ``max_age_s`` bounds a cached decision's
        life (0 turns decision caching off).
        """
        self.store, self.load, self.catalog = store, load, catalog
        self.propensity, self.risk, self.control = propensity, risk, control
        self.decisions = LruDecisionStore() if decisions is None else decisions
        self.max_age_s = max_age_s

    def vector(self, person_id: int, *, now: datetime) -> FeatureVector:
        """The cached vector, built and stored on a miss."""
        data = self.store.get(person_id)
        return from_bytes(data) if data is not None else self.refresh(person_id, now=now)

    def refresh(self, person_id: int, *, now: datetime) -> FeatureVector:
        """Rebuild the vector from the system of record and store it."""
        return self._build(person_id, now)[0]

    def _build(self, person_id: int, now: datetime) -> tuple[FeatureVector, bytes]:
        vector = self.load(person_id, now)
        if self.risk is not None:
            vector.scores = self.risk.score(vector)
        data = to_bytes(vector)
        self.store.put(person_id, data)
        return vector, data

    def decide(
        self, person_id: int, *, now: datetime, level: str, k: int = 3, channel: str | None = None
    ) -> list[Recommendation]:
        """``engine.decide`` on the cached vector, or the cached decision while it holds."""
        vector: FeatureVector | None = None
        data = self.store.get(person_id)
        if data is None:
            vector, data = self._build(person_id, now)
        caching = self.max_age_s > 0
        key = decision_key(person_id, level, k, channel)
        token = token_of(data, int(getattr(self.propensity, "version", 0)))
        at = now.timestamp()
        if caching:
            hit = self.decisions.get(key)
            if hit is not None and hit.serves(token, at):
                return list(hit.recommendations)
        vector = from_bytes(data) if vector is None else vector
        out = decide(
            vector,
            catalog=self.catalog,
            level=level,
            now=now,
            k=k,
            propensity=self.propensity,
            channel=channel,
            control=self.control,
        )
        if caching:
            until = valid_until(vector, self.catalog, now, level=level, max_age_s=self.max_age_s)
            self.decisions.put(key, CachedDecision(token, at, until, tuple(out)))
        return out

    def _update(
        self, person_id: int, change: Callable[[FeatureVector], FeatureVector | None]
    ) -> bool:
        """Apply ``change`` to the cached vector with compare-and-set; whether it changed."""
        for _ in range(CAS_TRIES):
            old = self.store.get(person_id)
            if old is None:
                return False  # nothing cached: the next read builds from the record
            new = change(from_bytes(old))
            if new is None:
                return False
            if self.store.swap(person_id, old, to_bytes(new)):
                return True
        self.store.delete(person_id)  # too contended: let the next read rebuild it
        return False

    def on_events(self, events: Sequence[Event]) -> None:
        """Event-bus handler: fold each new event into its person's cached vector."""
        for event in sorted(events, key=lambda e: e.occurred_at):
            self._update(event.person_id, partial(self._fold, event))

    def _fold(self, event: Event, vector: FeatureVector) -> FeatureVector | None:
        folded = apply_event(vector, event)
        if folded is not None and self.risk is not None:
            folded.scores = self.risk.score(folded)
        return folded

    def respond(
        self,
        conn: Connection,
        *,
        person_id: int,
        offer_code: str,
        channel: str,
        response: str,
        at: datetime,
        learner: OnlineLearner | None = None,
    ) -> int:
        """Record a response (offer log and learner) and update the cached offer history."""
        segment = None
        if learner is not None:
            cached = self.store.get(person_id)
            segment = (
                from_bytes(cached).segment if cached else segment_of(conn, person_id=person_id)
            )
        row = record_response(
            conn,
            person_id=person_id,
            offer_code=offer_code,
            channel=channel,
            response=response,
            at=at,
            segment=segment,
            learner=learner,
        )
        self._update(person_id, partial(apply_response, code=offer_code, response=response, at=at))
        return row

    def invalidate(self, person_id: int) -> None:
        """Drop a cached vector (the next read rebuilds it)."""
        self.store.delete(person_id)
