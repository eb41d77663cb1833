"""Cached decisions: served while the vector, the model and the clock window hold; never after."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest

import services.recommendations.recommender as cache_module
from services.events import Event
from services.recommendations.decision_cache import (
    CachedDecision,
    LruDecisionStore,
    decode_decision,
    encode_decision,
    token_of,
    valid_until,
)
from services.recommendations.learning import OnlineLearner, OnlinePropensity
from services.recommendations.live import apply_response
from services.recommendations.propensity import BasePropensity
from services.recommendations.recommender import LruVectorStore, Recommender
from services.recommendations.vector import FeatureVector
from tests.support.decision_kit import DAY, NOW, action, catalog, stats, vector

CARD = action("card_upgrade", contact={"cooldown_days": 30})
SAVER = action("high_yield_savings", contact={"cooldown_days": 14})


class Loads:
    def __init__(self, **fields) -> None:
        self.calls, self.fields = 0, fields

    def __call__(self, person_id: int, now) -> FeatureVector:
        self.calls += 1
        return vector(person_id=person_id, watermark=int(now.timestamp() * 1e6), **self.fields)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times the decision function itself ran."""
    calls = [0]
    real = cache_module.decide

    def counting(*args, **kwargs):
        calls[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(cache_module, "decide", counting)
    return calls


def _recommender(**kwargs) -> Recommender:
    kwargs.setdefault("load", Loads())
    return Recommender(LruVectorStore(), catalog=catalog(CARD, SAVER), **kwargs)


def test_a_repeat_is_served_from_the_cache_and_equal(counted: list[int]) -> None:
    recommender = _recommender()
    first = recommender.decide(7, now=NOW, level="behavioral")
    again = recommender.decide(7, now=NOW + timedelta(seconds=5), level="behavioral")
    assert first and again == first and counted[0] == 1


def test_level_k_and_channel_are_separate_entries(counted: list[int]) -> None:
    recommender = _recommender()
    recommender.decide(7, now=NOW, level="behavioral")
    recommender.decide(7, now=NOW, level="segment")
    recommender.decide(7, now=NOW, level="behavioral", k=1)
    only_push = recommender.decide(7, now=NOW, level="behavioral", channel="push")
    assert counted[0] == 4 and {r.channel for r in only_push} == {"push"}
    recommender.decide(7, now=NOW, level="segment")
    assert counted[0] == 4


def test_an_event_that_changes_the_vector_gives_a_fresh_decision(counted: list[int]) -> None:
    recommender = _recommender()
    assert recommender.decide(7, now=NOW, level="behavioral")
    consent_off = Event(
        id="p1",
        type="profile",
        person_id=7,
        occurred_at=NOW + timedelta(seconds=1),
        data={"field": "marketing_consent", "value": False},
    )
    recommender.on_events([consent_off])
    assert recommender.decide(7, now=NOW + timedelta(seconds=2), level="behavioral") == []
    assert counted[0] == 2


def test_a_decline_hides_the_offer_at_once_and_it_returns_when_the_cooldown_ends(
    counted: list[int],
) -> None:
    # no quiet hours and a long max age: only the cool-down's end may end the cached answer
    recommender = _recommender(load=Loads(quiet_start=None), max_age_s=90 * DAY)
    codes = lambda at: [r.code for r in recommender.decide(7, now=at, level="behavioral")]  # noqa: E731
    assert "card_upgrade" in codes(NOW)
    recommender._update(
        7, partial(apply_response, code="card_upgrade", response="declined", at=NOW)
    )
    assert "card_upgrade" not in codes(NOW + timedelta(seconds=1))
    made = counted[0]
    assert "card_upgrade" not in codes(NOW + timedelta(days=29))
    assert counted[0] == made  # still inside the cool-down: the cached answer holds
    assert "card_upgrade" in codes(NOW + timedelta(days=30))
    assert counted[0] == made + 1


def test_valid_until_stops_at_the_first_policy_boundary() -> None:
    v = vector(offers={"card_upgrade": stats(last_declined=29.5)}, quiet_start=None)
    end = valid_until(v, catalog(CARD), NOW, max_age_s=90 * DAY)
    assert end == pytest.approx(NOW.timestamp() + 0.5 * DAY)
    # the random level's draw changes at midnight UTC, nine hours after NOW
    drawn = valid_until(v, catalog(CARD), NOW, level="random", max_age_s=90 * DAY)
    assert drawn == pytest.approx(NOW.timestamp() + 9 * 3600)
    # and max_age when it is sooner
    assert valid_until(vector(), catalog(CARD), NOW, max_age_s=60) == NOW.timestamp() + 60


def test_valid_until_stops_at_the_quiet_hours_edge_in_the_customers_zone() -> None:
    # 15:00 UTC is 10:00 in New York; quiet hours start at 10:30 local
    v = vector(quiet_start=10 * 60 + 30, quiet_end=8 * 60)
    end = valid_until(v, catalog(CARD), NOW, max_age_s=DAY)
    assert end == NOW.timestamp() + 30 * 60


def test_push_decisions_stop_at_quiet_hours(counted: list[int]) -> None:
    recommender = _recommender(
        load=Loads(quiet_start=10 * 60 + 30, quiet_end=8 * 60), max_age_s=DAY
    )
    assert recommender.decide(7, now=NOW, level="behavioral", channel="push")
    inside = NOW + timedelta(minutes=31)
    assert recommender.decide(7, now=inside, level="behavioral", channel="push") == []
    assert counted[0] == 2


def test_an_online_update_invalidates_decisions(counted: list[int]) -> None:
    learner = OnlineLearner()
    recommender = _recommender(propensity=OnlinePropensity(BasePropensity(), learner))
    before = recommender.decide(7, now=NOW, level="behavioral")
    recommender.decide(7, now=NOW, level="behavioral")
    assert counted[0] == 1
    for _ in range(40):
        learner.observe(segment="mass_market", code=before[0].code, response="declined")
    after = {r.code: r.propensity for r in recommender.decide(7, now=NOW, level="behavioral")}
    assert counted[0] == 2 and after[before[0].code] < before[0].propensity


def test_a_clock_outside_the_window_is_a_miss(counted: list[int]) -> None:
    recommender = _recommender(max_age_s=60)
    recommender.decide(7, now=NOW, level="behavioral")
    recommender.decide(7, now=NOW - timedelta(seconds=1), level="behavioral")
    recommender.decide(7, now=NOW + timedelta(seconds=61), level="behavioral")
    assert counted[0] == 3


def test_max_age_zero_turns_decision_caching_off(counted: list[int]) -> None:
    recommender = _recommender(max_age_s=0)
    recommender.decide(7, now=NOW, level="behavioral")
    recommender.decide(7, now=NOW, level="behavioral")
    assert counted[0] == 2 and len(recommender.decisions) == 0  # type: ignore[arg-type]


def test_the_decision_lru_evicts_the_least_recently_used() -> None:
    store = LruDecisionStore(capacity=2)
    entry = CachedDecision(token_of(b"v"), 0.0, 10.0, ())
    store.put("a", entry)
    store.put("b", entry)
    assert store.get("a") is entry
    store.put("c", entry)
    assert store.get("b") is None and store.get("a") is entry and len(store) == 2


def test_encoded_decisions_round_trip() -> None:
    recs = _recommender().decide(7, now=NOW, level="behavioral", k=2)
    entry = CachedDecision(token_of(b"vector", 3), 1.5, 99.0, tuple(recs))
    assert decode_decision(encode_decision(entry)) == entry
    assert token_of(b"vector", 3) != token_of(b"vector", 4) != token_of(b"vectoR", 4)
