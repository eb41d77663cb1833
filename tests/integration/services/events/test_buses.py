"""Both buses: every event delivered, none applied twice, a dead consumer's work taken over.

The Redis tests run against the real server (``require_redis()``), each on a stream and key
prefix of its own that is deleted afterwards.
"""

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
import redis

from services.events import Event, EventBus
from services.events.in_process import InProcessBus
from services.events.redis_streams import RedisStreamBus, connect
from services.features.history import recompute
from services.features.redis_store import RedisFeatureStore
from services.features.store import FeatureStore, MemoryFeatureStore, ProfileConsumer
from tests.support import ROOT
from tests.support.event_samples import NOW, of, random_history, transaction
from tests.support.servers import REDIS_URL, require_redis


class Crash(BaseException):
    """Stands for the process dying: not an ``Exception``, so nothing catches it."""


@dataclass
class Pipeline:
    bus: EventBus
    store: FeatureStore
    kind: str

    def make_bus(self, **options: object) -> EventBus:
        """Another bus object on the same stream (as another process would have)."""
        if isinstance(self.bus, RedisStreamBus):
            return RedisStreamBus(self.bus.redis, stream=self.bus.stream, **options)  # type: ignore[arg-type]
        for name, value in options.items():
            setattr(self.bus, name, value)
        return self.bus


@pytest.fixture
def redis_names() -> Iterator[tuple[RedisStreamBus, RedisFeatureStore]]:
    require_redis()
    client = connect(REDIS_URL)
    prefix = f"test:{uuid.uuid4().hex[:12]}"
    bus = RedisStreamBus(client, stream=f"{prefix}:events")
    store = RedisFeatureStore(client, prefix=f"{prefix}:features")
    yield bus, store
    bus.delete()
    store.clear()
    assert not list(client.scan_iter(match=f"{prefix}:*"))
    client.close()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def pipeline(request: pytest.FixtureRequest) -> Pipeline:
    if request.param == "memory":
        return Pipeline(InProcessBus(), MemoryFeatureStore(), "memory")
    bus, store = request.getfixturevalue("redis_names")
    return Pipeline(bus, store, "redis")


def drain(consumer: ProfileConsumer) -> int:
    total = 0
    while n := consumer.poll():
        total += n
    return total


def assert_matches_history(store: FeatureStore, history: Sequence[Event]) -> None:
    for person in sorted({event.person_id for event in history}):
        assert store.features(person, NOW) == recompute(of(person, history), NOW), person


def applied_ids(store: FeatureStore, history: Sequence[Event]) -> int:
    people = {event.person_id for event in history}
    return sum(len(state.applied) for p in people if (state := store.state(p)) is not None)


