"""The insight detectors: each a pure function of a customer's history and a clock.

``detect_all`` runs every detector on a :class:`~services.insights.history.History`;
``insights_for`` loads the history of one customer and runs them. The detectors read only the
customer's own data (never the synthetic bank's ground truth) and work on any bank's ledger:
thresholds are stated once, next to the detector that uses them, with the reason for each.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection

from services.insights import INSIGHT_TYPES, Insight
from services.insights.cashflow import deposit_maturing, paycheck_landed, upcoming_bills
from services.insights.forecast import business_cash_shortfall, low_balance_forecast
from services.insights.history import History, load_history
from services.insights.life import churn_risk, home_buying, portfolio_drift
from services.insights.spending import (
    duplicate_charge,
    free_trial_ending,
    large_transaction,
    price_increase,
)

Detector = Callable[[History, datetime], list[Insight]]

# Insight type -> its detector (every key of INSIGHT_TYPES has one).
DETECTORS: dict[str, Detector] = {
    "large_transaction": large_transaction,
    "price_increase": price_increase,
    "duplicate_charge": duplicate_charge,
    "free_trial_ending": free_trial_ending,
    "deposit_maturing": deposit_maturing,
    "paycheck_landed": paycheck_landed,
    "upcoming_bills": upcoming_bills,
    "low_balance_forecast": low_balance_forecast,
    "business_cash_shortfall": business_cash_shortfall,
    "portfolio_drift": portfolio_drift,
    "churn_risk": churn_risk,
    "home_buying": home_buying,
}

SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}
TYPE_RANK = {name: i for i, name in enumerate(INSIGHT_TYPES)}


def detect_all(history: History, now: datetime) -> list[Insight]:
    """Every insight for the customer of ``history`` at ``now``, most severe first.

    Ties keep the order of ``INSIGHT_TYPES``, so the same history always gives the same list.
    """
    found = [insight for detect in DETECTORS.values() for insight in detect(history, now)]
    return sorted(found, key=lambda i: (SEVERITY_RANK[i.severity], TYPE_RANK[i.type]))


def insights_for(conn: Connection, *, person_id: int, now: datetime) -> list[Insight]:
    """Load ``person_id``'s history and run every detector on it.

    Args:
        conn: A connection to the system of record.
        person_id: Whose insights (the authenticated customer, never user input).
        now: The clock, aware UTC.
    """
    return detect_all(load_history(conn, person_id=person_id, now=now), now)
