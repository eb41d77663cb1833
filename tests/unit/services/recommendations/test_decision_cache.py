"""The decision cache in-process: LRU and TTL, events folded in at once, responses honoured."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.events import Event
from services.recommendations.live import apply_event
from services.recommendations.recommender import LruVectorStore, Recommender, make_vector_store
from services.recommendations.vector import FeatureVector, from_bytes, to_bytes
from tests.support.decision_kit import NOW, action, catalog, vector

PAYDAY_BOOST = action(
    "savings_boost",
    kind="service",
    applicability={"field": "flow.days_since_income", "lte": 1},
    contact={"marketing": False},
)
CARD = action("card_upgrade", contact={"cooldown_days": 30})


def _event(type_: str, when, **data) -> Event:
    return Event(
        id=f"{type_}-{when.isoformat()}-{len(data)}",
        type=type_,
        person_id=7,
        occurred_at=when,
        data=data,
    )


def _paycheck(when, amount: int = 250_000) -> Event:
    return _event(
        "transaction",
        when,
        account_id=1,
        amount_minor=amount,
        currency="USD",
        category="income",
        channel="ach",
        balance_after_minor=500_000,
        account_type="checking",
    )


class Loads:
    """A loader that counts its calls."""

    def __init__(self, **fields) -> None:
        self.calls, self.fields = 0, fields

    def __call__(self, person_id: int, now) -> FeatureVector:
        self.calls += 1
        return vector(
            person_id=person_id,
            watermark=int(now.timestamp() * 1e6),
            days_since_income=20,
            **self.fields,
        )


def test_lru_evicts_least_recently_used_and_expires() -> None:
    clock = [0.0]
    store = LruVectorStore(capacity=2, ttl_seconds=10, clock=lambda: clock[0])
    store.put(1, b"one")
    store.put(2, b"two")
    assert store.get(1) == b"one"  # 1 is now the most recent
    store.put(3, b"three")
    assert store.get(2) is None and store.get(1) == b"one" and len(store) == 2
    clock[0] = 10.0
    assert store.get(1) is None  # expired


def test_lru_compare_and_set() -> None:
    store = LruVectorStore()
    assert not store.swap(1, b"a", b"b")
    store.put(1, b"a")
    assert store.swap(1, b"a", b"b") and store.get(1) == b"b"
    assert not store.swap(1, b"a", b"c") and store.get(1) == b"b"
    store.delete(1)
    assert store.get(1) is None
    assert isinstance(make_vector_store(None), LruVectorStore)


def test_events_fold_into_a_vector_once() -> None:
    v = vector(
        watermark=int(NOW.timestamp() * 1e6),
        income_30d_minor=100_000,
        income_90d_minor=300_000,
        spend_90d_minor=150_000,
        days_since_income=20,
    )
    later = NOW + timedelta(hours=1)
    paid = apply_event(v, _paycheck(later))
    assert paid is not None and v.income_30d_minor == 100_000  # the original is untouched
    assert (paid.income_30d_minor, paid.days_since_income, paid.checking_minor) == (
        350_000,
        0,
        500_000,
    )
    assert paid.savings_rate == round(1 - 150_000 / 550_000, 4)
    assert paid.deposits_minor == 500_000 + v.savings_minor
    assert apply_event(paid, _paycheck(later)) is None  # a re-delivery
    assert apply_event(paid, _paycheck(NOW - timedelta(days=1))) is None  # already in the build
    spent = apply_event(
        paid,
        _event(
            "transaction",
            later + timedelta(minutes=1),
            account_id=1,
            amount_minor=-4_200,
            currency="USD",
            category="dining",
            channel="card",
        ),
    )
    assert spent is not None and spent.spend_30d_minor == paid.spend_30d_minor + 4_200
    assert spent.card_spend_annual_minor == paid.card_spend_annual_minor + 4_200
    off = apply_event(
        spent, _event("profile", later + timedelta(minutes=2), field="push", value=False)
    )
    assert off is not None and "push" not in off.channels
    quiet = apply_event(
        off, _event("profile", later + timedelta(minutes=3), field="quiet_start", value="22:30")
    )
    assert quiet is not None and quiet.quiet_start == 22 * 60 + 30
    login = apply_event(
        quiet,
        _event(
            "digital",
            later + timedelta(minutes=4),
            kind="login",
            channel="app",
            page="/mortgages/rates",
        ),
    )
    assert login is not None and login.logins_30d == 1 and login.mortgage_research_30d == 1
    assert from_bytes(to_bytes(login)) == login


def test_cached_decisions_build_once_and_see_events_at_once() -> None:
    loads = Loads()
    recommender = Recommender(LruVectorStore(), load=loads, catalog=catalog(PAYDAY_BOOST, CARD))

    def codes(now=NOW) -> list[str]:
        return [r.code for r in recommender.decide(7, now=now, level="behavioral")]

    assert codes() == ["card_upgrade"] and loads.calls == 1
    assert codes() == ["card_upgrade"] and loads.calls == 1  # served from the cache
    recommender.on_events([_paycheck(NOW + timedelta(minutes=1))])
    assert codes(NOW + timedelta(minutes=2)) == ["card_upgrade", "savings_boost"]
    assert loads.calls == 1  # refreshed by the event, not rebuilt
    recommender.on_events(
        [_event("profile", NOW + timedelta(minutes=3), field="marketing_consent", value=False)]
    )
    assert codes(NOW + timedelta(minutes=4)) == ["savings_boost"]
    recommender.invalidate(7)
    assert codes() == ["card_upgrade"] and loads.calls == 2  # rebuilt from the record


def test_events_for_people_not_cached_change_nothing() -> None:
    store = LruVectorStore()
    recommender = Recommender(store, load=Loads(), catalog=catalog(CARD))
    recommender.on_events([_paycheck(NOW)])
    assert len(store) == 0


@pytest.mark.parametrize("field", ["marketing_consent", "email"])
def test_profile_events_keep_other_settings(field: str) -> None:
    v = vector(watermark=0)
    changed = apply_event(v, _event("profile", NOW, field=field, value=False))
    assert changed is not None
    assert changed.timezone == v.timezone and changed.quiet_start == v.quiet_start