def test_every_event_reaches_every_group_once(pipeline: Pipeline) -> None:
    history = random_history(600, people=15, seed=1)
    pipeline.bus.publish_many(history[:300])
    for event in history[300:]:
        pipeline.bus.publish(event)
    seen: dict[str, list[str]] = {"a": [], "b": []}
    lock = threading.Lock()

    def handler(group: str) -> Callable[[Sequence[Event]], None]:
        def handle(events: Sequence[Event]) -> None:
            with lock:
                seen[group] += [event.id for event in events]

        return handle

    def work(group: str, consumer: str) -> None:
        while pipeline.bus.consume(group, consumer, handler(group), count=50, block_ms=20):
            pass

    workers = [threading.Thread(target=work, args=(g, c)) for g in "ab" for c in ("c1", "c2")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(20)
    for group in "ab":
        assert sorted(seen[group]) == sorted(event.id for event in history)
        assert pipeline.bus.pending(group) == 0


def test_a_consumer_killed_mid_batch_loses_nothing_and_doubles_nothing(
    pipeline: Pipeline,
) -> None:
    history = random_history(500, people=12, seed=2)
    pipeline.bus.publish_many(history)
    pipeline.bus.publish_many(history[:40])  # the producer retried: the same events again
    applied = 0

    def dies_after_130(events: Sequence[Event]) -> None:
        nonlocal applied
        for event in events:  # one by one, so the crash lands inside a batch
            pipeline.store.apply(event)
            applied += 1
            if applied == 130:
                raise Crash

    with pytest.raises(Crash):
        while pipeline.bus.consume("profiles", "doomed", dies_after_130, count=50, block_ms=10):
            pass
    # The third batch of 50 was in hand: 30 of it applied, none of it acknowledged.
    assert pipeline.bus.pending("profiles") == 50
    # The replacement claims what the dead consumer held (no idle wait in this test).
    bus = pipeline.make_bus(claim_idle_ms=0)
    survivor = ProfileConsumer(bus, pipeline.store, consumer="survivor", count=50, block_ms=10)
    drain(survivor)
    assert bus.pending("profiles") == 0
    assert applied_ids(pipeline.store, history) == len(history)
    assert_matches_history(pipeline.store, history)


def test_a_failing_event_is_retried_alone_then_dead_lettered(pipeline: Pipeline) -> None:
    history = random_history(30, people=3, seed=3)
    poison = history[7]
    pipeline.bus.publish_many(history)
    bus = pipeline.make_bus(claim_idle_ms=0, max_deliveries=3)
    attempts = 0

    def handle(events: Sequence[Event]) -> None:
        nonlocal attempts
        if any(event.id == poison.id for event in events):
            attempts += 1
            raise ValueError("cannot apply")
        pipeline.store.apply_many(events)

    for _ in range(6):
        bus.consume("profiles", "c1", handle, count=100, block_ms=10)
    assert attempts >= 3  # as a batch, alone, then claimed again until it is given up on
    healthy = [event for event in history if event.id != poison.id]
    assert applied_ids(pipeline.store, history) == len(healthy)
    assert_matches_history(pipeline.store, healthy)
    assert bus.pending("profiles") == 0
    if isinstance(bus, RedisStreamBus):
        dead: Any = bus.redis.xrange(bus.dead_stream)
        assert [Event.from_json(fields[b"e"]).id for _, fields in dead] == [poison.id]
    else:
        assert isinstance(bus, InProcessBus)
        assert [event.id for event in bus.dead_letters] == [poison.id]


def test_the_consumer_thread_keeps_profiles_current(pipeline: Pipeline) -> None:
    consumer = ProfileConsumer(pipeline.bus, pipeline.store, consumer="t1", block_ms=20)
    consumer.start()
    try:
        event = transaction("live", 42, NOW, 250_000, category="income", channel="ach")
        pipeline.bus.publish(event)
        deadline = time.monotonic() + 10
        while pipeline.store.features(42, NOW) is None and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        consumer.stop()
    assert pipeline.store.features(42, NOW) == recompute([event], NOW)


@pytest.mark.redis
def test_two_consumers_racing_on_redis_apply_each_event_once(
    redis_names: tuple[RedisStreamBus, RedisFeatureStore],
) -> None:
    bus, store = redis_names
    history = random_history(800, people=10, seed=4)
    bus.publish_many(history)
    # Both claim everything pending at once, so the same event is often handed to both.
    greedy = [RedisStreamBus(bus.redis, stream=bus.stream, claim_idle_ms=0) for _ in range(2)]
    consumers = [
        ProfileConsumer(b, store, consumer=f"c{i}", count=25, block_ms=10)
        for i, b in enumerate(greedy)
    ]
    threads = [threading.Thread(target=drain, args=(c,)) for c in consumers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    drain(consumers[0])
    assert applied_ids(store, history) == len(history)
    assert_matches_history(store, history)


@pytest.mark.redis
def test_a_malformed_entry_goes_to_the_dead_letter_stream(
    redis_names: tuple[RedisStreamBus, RedisFeatureStore],
) -> None:
    bus, store = redis_names
    bus.redis.xadd(bus.stream, {b"e": b'{"id": "x", "type": "nonsense"}'})
    good = transaction("good", 1, NOW, -100)
    bus.publish(good)
    assert drain(ProfileConsumer(bus, store, consumer="c1", block_ms=10)) == 1
    assert bus.pending("profiles") == 0
    dead: Any = bus.redis.xrange(bus.dead_stream)
    assert len(dead) == 1
    assert store.features(1, NOW) == recompute([good], NOW)


CRASHING_CONSUMER = """
import os, sys
from services.events.redis_streams import RedisStreamBus, connect
from services.features.redis_store import RedisFeatureStore
url, stream, prefix, limit = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
client = connect(url)
bus = RedisStreamBus(client, stream=stream)
store = RedisFeatureStore(client, prefix=prefix)
done = 0
def handle(events):
    global done
    for event in events:
        store.apply(event)
        done += 1
        if done == limit:
            os._exit(3)  # the process dies: applied, not acknowledged
while True:
    bus.consume("profiles", "doomed-process", handle, count=40, block_ms=50)
"""


@pytest.mark.redis
def test_a_process_dying_between_apply_and_ack_is_taken_over(
    redis_names: tuple[RedisStreamBus, RedisFeatureStore],
) -> None:
    bus, store = redis_names
    history = random_history(400, people=10, seed=5)
    bus.publish_many(history)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [REDIS_URL, bus.stream, store.prefix, "100"]
    child = subprocess.run(
        [sys.executable, "-c", CRASHING_CONSUMER, *args], env=env, timeout=60, check=False
    )
    assert child.returncode == 3
    assert bus.pending("profiles") == 40  # the third batch of 40: 20 applied, none acked
    idle_ms = 50
    time.sleep(idle_ms / 1000 * 2)
    heir = RedisStreamBus(bus.redis, stream=bus.stream, claim_idle_ms=idle_ms)
    drain(ProfileConsumer(heir, store, consumer="heir", count=40, block_ms=10))
    assert bus.pending("profiles") == 0
    assert applied_ids(store, history) == len(history)
    assert_matches_history(store, history)


@pytest.mark.redis
def test_a_deleted_stream_is_recreated_on_the_next_poll(
    redis_names: tuple[RedisStreamBus, RedisFeatureStore],
) -> None:
    bus, store = redis_names
    consumer = ProfileConsumer(bus, store, consumer="c1", block_ms=10)
    assert consumer.poll() == 0
    bus.redis.delete(bus.stream)  # e.g. an operator removed it
    with pytest.raises(redis.ResponseError, match="NOGROUP"):
        consumer.poll()
    bus.publish(transaction("after", 1, NOW, -100))
    assert drain(consumer) == 1
