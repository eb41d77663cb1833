"""The paths rules and templates may read from a feature vector, checked when rules load."""

from __future__ import annotations

from services.insights import INSIGHT_TYPES
from services.models import AccountType

RISK_SCORES = ("churn", "home_buying")  # model scores the predictive level may read
CONSENTS = ("push", "email", "sms", "in_app")
# Rule path -> vector attribute, for the plain scalar features.
SCALARS: dict[str, str] = {
    "segment": "segment",
    "age": "age",
    "is_business": "is_business",
    "tenure_months": "tenure_months",
    "first_name": "first_name",
    "balance.checking_minor": "checking_minor",
    "balance.savings_minor": "savings_minor",
    "balance.investment_minor": "investment_minor",
    "balance.term_deposit_minor": "term_deposit_minor",
    "balance.business_minor": "business_minor",
    "balance.deposits_minor": "deposits_minor",
    "credit.used_minor": "credit_used_minor",
    "credit.limit_minor": "credit_limit_minor",
    "credit.utilisation": "credit_utilisation",
    "savings.apy_bps": "savings_apy_bps",
    "savings.growth_6m": "savings_growth_6m",
    "savings.rate": "savings_rate",
    "savings.has_rule": "has_savings_rule",
    "savings.goals": "goals",
    "savings.goal_home": "goal_home",
    "cd.maturity_days": "cd_maturity_days",
    "flow.income_30d_minor": "income_30d_minor",
    "flow.income_90d_minor": "income_90d_minor",
    "flow.spend_30d_minor": "spend_30d_minor",
    "flow.spend_90d_minor": "spend_90d_minor",
    "flow.net_30d_minor": "net_flow_30d_minor",
    "flow.income_trend": "income_trend",
    "flow.days_since_income": "days_since_income",
    "flow.pay_cadence": "pay_cadence",
    "flow.sales_trend": "sales_trend",
    "flow.outflow_other_banks_90d_minor": "outflow_other_banks_90d_minor",
    "flow.forecast_low_minor": "forecast_low_minor",
    "flow.bills_due_5d_minor": "bills_due_5d_minor",
    "flow.bills_gap_5d_minor": "bills_gap_5d_minor",
    "flow.cushion_months": "cushion_months",
    "flow.subscriptions_monthly_minor": "subscriptions_monthly_minor",
    "card.spend_annual_minor": "card_spend_annual_minor",
    "spend.top_category": "top_category",
    "digital.engagement": "engagement",
    "digital.logins_30d": "logins_30d",
    "digital.sessions_30d": "sessions_30d",
    "digital.days_since_login": "days_since_login",
    "digital.mortgage_research_30d": "mortgage_research_30d",
    "housing.lease_days_left": "lease_days_left",
    "housing.rent_monthly_minor": "rent_monthly_minor",
    "portfolio.drift_pp": "portfolio_drift_pp",
    "portfolio.risk_tolerance": "risk_tolerance",
    "consent.marketing": "marketing_consent",
}
FAMILIES: dict[str, frozenset[str] | None] = {
    "has": frozenset(t.value for t in AccountType),
    "insight": frozenset(INSIGHT_TYPES),
    "score": frozenset(RISK_SCORES),
    "consent": frozenset(CONSENTS),
    "spend_share": None,  # any category name
}


def is_known_field(path: str) -> bool:
    """Whether rules may read ``path``."""
    if path in SCALARS:
        return True
    family, _, name = path.partition(".")
    if family not in FAMILIES or not name:
        return False
    names = FAMILIES[family]
    return names is None or name in names
