"""The event bus on Redis Streams: consumer groups, at-least-once delivery, claim of stale work.

Each event is one stream entry whose field ``e`` holds the event's JSON. ``XADD`` appends with
approximate ``MAXLEN`` trimming; consumers read with ``XREADGROUP`` (``COUNT`` per batch,
``BLOCK`` while idle) and ``XACK`` only after the handler returned. Every ``claim_idle_ms / 2``
a consumer runs ``XAUTOCLAIM`` over the group's pending list, taking over entries that a dead
(or stuck) consumer left unacknowledged for at least ``claim_idle_ms``. Entries delivered
``max_deliveries`` times without success, and entries that are not valid events, move to the
dead-letter stream ``<stream>:dead`` so that they cannot block the group.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis
from pydantic import ValidationError
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from services.events import Event, Handler, deliver

log = logging.getLogger(__name__)

FIELD = b"e"


def connect(url: str, *, timeout_s: float = 5.0) -> redis.Redis:
    """A client with short timeouts and two quick retries (redis-py 8 retries for seconds).

    ``timeout_s`` must exceed the longest ``BLOCK`` a consumer asks for.
    """
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=2.0,
        socket_timeout=timeout_s,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=2),
        protocol=2,
    )


def connect_or_fallback(url: str, *, fallback: str) -> redis.Redis | None:
    """A client when Redis answers a ``PING``; else None, with a warning naming ``fallback``.

    The app starts without Redis rather than not at all: the caller then uses its in-process
    engine (``fallback`` says which, for the log), which serves this process only.
    """
    client = connect(url)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        log.warning(
            "Redis at %s is unreachable (%s); using %s instead",
            _masked(url),
            exc,
            fallback,
        )
        return None
    return client


def _masked(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class RedisStreamBus:
    """Events on one Redis stream, consumed by consumer groups.

    Args:
        client: a redis-py client (bytes responses); see :func:`connect`.
        stream: the stream's key.
        maxlen: approximate most entries kept; a group slower than that loses the oldest.
        claim_idle_ms: idle time after which another consumer may claim a pending entry.
        max_deliveries: deliveries after which a failing entry goes to the dead-letter stream.
        start_id: where a new group starts, ``"0"`` (all retained entries) or ``"$"`` (new).
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        stream: str = "concierge:events",
        maxlen: int = 1_000_000,
        claim_idle_ms: int = 30_000,
        max_deliveries: int = 5,
        start_id: str = "0",
    ) -> None:
        self.redis = client
        self.stream = stream
        self.dead_stream = f"{stream}:dead"
        self.maxlen = maxlen
        self.claim_idle_ms = claim_idle_ms
        self.max_deliveries = max_deliveries
        self.start_id = start_id
        self._groups: set[str] = set()
        self._claims: dict[tuple[str, str], tuple[float, bytes]] = {}  # -> (due at, cursor)

    def publish(self, event: Event) -> None:
        """Append one event to the stream."""
        self.redis.xadd(self.stream, {FIELD: event.to_json()}, maxlen=self.maxlen)

    def publish_many(self, events: Iterable[Event]) -> int:
        """Append events in one pipelined round trip; returns how many."""
        pipe = self.redis.pipeline(transaction=False)
        n = 0
        for event in events:
            pipe.xadd(self.stream, {FIELD: event.to_json()}, maxlen=self.maxlen)
            n += 1
        if n:
            pipe.execute()
        return n

    def consume(
        self, group: str, consumer: str, handler: Handler, *, count: int = 200, block_ms: int = 100
    ) -> int:
        """Hand one batch to ``handler`` and ``XACK`` what it finished (see ``EventBus``)."""
        self.ensure_group(group)
        try:
            entries = self._claim(group, consumer, count)
            if not entries:
                reply = self.redis.xreadgroup(
                    group, consumer, {self.stream: ">"}, count=count, block=block_ms
                )
                entries = _entries(reply)
        except redis.ResponseError as exc:
            if "NOGROUP" in str(exc):  # the stream was deleted: create the group again next time
                self._groups.discard(group)
            raise
        if not entries:
            return 0
        ids, events = self._decode(group, entries)
        done = [ids[i] for i in deliver(handler, events)] if events else []
        if done:
            self.redis.xack(self.stream, group, *done)
        return len(done)

    def ensure_group(self, group: str) -> None:
        """Create the consumer group (and the stream) unless it exists."""
        if group in self._groups:
            return
        try:
            self.redis.xgroup_create(self.stream, group, id=self.start_id, mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._groups.add(group)

    def pending(self, group: str) -> int:
        """How many entries of ``group`` are delivered but not acknowledged."""
        return int(self.redis.xpending(self.stream, group)["pending"])

    def delete(self) -> None:
        """Remove the stream, its dead letters and its groups (tests and benchmarks)."""
        self.redis.delete(self.stream, self.dead_stream)
        self._groups.clear()
        self._claims.clear()

    def close(self) -> None:
        """Close the client's connections."""
        self.redis.close()

    def _claim(self, group: str, consumer: str, count: int) -> list[tuple[bytes, Any]]:
        key = (group, consumer)
        due, cursor = self._claims.get(key, (0.0, b"0-0"))
        now = time.monotonic()
        if now < due:
            return []
        if cursor == b"0-0":
            self._bury_exhausted(group, count)
        reply = self.redis.xautoclaim(
            self.stream, group, consumer, self.claim_idle_ms, start_id=cursor, count=count
        )
        cursor, claimed = bytes(reply[0]), list(reply[1])
        # Scan the pending list to its end, one batch per poll, then rest for half an idle time.
        wait = 0.0 if cursor != b"0-0" else self.claim_idle_ms / 2000
        self._claims[key] = (now + wait, cursor)
        return claimed

    def _bury_exhausted(self, group: str, count: int) -> None:
        stale: list[dict[str, Any]] = self.redis.xpending_range(
            self.stream, group, min="-", max="+", count=count, idle=self.claim_idle_ms
        )
        for entry in stale:
            if entry["times_delivered"] >= self.max_deliveries:
                found: Any = self.redis.xrange(
                    self.stream, entry["message_id"], entry["message_id"]
                )
                raw = found[0][1].get(FIELD, b"") if found else b""
                self._bury(group, entry["message_id"], raw, "too many deliveries")

    def _bury(self, group: str, entry_id: bytes, raw: bytes, reason: str) -> None:
        log.error("dead-lettering entry %r of %s: %s", entry_id, self.stream, reason)
        pipe = self.redis.pipeline(transaction=True)
        pipe.xadd(self.dead_stream, {FIELD: raw, b"id": entry_id, b"reason": reason.encode()})
        pipe.xack(self.stream, group, entry_id)
        pipe.execute()

    def _decode(self, group: str, entries: list[tuple[bytes, Any]]) -> tuple[list[bytes], Any]:
        ids: list[bytes] = []
        events: list[Event] = []
        for entry_id, fields in entries:
            raw = (fields or {}).get(FIELD)
            try:
                if raw is None:
                    raise ValueError("no event field")
                events.append(Event.from_json(raw))
                ids.append(entry_id)
            except (ValidationError, ValueError) as exc:
                self._bury(group, entry_id, raw or b"", f"not an event: {exc}"[:500])
        return ids, events


def _entries(reply: Any) -> list[tuple[bytes, Any]]:
    # RESP2 answers [[stream, entries]]; RESP3 answers {stream: [entries]}.
    if not reply:
        return []
    if isinstance(reply, dict):
        first = next(iter(reply.values()))
        return list(first[0] if first and isinstance(first[0], list) else first)
    return list(reply[0][1])
