"""The decision cache on the real Redis (and the seeded bank): hits, refresh on event, responses."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
import redis
from sqlmodel import Session

from services.events import Event
from services.events.redis_streams import connect
from services.models import Person
from services.recommendations.catalog import load_catalog
from services.recommendations.decision_cache import RedisDecisionStore
from services.recommendations.recommender import (
    LruVectorStore,
    Recommender,
    RedisVectorStore,
    VectorStore,
    loader_from_engine,
)
from services.recommendations.vector import from_bytes
from tests.support.bank_raw import noon
from tests.support.servers import REDIS_URL, require_redis


@pytest.fixture(scope="module")
def client() -> Iterator[redis.Redis]:
    require_redis()
    conn = connect(REDIS_URL)
    yield conn
    conn.close()


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[VectorStore]:
    if request.param == "memory":
        yield LruVectorStore()
        return
    request.applymarker(pytest.mark.redis)
    client = request.getfixturevalue("client")
    prefix = f"test:nba:{uuid.uuid4().hex[:12]}"
    yield RedisVectorStore(client, prefix=prefix, ttl_seconds=60)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


class Counting:
    def __init__(self, load) -> None:
        self.load, self.calls = load, 0

    def __call__(self, person_id, now):
        self.calls += 1
        return self.load(person_id, now)


def _paycheck(person_id: int, when, amount: int) -> Event:
    return Event(
        id=f"pay-{person_id}-{when.isoformat()}",
        type="transaction",
        person_id=person_id,
        occurred_at=when,
        data={
            "account_id": 1,
            "amount_minor": amount,
            "currency": "USD",
            "category": "income",
            "channel": "ach",
        },
    )


@pytest.mark.redis
def test_redis_store_basics(client: redis.Redis) -> None:
    store = RedisVectorStore(client, prefix=f"test:nba:{uuid.uuid4().hex[:12]}", ttl_seconds=30)
    assert store.get(1) is None and not store.swap(1, b"a", b"b")
    store.put(1, b"a")
    assert store.swap(1, b"a", b"b") and store.get(1) == b"b"
    assert not store.swap(1, b"a", b"c")
    assert 0 < client.ttl(store._key(1)) <= 30  # the swap kept the time to live
    store.delete(1)
    assert store.get(1) is None


def test_cached_vectors_from_the_bank_refresh_on_events(bank, store: VectorStore) -> None:
    now = noon(bank.as_of)
    load = Counting(loader_from_engine(bank.engine))
    recommender = Recommender(store, load=load, catalog=load_catalog())
    people = (2, 57, 123)
    cold = {p: recommender.decide(p, now=now, level="behavioral") for p in people}
    assert load.calls == 3
    warm = {p: recommender.decide(p, now=now, level="behavioral") for p in people}
    assert warm == cold and load.calls == 3
    before = recommender.vector(2, now=now)
    recommender.on_events([_paycheck(2, now + timedelta(seconds=1), 123_456)])
    after = recommender.vector(2, now=now)
    assert after.income_30d_minor == before.income_30d_minor + 123_456
    assert after.days_since_income == 0 and load.calls == 3
    recommender.on_events([_paycheck(2, now + timedelta(seconds=1), 123_456)])  # re-delivered
    assert recommender.vector(2, now=now).income_30d_minor == after.income_30d_minor
    data = store.get(2)
    assert data is not None and len(data) <= 4096 and from_bytes(data) == after


def test_a_decline_through_the_cache_is_honoured_at_once(engine, store: VectorStore) -> None:
    with Session(engine) as session:
        session.add(
            Person(
                full_name="Maya Patel", first_name="Maya", last_name="Patel", segment="mass_market"
            )
        )
        session.commit()
    with engine.connect() as conn:
        person_id = conn.exec_driver_sql("SELECT MAX(id) FROM person").scalar()
    catalog = load_catalog()
    load = Counting(loader_from_engine(engine))
    recommender = Recommender(store, load=load, catalog=catalog)
    now = noon(date(2026, 3, 2))
    first = recommender.decide(person_id, now=now, level="segment", k=25)
    assert first
    code = first[0].code
    with engine.begin() as conn:
        recommender.respond(
            conn,
            person_id=person_id,
            offer_code=code,
            channel=first[0].channel,
            response="declined",
            at=now,
        )
    cooldown = catalog[code].contact.cooldown_days
    soon = recommender.decide(person_id, now=now + timedelta(days=1), level="segment", k=25)
    assert code not in {r.code for r in soon} and load.calls == 1
    later = now + timedelta(days=cooldown + 1)
    assert code in {r.code for r in recommender.decide(person_id, now=later, level="segment", k=25)}


@pytest.mark.redis
def test_replicas_share_decisions_through_redis_and_an_event_refreshes_them(
    bank, client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    import services.recommendations.recommender as cache_module

    prefix = f"test:nba:{uuid.uuid4().hex[:12]}"
    real, calls = cache_module.decide, [0]

    def counting(*args, **kwargs):
        calls[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(cache_module, "decide", counting)
    now = noon(bank.as_of)
    load = Counting(loader_from_engine(bank.engine))

    def replica() -> Recommender:
        return Recommender(
            RedisVectorStore(client, prefix=f"{prefix}:vec", ttl_seconds=60),
            load=load,
            catalog=load_catalog(),
            decisions=RedisDecisionStore(client, prefix=f"{prefix}:dec", ttl_seconds=60),
        )

    try:
        one, two = replica(), replica()
        first = one.decide(57, now=now, level="behavioral", k=5)
        assert first and calls[0] == 1 and load.calls == 1
        assert two.decide(57, now=now, level="behavioral", k=5) == first
        assert calls[0] == 1 and load.calls == 1  # the other replica decided nothing
        assert 0 < client.ttl(f"{prefix}:dec:57:behavioral:5:*") <= 60
        one.on_events([_paycheck(57, now + timedelta(seconds=1), 99_999)])
        fresh = two.decide(57, now=now + timedelta(seconds=2), level="behavioral", k=5)
        assert calls[0] == 2 and load.calls == 1  # decided again on the refreshed vector
        assert two.vector(57, now=now).income_30d_minor >= 99_999
        assert [r.code for r in fresh]
    finally:
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
