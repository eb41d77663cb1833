"""The bank's past offers and how each customer answered, driven by their hidden needs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from services.synth.bundle import Bundle

OFFERS: tuple[str, ...] = (
    "high_yield_savings",
    "cd_renewal",
    "investment_account",
    "business_line_of_credit",
    "mortgage_preapproval",
    "card_upgrade",
    "overdraft_protection",
    "savings_rule",
    "turn_on_alerts",
    "advisor_booking",
    "loyalty_bonus",
    "portfolio_review",
    "subscription_review",
    "cashback_card",
    "personal_loan",
    "travel_insurance",
)
# A situation creates a need that an offer answers.
NEED_OF_SITUATION: dict[str, str] = {
    "growing_savings_no_investment": "investment_account",
    "cd_maturing": "cd_renewal",
    "home_buying": "mortgage_preapproval",
    "business_cash_shortfall": "business_line_of_credit",
    "churn_risk": "loyalty_bonus",
    "portfolio_drift": "portfolio_review",
    "overdraft": "overdraft_protection",
    "upcoming_bills_low_balance": "overdraft_protection",
    "subscription_price_increase": "subscription_review",
    "free_trial_turning_paid": "subscription_review",
}
# Needs that exist only lately: an offer shown months ago met no such need.
RECENT_NEEDS = frozenset(NEED_OF_SITUATION.values())
RECENT_DAYS = 60
CHANNELS = ("push", "email", "in_app", "chat", "branch")
WITH_NEED = {"accepted": 0.35, "clicked": 0.20, "declined": 0.15, "ignored": 0.30}
WITHOUT_NEED = {"accepted": 0.02, "clicked": 0.06, "declined": 0.35, "ignored": 0.57}


def needs_of(bundle: Bundle, situations: set[str]) -> set[str]:
    """What the customer really needs, from their situations and their holdings."""
    needs = {NEED_OF_SITUATION[s] for s in situations if s in NEED_OF_SITUATION}
    accounts = {a["key"]: a for a in bundle.accounts}
    savings = accounts.get("savings")
    if savings and savings["balance_minor"] >= 2_000_000 and savings["interest_rate_bps"] < 300:
        needs.add("high_yield_savings")
    has_rule = any(s["kind"] == "savings_rule" for s in bundle.scheduled)
    if savings and not has_rule and bundle.archetype in ("young_professional", "family"):
        needs.add("savings_rule")
    card_spend = -sum(e.amount for e in bundle.entries if e.channel == "card" and e.amount < 0)
    if "credit_card" in accounts and card_spend >= 3_000_000:
        needs.add("card_upgrade")
    if "credit_card" not in accounts and bundle.archetype != "student":
        needs.add("cashback_card")
    if not bundle.preference.get("push"):
        needs.add("turn_on_alerts")
    if "investment" in accounts and bundle.archetype in ("affluent", "wealth"):
        needs.add("advisor_booking")
    return needs


def offer_history(
    *, rng: np.random.Generator, bundle: Bundle, situations: set[str], as_of: date
) -> tuple[list[dict[str, Any]], set[str]]:
    """Offers shown over the 13 months and the responses; also returns the hidden needs."""
    needs = needs_of(bundle, situations)
    consent = bundle.preference.get("marketing_consent", False)
    channels = CHANNELS if consent else ("in_app", "chat", "branch")
    recent_from = as_of - timedelta(days=RECENT_DAYS)
    days = [int(rng.integers(1, 395)) for _ in range(int(rng.poisson(9)))]
    days += [int(rng.integers(1, RECENT_DAYS)) for _ in range(int(rng.poisson(2)))]
    out = []
    for ago in sorted(days, reverse=True):
        shown = datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC) - timedelta(
            days=ago, seconds=-int(rng.integers(9 * 3600, 20 * 3600))
        )
        code = str(rng.choice(OFFERS))
        live = code in needs and (code not in RECENT_NEEDS or shown.date() >= recent_from)
        table = WITH_NEED if live else WITHOUT_NEED
        response = str(rng.choice(list(table), p=list(table.values())))
        responded = (
            None if response == "ignored" else shown + timedelta(minutes=int(rng.integers(1, 2880)))
        )
        if responded is not None and responded.date() >= as_of:
            responded = shown + timedelta(minutes=int(rng.integers(1, 30)))
        out.append(
            {
                "offer_code": code,
                "channel": str(rng.choice(channels)),
                "shown_at": shown,
                "response": response,
                "responded_at": responded,
            }
        )
    return out, needs
