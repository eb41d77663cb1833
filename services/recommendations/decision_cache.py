"""Cached decisions: the last answer per (customer, level, k, channel), while it is still right.

A decision depends on the customer's feature vector, the propensity model's state and the
clock. So each entry keeps a **token** (a digest of the vector's bytes and the propensity's
``version``) and the **window** of clock times it holds for: from when it was made until the
next moment the contact policy could change its answer — a cool-down, snooze or rest after an
answer ending, a quiet-hours edge in the customer's own time zone, midnight UTC for the random
level (its draw changes daily) — and never longer than ``max_age_s`` after it was made (the
learning loop, the time windows in the vector). A read with a different token or a clock
outside the window is a miss, so an event folded into the vector, a response, a learner update
or a policy boundary all give a fresh decision without anyone having to find and delete it.

In-process (:class:`LruDecisionStore`, the embedded default) entries are the immutable
:class:`Recommendation` tuples themselves; in Redis (:class:`RedisDecisionStore`) they are
compact JSON, so every replica shares them.
"""

from __future__ import annotations

import json
import struct
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from hashlib import blake2b
from typing import Any, Protocol

from services.recommendations.actions import Catalog
from services.recommendations.engine import Recommendation
from services.recommendations.policy import DAY, zone
from services.recommendations.vector import FeatureVector

MAX_AGE_S = 60.0
_HEAD = struct.Struct("!16sdd")  # token, made at, valid until (unix seconds)
_FIELDS = Recommendation.__slots__


@dataclass(frozen=True, slots=True)
class CachedDecision:
    """One cached answer, the token it was made under and the clock window it holds for."""

    token: bytes
    made_at: float
    valid_until: float
    recommendations: tuple[Recommendation, ...]

    def serves(self, token: bytes, at: float) -> bool:
        """Whether this entry answers a read under ``token`` at clock ``at``."""
        return self.token == token and self.made_at <= at < self.valid_until


def token_of(vector_bytes: bytes, version: int = 0) -> bytes:
    """What a decision was made from: a digest of the encoded vector and the model version."""
    return blake2b(vector_bytes, digest_size=8).digest() + version.to_bytes(8, "big", signed=True)


def decision_key(person_id: int, level: str, k: int, channel: str | None) -> str:
    """The cache key of one kind of decision for one customer."""
    return f"{person_id}:{level}:{k}:{channel or '*'}"


def valid_until(
    vector: FeatureVector,
    catalog: Catalog,
    now: datetime,
    *,
    level: str = "behavioral",
    max_age_s: float = MAX_AGE_S,
) -> float:
    """The first clock time (unix seconds) after ``now`` at which the answer could change."""
    at = now.timestamp()
    edges = [at + max_age_s]
    if level == "random":  # its draw changes at midnight UTC
        midnight = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
        edges.append(midnight.timestamp())
    by_code = catalog.by_code
    for code, stats in vector.offers.items():
        action = by_code.get(code)
        if action is None:
            continue
        policy = action.contact
        for moment, days in (
            (stats.last_declined, policy.cooldown_days),
            (stats.last_dismissed, policy.snooze_days),
            (stats.last_accepted, policy.rest_after_accept_days),
        ):
            if moment is not None and moment + days * DAY > at:
                edges.append(moment + days * DAY)
    edges.extend(_quiet_edges(vector, now))
    return min(e for e in edges if e > at) if any(e > at for e in edges) else at + max_age_s


def _quiet_edges(vector: FeatureVector, now: datetime) -> Iterable[float]:
    """The next start and end of the customer's quiet hours, as unix seconds."""
    start, end = vector.quiet_start, vector.quiet_end
    if start is None or end is None or start == end:
        return ()
    local = now.astimezone(zone(vector.timezone))
    out = []
    for minute in (start, end):
        edge = local.replace(hour=minute // 60, minute=minute % 60, second=0, microsecond=0)
        if edge <= local:
            edge += timedelta(days=1)
        out.append(edge.timestamp())
    return out


class DecisionStore(Protocol):
    """Holds cached decisions by :func:`decision_key`."""

    def get(self, key: str) -> CachedDecision | None:
        """The entry, or None."""
        ...

    def put(self, key: str, entry: CachedDecision) -> None:
        """Store (or replace) an entry."""
        ...


class LruDecisionStore:
    """In-process LRU of decisions (the embedded default); entries are shared immutables."""

    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, CachedDecision] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str) -> CachedDecision | None:
        """The entry, marked recently used."""
        with self._lock:
            entry = self._items.get(key)
            if entry is not None:
                self._items.move_to_end(key)
            return entry

    def put(self, key: str, entry: CachedDecision) -> None:
        """Store, evicting the least recently used entry beyond ``capacity``."""
        with self._lock:
            self._items[key] = entry
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)


def encode_decision(entry: CachedDecision) -> bytes:
    """Header (token, window) then the recommendations as compact JSON rows."""
    rows = [[getattr(r, name) for name in _FIELDS] for r in entry.recommendations]
    body = json.dumps(rows, separators=(",", ":")).encode()
    return _HEAD.pack(entry.token, entry.made_at, entry.valid_until) + body


def decode_decision(data: bytes) -> CachedDecision:
    """The entry :func:`encode_decision` wrote."""
    token, made_at, until = _HEAD.unpack_from(data)
    rows: list[list[Any]] = json.loads(data[_HEAD.size :])
    recs = []
    for row in rows:
        item = dict(zip(_FIELDS, row, strict=True))
        item["reasons"] = tuple(item["reasons"])
        item["options"] = tuple((code, label) for code, label in item["options"])
        recs.append(Recommendation(**item))
    return CachedDecision(token, made_at, until, tuple(recs))


class RedisDecisionStore:
    """Decisions in Redis (``<prefix>:<key>``), shared by every replica, with a time to live."""

    def __init__(
        self, client: Any, *, prefix: str = "concierge:nba:dec", ttl_seconds: int = DAY
    ) -> None:
        self.client, self.prefix, self.ttl = client, prefix, ttl_seconds

    def get(self, key: str) -> CachedDecision | None:
        """The entry, or None (also for an entry this version cannot read)."""
        data = self.client.get(f"{self.prefix}:{key}")
        if data is None:
            return None
        try:
            return decode_decision(bytes(data))
        except (struct.error, ValueError, TypeError):
            return None  # written by another version: a miss, recomputed and overwritten

    def put(self, key: str, entry: CachedDecision) -> None:
        """Store with the store's time to live."""
        self.client.set(f"{self.prefix}:{key}", encode_decision(entry), ex=self.ttl)


def make_decision_store(url: str | None, *, ttl_seconds: int = DAY) -> DecisionStore:
    """Redis when ``url`` is given (``CONCIERGE_CACHE_URL``), else the in-process LRU."""
    if not url:
        return LruDecisionStore()
    from services.events.redis_streams import connect

    return RedisDecisionStore(connect(url), ttl_seconds=ttl_seconds)
