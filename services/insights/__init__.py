"""Insights: what is worth telling a customer now, found in their own history.

This module holds the contract (``Insight``, the insight types and the actions they suggest);
the detectors live in ``services/insights/detectors.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

Severity = Literal["info", "warning", "critical"]
# Who may read something the bank knows: the customer (and so their advisor and the bank), the
# advisor (bank staff serving the customer, never the customer), or the bank's own analysis only.
Audience = Literal["customer", "advisor", "bank"]
AUDIENCES: tuple[Audience, ...] = ("customer", "advisor", "bank")

# Insight type -> the catalogue action it suggests (codes of services/recommendations/catalog).
INSIGHT_TYPES: dict[str, str] = {
    "large_transaction": "review_transaction",
    "price_increase": "subscription_review",
    "duplicate_charge": "dispute_charge",
    "free_trial_ending": "subscription_review",
    "deposit_maturing": "cd_renewal",
    "paycheck_landed": "savings_rule",
    "upcoming_bills": "bill_reminders",
    "low_balance_forecast": "overdraft_protection",
    "business_cash_shortfall": "business_line_of_credit",
    "portfolio_drift": "portfolio_review",
    "churn_risk": "loyalty_bonus",
    "home_buying": "mortgage_preapproval",
}
# The planted situation of the synthetic bank that each insight type should find.
PLANTED_SITUATION: dict[str, str] = {
    "large_transaction": "large_transaction",
    "price_increase": "subscription_price_increase",
    "duplicate_charge": "duplicate_charge",
    "free_trial_ending": "free_trial_turning_paid",
    "deposit_maturing": "cd_maturing",
    "paycheck_landed": "paycheck_with_savings_rule",
    "low_balance_forecast": "upcoming_bills_low_balance",
    "upcoming_bills": "bills_due_soon",
    "business_cash_shortfall": "business_cash_shortfall",
    "portfolio_drift": "portfolio_drift",
    "churn_risk": "churn_risk",
    "home_buying": "home_buying",
}
# Where a planted situation is narrower than its insight type, the key of ``Insight.data`` that
# must be set for the insight to count as finding it: every paycheck is worth a word, but the
# planted twin is a paycheck landing for a customer who has a savings rule.
PLANTED_WHEN: dict[str, str] = {"paycheck_landed": "savings_rule_minor"}


@dataclass(frozen=True)
class InsightCopy:
    """How an insight type reads: its title, who may read it, and the reason it gives for an offer.

    ``because`` completes "We're suggesting this because ..." in the reader's terms; ``{date}``
    is filled from the insight's own date figure when it has one ("matures on Dec 12"), and the
    phrase says "soon" when it has none.
    """

    title: str
    audience: Audience
    because: str


# Every insight type's copy. Only ``customer`` types reach a customer surface; a signal about
# the customer's relationship with the bank (leaving, falling engagement) is the bank's to act on
# with a service, never a verdict shown to the customer.
INSIGHT_COPY: dict[str, InsightCopy] = {
    "large_transaction": InsightCopy(
        "Large transaction", "customer", "there was an unusually large payment on your account"
    ),
    "price_increase": InsightCopy(
        "A subscription costs more", "customer", "one of your subscriptions now costs more"
    ),
    "duplicate_charge": InsightCopy(
        "Possible duplicate charge", "customer", "you may have been charged twice"
    ),
    "free_trial_ending": InsightCopy(
        "Free trial ending", "customer", "a free trial of yours is turning into a paid plan"
    ),
    "deposit_maturing": InsightCopy(
        "Term deposit maturing", "customer", "your CD matures on {date}"
    ),
    "paycheck_landed": InsightCopy("Your pay has landed", "customer", "your pay has landed"),
    "upcoming_bills": InsightCopy("Bills coming up", "customer", "you have bills due soon"),
    "low_balance_forecast": InsightCopy(
        "Balance may run low", "customer", "your balance may run low by {date}"
    ),
    "business_cash_shortfall": InsightCopy(
        "Business cash may run short", "customer", "your business's cash may run short"
    ),
    "portfolio_drift": InsightCopy(
        "Portfolio has drifted", "customer", "your portfolio has drifted from your plan"
    ),
    "churn_risk": InsightCopy(
        "May move their banking elsewhere",
        "advisor",
        "the customer shows signs of moving their banking elsewhere",
    ),
    "home_buying": InsightCopy(
        "Thinking of buying a home?", "customer", "you've been looking at mortgages"
    ),
}
_DATE_KEYS = ("maturity_date", "low_on", "lease_ends")


@dataclass(frozen=True)
class Insight:
    """One thing worth telling a customer, with the evidence behind it."""

    type: str  # a key of INSIGHT_TYPES
    severity: Severity
    message: str  # plain language, for the customer
    suggested_action: str  # a catalogue action code
    evidence: tuple[str, ...] = ()  # e.g. "ledger:123", "event:456", "account:4200"
    detected_at: datetime | None = None
    data: dict[str, Any] = field(default_factory=dict)  # figures behind the message


def customer_may_read(insight_type: str) -> bool:
    """Whether insights of this type may reach the customer they are about."""
    copy = INSIGHT_COPY.get(insight_type)
    return copy is not None and copy.audience == "customer"


def for_customer(insights: Iterable[Insight]) -> list[Insight]:
    """The insights a customer surface may show, in their order: the others are the bank's."""
    return [i for i in insights if customer_may_read(i.type)]


def because(insight_type: str, data: dict[str, Any] | None = None) -> str:
    """Why an insight of this type makes something relevant, in its reader's terms.

    ``data`` is the insight's figures: a date among them names the day ("on Dec 12").
    """
    copy = INSIGHT_COPY[insight_type]
    if "{date}" not in copy.because:
        return copy.because
    for key in _DATE_KEYS:
        raw = (data or {}).get(key)
        try:
            day = raw if isinstance(raw, date) else date.fromisoformat(str(raw)[:10])
        except ValueError:
            continue
        return copy.because.replace("{date}", f"{day:%b} {day.day}")
    return re.sub(r"\s+\w+\s+\{date\}", " soon", copy.because)
