"""Feature states in Redis: one hash per person, updated by a Lua script, at most once per event.

Keys (the hash tag keeps a person's two keys in one cluster slot):

* ``<prefix>:{<person>}:state`` -- counters ``c:<day>:<what>`` as integers, and per register
  ``r:<name>`` (the JSON value) beside ``t:<name>`` (its stamp);
* ``<prefix>:{<person>}:applied`` -- event id -> UTC day of every applied event.

The script records the event id with ``HSETNX`` and stops if it was there already, then adds
the counters and writes each register whose stamp is greater than the stored one. Redis runs a
script atomically, so two consumers handed the same event cannot both apply it, and a consumer
that dies mid-batch leaves every event either fully applied or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

import redis

from services.events import Event
from services.features.incremental import FeatureState, changes, features, stale_fields

# Stamps are digits of equal length, so Lua's string order is their numeric order.
APPLY_SCRIPT = """
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then return 0 end
local i = 4
for _ = 1, tonumber(ARGV[3]) do
  redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
  i = i + 2
end
while i <= #ARGV do
  local stamp_field = 't:' .. ARGV[i]
  local current = redis.call('HGET', KEYS[1], stamp_field)
  if not current or ARGV[i + 1] > current then
    redis.call('HSET', KEYS[1], stamp_field, ARGV[i + 1], 'r:' .. ARGV[i], ARGV[i + 2])
  end
  i = i + 3
end
return 1
"""


class RedisFeatureStore:
    """Feature states shared through Redis.

    Args:
        client: a redis-py client with bytes responses (see
        ``services.events.redis_streams.connect``).
        prefix: the key prefix of this store.
    """

    def __init__(self, client: redis.Redis, *, prefix: str = "concierge:features") -> None:
        self.redis = client
        self.prefix = prefix
        self._sha: str | None = None

    def keys(self, person_id: int) -> tuple[str, str]:
        """The state and applied-ids keys of a person."""
        base = f"{self.prefix}:{{{person_id}}}"
        return f"{base}:state", f"{base}:applied"

    def apply(self, event: Event) -> bool:
        """Apply one event; False when it had been applied already."""
        return self.apply_many((event,)) == 1

    def apply_many(self, events: Sequence[Event]) -> int:
        """Apply a batch in one round trip (each event atomically); returns how many were new.

        A batch cut short (lost connection, scripts flushed) may be sent again as a whole:
        events already applied are recognised by id and change nothing.
        """
        if not events:
            return 0
        calls = [(self.keys(e.person_id), _arguments(e)) for e in events]
        for attempt in range(2):
            sha = self._script()
            pipe = self.redis.pipeline(transaction=False)
            for keys, args in calls:
                pipe.evalsha(sha, 2, *keys, *args)
            try:
                return sum(int(done) for done in pipe.execute())
            except redis.exceptions.NoScriptError:
                self._sha = None  # the server lost its scripts (restart, SCRIPT FLUSH)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def features(self, person_id: int, now: datetime | None = None) -> dict[str, Any] | None:
        """The person's features at ``now`` (one ``HGETALL``); None if unknown."""
        state = self._read_state(person_id)
        return None if state is None else features(state, now or datetime.now(UTC))

    def state(self, person_id: int) -> FeatureState | None:
        """The person's raw state, applied ids included."""
        state = self._read_state(person_id)
        if state is not None:
            applied = self._hash(self.keys(person_id)[1])
            state.applied = {k.decode(): int(v) for k, v in applied.items()}
        return state

    def prune(self, person_id: int, now: datetime) -> int:
        """Drop the person's buckets and remembered ids beyond the horizon."""
        state_key, applied_key = self.keys(person_id)
        fields = cast(list[bytes], self.redis.hkeys(state_key))
        counters = [k.decode() for k in fields if k.startswith(b"c:")]
        applied = {k.decode(): int(v) for k, v in self._hash(applied_key).items()}
        old_counters, old_ids = stale_fields(counters, applied, now)
        pipe = self.redis.pipeline(transaction=False)
        if old_counters:
            pipe.hdel(state_key, *old_counters)
        if old_ids:
            pipe.hdel(applied_key, *old_ids)
        pipe.execute()
        return len(old_counters) + len(old_ids)

    def clear(self) -> int:
        """Delete every key of this store (tests and benchmarks); returns how many."""
        removed = 0
        batch: list[bytes] = []
        for key in self.redis.scan_iter(match=f"{self.prefix}:*", count=1000):
            batch.append(key)
            if len(batch) == 500:
                removed += int(self.redis.unlink(*batch))
                batch.clear()
        if batch:
            removed += int(self.redis.unlink(*batch))
        return removed

    def _script(self) -> str:
        if self._sha is None:
            self._sha = str(self.redis.script_load(APPLY_SCRIPT))
        return self._sha

    def _hash(self, key: str) -> dict[bytes, bytes]:
        return cast(dict[bytes, bytes], self.redis.hgetall(key))

    def _read_state(self, person_id: int) -> FeatureState | None:
        raw = self._hash(self.keys(person_id)[0])
        if not raw:
            return None
        state = FeatureState()
        stamps: dict[str, str] = {}
        values: dict[str, str] = {}
        for key, value in raw.items():
            kind, name = key[:2], key[2:].decode()
            if kind == b"c:":
                state.counters[key.decode()] = int(value)
            elif kind == b"t:":
                stamps[name] = value.decode()
            elif kind == b"r:":
                values[name] = value.decode()
        state.registers = {name: (stamps.get(name, ""), value) for name, value in values.items()}
        return state


def _arguments(event: Event) -> list[str | int]:
    change = changes(event)
    args: list[str | int] = [change.event_id, change.day, len(change.counters)]
    for key, amount in change.counters.items():
        args += (key, amount)
    for register in change.registers:
        args += register
    return args
