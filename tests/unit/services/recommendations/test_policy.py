"""Contact policy: caps, cool-downs, quiet hours in the customer's zone, consent, channels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.recommendations.engine import decide
from services.recommendations.policy import in_quiet_hours
from tests.support.decision_kit import NOW, action, catalog, insight, stats, vector

OFFER = action("card_upgrade", contact={"max_per_30d": 2, "cooldown_days": 30})
SERVICE = action(
    "dispute_charge",
    kind="insight_followup",
    insights=["duplicate_charge"],
    contact={"channels": ["push", "in_app_card"], "marketing": False},
)
LATE = datetime(2026, 3, 3, 4, 0, tzinfo=UTC)  # 23:00 the evening before, in New York


def _codes(v, *actions, now=NOW, **kwargs) -> list[str]:
    found = decide(
        v, catalog=catalog(*(actions or (OFFER,))), level="behavioral", now=now, **kwargs
    )
    return [r.code for r in found]


def test_frequency_cap() -> None:
    assert _codes(vector(offers={"card_upgrade": stats(shown_30d=1, last_shown=3)})) == [
        "card_upgrade"
    ]
    assert _codes(vector(offers={"card_upgrade": stats(shown_30d=2, last_shown=3)})) == []


def test_a_declined_offer_waits_out_its_cooldown() -> None:
    declined = vector(offers={"card_upgrade": stats(last_shown=10, last_declined=10)})
    assert _codes(declined) == []  # ten days into a 30-day cool-down
    assert _codes(declined, now=NOW + timedelta(days=19, hours=23)) == []
    after = decide(
        declined,
        catalog=catalog(OFFER),
        level="behavioral",
        now=NOW + timedelta(days=20, minutes=1),
    )
    assert [r.code for r in after] == ["card_upgrade"]
    assert "policy:cooldown_ok" in after[0].reasons


def test_cooldown_is_per_action() -> None:
    other = action("cashback_card")
    declined = vector(offers={"card_upgrade": stats(last_shown=1, last_declined=1)})
    assert _codes(declined, OFFER, other) == ["cashback_card"]


def test_dismissal_snoozes_and_acceptance_rests() -> None:
    assert _codes(vector(offers={"card_upgrade": stats(last_dismissed=3)})) == []
    assert _codes(vector(offers={"card_upgrade": stats(last_dismissed=8)})) == ["card_upgrade"]
    assert _codes(vector(offers={"card_upgrade": stats(last_accepted=60)})) == []
    assert _codes(vector(offers={"card_upgrade": stats(last_accepted=91)})) == ["card_upgrade"]


def test_quiet_hours_hold_push_but_in_app_still_goes() -> None:
    customer = vector(insights=(insight("duplicate_charge"),))
    [day] = decide(customer, catalog=catalog(SERVICE), level="behavioral", now=NOW)
    assert day.channel == "push" and "policy:quiet_hours_ok" in day.reasons
    [night] = decide(customer, catalog=catalog(SERVICE), level="behavioral", now=LATE)
    assert night.channel == "in_app_card"
    assert (
        decide(customer, catalog=catalog(SERVICE), level="behavioral", now=LATE, channel="push")
        == []
    )


def test_quiet_hours_are_the_customers_local_time() -> None:
    tokyo = vector(timezone="Asia/Tokyo")  # 15:00 UTC is midnight in Tokyo
    assert in_quiet_hours(tokyo, NOW)
    assert not in_quiet_hours(vector(), NOW)  # 10:00 in New York
    assert in_quiet_hours(vector(), LATE)
    assert not in_quiet_hours(vector(quiet_start=None, quiet_end=None), LATE)
    daytime = vector(quiet_start=9 * 60, quiet_end=17 * 60)  # a window not crossing midnight
    assert in_quiet_hours(daytime, NOW) and not in_quiet_hours(daytime, LATE)
    assert not in_quiet_hours(vector(timezone="Not/AZone"), NOW)  # unknown zone: UTC 15:00


def test_no_marketing_without_consent_but_service_insights_still_go() -> None:
    customer = vector(marketing_consent=False, insights=(insight("duplicate_charge"),))
    found = decide(customer, catalog=catalog(OFFER, SERVICE), level="behavioral", now=NOW)
    assert [r.code for r in found] == ["dispute_charge"]
    assert "policy:service_message" in found[0].reasons
    consenting = vector(insights=(insight("duplicate_charge"),))
    found = decide(consenting, catalog=catalog(OFFER, SERVICE), level="behavioral", now=NOW)
    assert {r.code for r in found} == {"card_upgrade", "dispute_charge"}
    assert "policy:consent_ok" in next(r for r in found if r.code == "card_upgrade").reasons


def test_channels_the_customer_turned_off_are_skipped() -> None:
    no_push = vector(channels=("in_app",), insights=(insight("duplicate_charge"),))
    [rec] = decide(no_push, catalog=catalog(SERVICE), level="behavioral", now=NOW)
    assert rec.channel == "in_app_card"
    nothing = vector(channels=(), insights=(insight("duplicate_charge"),))
    assert decide(nothing, catalog=catalog(SERVICE), level="behavioral", now=NOW) == []


def test_a_requested_channel_must_be_allowed_by_the_action() -> None:
    assert _codes(vector(), channel="advisor_script") == []  # OFFER allows in-app and push only
    chat = action("chatty", contact={"channels": ["chat_line"]})
    [rec] = decide(
        vector(), catalog=catalog(chat), level="behavioral", now=NOW, channel="chat_line"
    )
    assert rec.channel == "chat_line" and rec.body == "Chat about chatty"


@pytest.mark.parametrize(
    "blocked",
    [
        {"marketing_consent": False},
        {"offers": {"card_upgrade": stats(shown_30d=5, last_declined=1)}},
    ],
)
def test_policy_can_be_set_aside_to_judge_targeting_alone(blocked: dict) -> None:
    customer = vector(**blocked)
    assert _codes(customer) == []
    [rec] = decide(
        customer, catalog=catalog(OFFER), level="behavioral", now=NOW, apply_policy=False
    )
    assert rec.code == "card_upgrade" and "policy:not_applied" in rec.reasons
