"""Incremental features: equal to a recomputation from history, whatever the delivery order."""

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.features.history import recompute
from services.features.incremental import (
    HORIZON_DAYS,
    FeatureState,
    apply,
    engagement,
    features,
    prune,
    rebuild,
)
from services.features.store import MemoryFeatureStore
from tests.support.event_samples import (
    NOW,
    deliveries,
    digital,
    histories,
    of,
    profile,
    transaction,
)

LATER = NOW + timedelta(days=45)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), history=histories())
def test_incremental_features_equal_a_recomputation(data: st.DataObject, history: list) -> None:
    delivered = data.draw(deliveries(history))
    store = MemoryFeatureStore()
    for event in delivered:  # one at a time, as a consumer applies them
        store.apply(event)
    for person in {event.person_id for event in history}:
        mine = of(person, history)
        # The windows move with time without re-reading anything.
        assert store.features(person, NOW) == recompute(mine, NOW)
        assert store.features(person, LATER) == recompute(mine, LATER)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), history=histories(max_size=30))
def test_the_state_does_not_depend_on_order_or_duplicates(
    data: st.DataObject, history: list
) -> None:
    delivered = data.draw(deliveries(history))
    assert rebuild(delivered) == rebuild(history)


def test_a_redelivered_event_changes_nothing() -> None:
    state = FeatureState()
    event = transaction("t1", 1, NOW, -500, balance_after_minor=100)
    assert apply(state, event) is True
    before = FeatureState(dict(state.counters), dict(state.registers), dict(state.applied))
    assert apply(state, event) is False
    assert state == before
    store = MemoryFeatureStore()
    assert store.apply_many([event, event]) == 1
    assert store.apply(event) is False


def test_windows_classification_and_savings_rate() -> None:
    history = [
        transaction("pay1", 1, NOW - timedelta(days=2), 300_000, category="income", channel="ach"),
        transaction("pay2", 1, NOW - timedelta(days=60), 300_000, category="income", channel="ach"),
        transaction("food", 1, NOW - timedelta(days=1), -4_000, category="groceries"),
        transaction("trip", 1, NOW - timedelta(days=50), -90_000, category="travel"),
        transaction("old", 1, NOW - timedelta(days=120), -1_000, category="travel"),
        transaction("own", 1, NOW - timedelta(days=3), -50_000, category="transfer"),
        transaction("away", 1, NOW - timedelta(days=4), -20_000, category="transfer_out"),
    ]
    got = features(rebuild(history), NOW)
    assert got["income_30d"] == 300_000 and got["income_90d"] == 600_000
    assert got["spend_30d"] == 4_000 and got["spend_90d"] == 94_000
    assert got["spend_by_category_30d"] == {"groceries": 4_000}
    assert got["spend_by_category_90d"] == {"groceries": 4_000, "travel": 90_000}
    assert got["net_flow_30d"] == 300_000 - 4_000 - 20_000  # own transfers are not a flow
    assert got["savings_rate_90d"] == round(1 - 94_000 / 600_000, 4)
    assert got["transactions_30d"] == 4
    assert got["currency"] == "USD"
    assert recompute(history, NOW) == got


def test_no_income_means_no_savings_rate() -> None:
    got = features(rebuild([transaction("t", 1, NOW, -100)]), NOW)
    assert got["savings_rate_90d"] is None and got["income_90d"] == 0


def test_latest_balance_wins_even_when_it_arrives_first() -> None:
    newer = transaction("b2", 1, NOW, -100, balance_after_minor=900, account_type="savings")
    older = transaction("b1", 1, NOW - timedelta(hours=1), -100, balance_after_minor=1_000)
    state = rebuild([newer, older])
    got = features(state, NOW)
    assert got["balances"] == {1: 900}
    assert got["total_deposit_balance"] == 900  # the type came with the newer event only
    assert got["last_event_at"] == NOW.isoformat()


def test_digital_activity_logins_and_engagement() -> None:
    history = [
        digital("a", 1, NOW - timedelta(days=1), "login", session_id="s1"),
        digital("b", 1, NOW - timedelta(days=1), "page_view", session_id="s1"),
        digital("c", 1, NOW - timedelta(days=5), "login", session_id="s2"),
        digital("d", 1, NOW - timedelta(days=40), "login", session_id="s3"),
        transaction("e", 1, NOW - timedelta(days=2), -300, channel="card"),
        transaction("f", 1, NOW - timedelta(days=3), -300, channel="ach"),  # not the customer
    ]
    got = features(rebuild(history), NOW)
    assert got["logins_30d"] == 2
    assert got["sessions_30d"] == 2
    assert got["active_days_30d"] == 3
    assert got["days_since_last_login"] == 1
    assert got["engagement"] == engagement(3, 2, 1)
    assert 0 < got["engagement"] < 1
    assert engagement(0, 0, None) == 0 and engagement(30, 40, 0) == 1


def test_profile_fields_keep_the_latest_value() -> None:
    history = [
        profile("p2", 1, NOW, "marketing_consent", False),
        profile("p1", 1, NOW - timedelta(days=1), "marketing_consent", True),
        profile("p3", 1, NOW - timedelta(days=1), "language", "es"),
    ]
    assert features(rebuild(history), NOW)["profile"] == {
        "language": "es",
        "marketing_consent": False,
    }


def test_pruning_old_buckets_keeps_the_features() -> None:
    history = [
        transaction("new", 1, NOW - timedelta(days=10), -700),
        transaction("old", 1, NOW - timedelta(days=HORIZON_DAYS + 5), -700),
        digital("gone", 1, NOW - timedelta(days=HORIZON_DAYS + 1), "login", session_id="x"),
    ]
    state = rebuild(history)
    before = features(state, NOW)
    assert prune(state, NOW) == 4 + 3 + 2  # counters of "old" and of "gone", and both ids
    assert set(state.applied) == {"new"}
    assert all(int(key.split(":")[1]) > NOW.toordinal() - HORIZON_DAYS for key in state.counters)
    assert features(state, NOW) == before


def test_ties_are_broken_the_same_way_whatever_the_order() -> None:
    a = transaction("a", 1, NOW, -1, balance_after_minor=100)
    b = transaction("b", 1, NOW, -1, balance_after_minor=200)
    c = profile("c", 1, NOW, "push", True)
    d = profile("d", 1, NOW, "push", False)
    assert rebuild([a, b, c, d]) == rebuild([d, b, c, a])
    assert features(rebuild([b, a, c, d]), NOW) == recompute([a, b, d, c], NOW)
