"""The Redis feature store against the real server: same figures as the in-memory path."""

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st

from services.events.redis_streams import connect
from services.features.history import recompute
from services.features.incremental import HORIZON_DAYS
from services.features.redis_store import RedisFeatureStore
from services.features.store import MemoryFeatureStore
from tests.support.event_samples import NOW, deliveries, digital, histories, of, transaction
from tests.support.servers import REDIS_URL, require_redis

pytestmark = pytest.mark.redis


@pytest.fixture(scope="module")
def client() -> Iterator[redis.Redis]:
    require_redis()
    conn = connect(REDIS_URL)
    yield conn
    conn.close()


@pytest.fixture
def store(client: redis.Redis) -> Iterator[RedisFeatureStore]:
    store = RedisFeatureStore(client, prefix=f"test:{uuid.uuid4().hex[:12]}")
    yield store
    store.clear()


@settings(max_examples=25, deadline=None)
@given(data=st.data(), history=histories(max_size=40))
def test_redis_store_matches_recomputation_and_ignores_redelivery(
    client: redis.Redis, data: st.DataObject, history: list
) -> None:
    delivered = data.draw(deliveries(history))
    store = RedisFeatureStore(client, prefix=f"test:{uuid.uuid4().hex[:12]}")
    try:
        cut = data.draw(st.integers(0, len(delivered)))
        store.apply_many(delivered[:cut])
        for event in delivered[cut:]:
            store.apply(event)
        memory = MemoryFeatureStore()
        memory.apply_many(history)
        people = sorted({event.person_id for event in history})
        for person in people:
            assert store.features(person, NOW) == recompute(of(person, history), NOW)
            assert store.state(person) == memory.state(person)
        before = [store.state(person) for person in people]
        assert store.apply_many(delivered) == 0  # everything again: a redelivery
        assert [store.state(person) for person in people] == before
    finally:
        store.clear()


def test_unknown_people_have_no_features(store: RedisFeatureStore) -> None:
    assert store.features(12345, NOW) is None and store.state(12345) is None


def test_a_lost_script_is_loaded_again(store: RedisFeatureStore) -> None:
    store.apply(transaction("t1", 1, NOW, -100))
    store._sha = "0" * 40  # as after a server restart: the cached script is gone
    assert store.apply_many([transaction("t1", 1, NOW, -100), transaction("t2", 1, NOW, -5)]) == 1
    assert store.features(1, NOW) == recompute(
        [transaction("t1", 1, NOW, -100), transaction("t2", 1, NOW, -5)], NOW
    )


def test_pruning_in_redis(store: RedisFeatureStore) -> None:
    history = [
        transaction("new", 1, NOW - timedelta(days=3), -700),
        digital("old", 1, NOW - timedelta(days=HORIZON_DAYS + 2), "login", session_id="s"),
    ]
    store.apply_many(history)
    before = store.features(1, NOW)
    assert store.prune(1, NOW) == 3 + 1  # act, lg and s:s counters, and the id
    state = store.state(1)
    assert state is not None and set(state.applied) == {"new"}
    assert store.features(1, NOW) == before
