"""Feature vectors as numbers for the models: one fixed, named, bounded encoding.

Money goes through a signed log so that a millionaire does not dominate; ratios are clipped;
missing values get a neutral number and, where missing means something, a flag of their own.
The names (``FEATURES``) are saved with every model, so a model never reads a column it was not
trained on.
"""

from __future__ import annotations

import math

import numpy as np

from services.insights import INSIGHT_TYPES
from services.models import AccountType
from services.recommendations.paths import RISK_SCORES
from services.recommendations.vector import FeatureVector

SEGMENT_NAMES = ("youth", "mass_market", "affluent", "private", "business")
PRODUCT_NAMES = tuple(t.value for t in AccountType)
REGULAR_PAY = frozenset({"weekly", "biweekly", "semimonthly", "monthly"})


def _log(minor: int) -> float:
    """Signed log10 of a money amount in major units (so $10,000 -> 4)."""
    major = minor / 100
    return math.copysign(math.log10(1 + abs(major)), major)


def _clip(value: float | None, low: float, high: float, missing: float) -> float:
    return missing if value is None else min(high, max(low, float(value)))


def _days(value: int | None, scale: float, missing: float = 1.0) -> float:
    return missing if value is None else min(1.0, max(0.0, value / scale))


def _base(v: FeatureVector) -> list[tuple[str, float]]:
    drift = v.portfolio_drift_pp
    return [
        ("age", _clip(v.age, 0, 100, 40) / 100),
        ("tenure", _clip(v.tenure_months, 0, 240, 24) / 240),
        ("is_business", float(v.is_business)),
        ("checking", _log(v.checking_minor)),
        ("savings", _log(v.savings_minor)),
        ("investment", _log(v.investment_minor)),
        ("term_deposit", _log(v.term_deposit_minor)),
        ("business", _log(v.business_minor)),
        ("deposits", _log(v.deposits_minor)),
        ("credit_used", _log(v.credit_used_minor)),
        ("utilisation", _clip(v.credit_utilisation, 0, 1.5, 0)),
        ("savings_apy", _clip(v.savings_apy_bps, 0, 1000, 0) / 100),
        ("low_apy", float(v.savings_apy_bps is not None and v.savings_apy_bps < 300)),
        ("savings_growth", _clip(v.savings_growth_6m, 0, 3, 1)),
        ("cd_days", _days(v.cd_maturity_days, 365)),
        ("cd_soon", float(v.cd_maturity_days is not None and v.cd_maturity_days <= 30)),
        ("income_30d", _log(v.income_30d_minor)),
        ("income_90d", _log(v.income_90d_minor)),
        ("spend_30d", _log(v.spend_30d_minor)),
        ("spend_90d", _log(v.spend_90d_minor)),
        ("savings_rate", _clip(v.savings_rate, -2, 1, 0)),
        ("net_30d", _log(v.net_flow_30d_minor)),
        ("income_trend", _clip(v.income_trend, 0, 3, 0)),
        ("days_since_income", _days(v.days_since_income, 90)),
        ("regular_pay", float(v.pay_cadence in REGULAR_PAY)),
        ("sales_trend", _clip(v.sales_trend, 0, 3, 1)),
        ("outflow_other_banks", _log(v.outflow_other_banks_90d_minor)),
        ("forecast_low", _log(v.forecast_low_minor)),
        ("bills_gap", _log(v.bills_gap_5d_minor)),
        ("cushion", _clip(v.cushion_months, 0, 24, 0) / 24),
        ("subscriptions", _log(v.subscriptions_monthly_minor)),
        ("card_spend", _log(v.card_spend_annual_minor)),
        ("travel_share", dict(v.spend_shares).get("travel", 0.0)),
        ("engagement", v.engagement),
        ("logins", min(v.logins_30d, 40) / 40),
        ("sessions", min(v.sessions_30d, 40) / 40),
        ("days_since_login", _days(v.days_since_login, 60)),
        ("mortgage_research", min(v.mortgage_research_30d, 10) / 10),
        ("lease_days", _days(v.lease_days_left, 365)),
        ("lease_soon", float(v.lease_days_left is not None and 0 <= v.lease_days_left <= 120)),
        ("rent", _log(v.rent_monthly_minor)),
        ("savings_rule", float(v.has_savings_rule)),
        ("goals", min(v.goals, 5) / 5),
        ("goal_home", float(v.goal_home)),
        ("drift", 0.0 if drift is None else min(abs(drift), 50) / 50),
        ("drifted", float(drift is not None and abs(drift) > 10)),
        ("marketing_consent", float(v.marketing_consent)),
        ("push_on", float("push" in v.channels)),
    ]


def _flags(v: FeatureVector) -> list[tuple[str, float]]:
    held = set(v.products)
    present = {i.type for i in v.insights}
    return (
        [(f"segment.{s}", float(v.segment == s)) for s in SEGMENT_NAMES]
        + [(f"has.{p}", float(p in held)) for p in PRODUCT_NAMES]
        + [(f"insight.{t}", float(t in present)) for t in INSIGHT_TYPES]
        + [(f"score.{s}", float(v.scores.get(s, 0.0))) for s in RISK_SCORES]
    )


def named_features(vector: FeatureVector) -> list[tuple[str, float]]:
    """Every model input as ``(name, value)``, in a fixed order."""
    return _base(vector) + _flags(vector)


_EMPTY = FeatureVector(person_id=0, as_of=0, first_name="", segment="")
FEATURES: tuple[str, ...] = tuple(name for name, _ in named_features(_EMPTY))


def encode(vector: FeatureVector, names: tuple[str, ...] = FEATURES) -> np.ndarray:
    """The vector as a float array of the named features (all of ``FEATURES`` by default)."""
    values = dict(named_features(vector))
    return np.array([values[name] for name in names], dtype=np.float64)
