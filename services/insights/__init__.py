"""Insights: what is worth telling a customer now, found in their own history.

This module holds the contract (``Insight``, the insight types and the actions they suggest);
the detectors live in ``services/insights/detectors.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Severity = Literal["info", "warning", "critical"]

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
    "churn_risk": "retention_offer",
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
class Insight:
    """One thing worth telling a customer, with the evidence behind it."""

    type: str  # a key of INSIGHT_TYPES
    severity: Severity
    message: str  # plain language, for the customer
    suggested_action: str  # a catalogue action code
    evidence: tuple[str, ...] = ()  # e.g. "ledger:123", "event:456", "account:4200"
    detected_at: datetime | None = None
    data: dict[str, Any] = field(default_factory=dict)  # figures behind the message
