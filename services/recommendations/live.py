"""Folding a bus event into a cached feature vector, so the next decision reflects it at once.

A vector is built from the system of record at some time (its ``watermark``). An event that
happened after that is applied as a delta: a paycheck adds to income and resets "days since
income", a purchase adds to spending, a login to activity, a consent change flips consent;
a booked balance replaces the balance of that account type. Events at or before the watermark
are taken as already in the vector, so a re-delivered event changes nothing.

The deltas keep windows as they were when the vector was built (nothing ages out between
rebuilds), so the cache also rebuilds each vector from the system of record on a schedule
(its TTL): deltas for the seconds after an event, the full build for the long run.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time
from typing import Any

from services.events import Event
from services.recommendations.offer_log import OfferStats
from services.recommendations.vector import FeatureVector, derive
from services.spending import flow_of

BALANCE_OF = {
    "checking": "checking_minor",
    "savings": "savings_minor",
    "investment": "investment_minor",
    "term_deposit": "term_deposit_minor",
    "business_checking": "business_minor",
}
DEPOSITS = ("checking_minor", "savings_minor", "business_minor")
CONSENT_FIELDS = {"push": "push", "email": "email", "sms": "sms", "in_app": "in_app"}


def micros(moment: datetime) -> int:
    """Unix microseconds of an aware time."""
    return int(moment.timestamp() * 1_000_000)


def apply_event(vector: FeatureVector, event: Event) -> FeatureVector | None:
    """A new vector with ``event`` folded in, or None when it is not newer than the vector."""
    when = micros(event.occurred_at)
    if event.person_id != vector.person_id or when <= vector.watermark:
        return None
    out = replace(vector, watermark=when, offers=dict(vector.offers), scores=dict(vector.scores))
    if event.type == "transaction":
        _transaction(out, event.data)
    elif event.type == "digital":
        _digital(out, event.data)
    else:
        _profile(out, event.data)
    derive(out)
    return out


def _transaction(v: FeatureVector, data: dict[str, Any]) -> None:
    amount = int(data["amount_minor"])
    category = str(data["category"])
    kind = data.get("account_type")
    flow = flow_of(category, amount, kind if isinstance(kind, str) else None)
    if flow == "income":
        v.income_30d_minor += amount
        v.income_90d_minor += amount
        v.days_since_income = 0
    elif flow == "move_out":
        v.outflow_other_banks_90d_minor -= amount
    elif flow == "spending":
        v.spend_30d_minor -= amount
        v.spend_90d_minor -= amount
        if data.get("channel") == "card":
            v.card_spend_annual_minor -= amount
    if flow != "own_move":
        v.net_flow_30d_minor += amount
    if v.income_90d_minor:
        v.savings_rate = round(1 - v.spend_90d_minor / v.income_90d_minor, 4)
    balance = data.get("balance_after_minor")
    if isinstance(balance, int) and isinstance(kind, str):
        if kind in BALANCE_OF:
            setattr(v, BALANCE_OF[kind], balance)
            v.deposits_minor = sum(getattr(v, name) for name in DEPOSITS)
        elif kind == "credit_card":
            v.credit_used_minor = max(0, -balance)


def _digital(v: FeatureVector, data: dict[str, Any]) -> None:
    if data.get("kind") == "login":
        v.logins_30d += 1
        v.days_since_login = 0
    page, detail = str(data.get("page") or ""), str(data.get("detail") or "")
    if page.startswith("/mortgages/") or detail.startswith("mortgage"):
        v.mortgage_research_30d += 1


def _profile(v: FeatureVector, data: dict[str, Any]) -> None:
    field, value = str(data["field"]), data.get("value")
    if field == "marketing_consent":
        v.marketing_consent = bool(value)
    elif field in CONSENT_FIELDS:
        name = CONSENT_FIELDS[field]
        others = tuple(c for c in v.channels if c != name)
        v.channels = others + (name,) if value else others
    elif field in ("quiet_start", "quiet_end"):
        minutes = None
        if isinstance(value, str) and value:
            moment = time.fromisoformat(value)
            minutes = moment.hour * 60 + moment.minute
        setattr(v, field, minutes)
    elif field == "timezone" and isinstance(value, str) and value:
        v.timezone = value


def apply_response(
    vector: FeatureVector, *, code: str, response: str, at: datetime
) -> FeatureVector:
    """The vector with a response to action ``code`` added to its offer history."""
    stats = vector.offers.setdefault(code, OfferStats())
    stamp = int(at.timestamp())
    if response == "shown":
        stats.shown_30d += 1
        stats.last_shown = stamp
    elif response == "declined":
        stats.last_declined = stamp
    elif response == "dismissed":
        stats.last_dismissed = stamp
    elif response == "accepted":
        stats.last_accepted = stamp
    return vector
