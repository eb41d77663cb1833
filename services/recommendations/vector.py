"""The feature vector: one customer, compact, everything a decision reads and nothing more.

Built from the system of record by :func:`build_vector`, cached as bytes (:func:`to_bytes`,
about 1 KB), and read by rules and copy through :meth:`FeatureVector.values`: a flat map of
dotted paths (``balance.savings_minor``, ``has.investment``, ``insight.churn_risk``,
``score.churn``...) that ``services.recommendations.paths`` lists.
"""

from __future__ import annotations

import json
from dataclasses import astuple, dataclass, field, fields
from datetime import datetime, time
from typing import Any

from sqlalchemy import Connection

from services.insights import Insight
from services.reads.profiles import load_profile
from services.recommendations import signals
from services.recommendations.offer_log import OfferStats, offer_stats
from services.recommendations.paths import CONSENTS, FAMILIES, SCALARS

VERSION = 1


@dataclass(frozen=True, slots=True)
class InsightBrief:
    """An insight as the vector keeps it: type, severity, message and scalar figures."""

    type: str
    severity: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class FeatureVector:
    """Everything a decision reads about one customer (money in minor units)."""

    person_id: int
    as_of: int  # Unix seconds when built
    first_name: str
    segment: str
    watermark: int = 0  # Unix microseconds of the latest event folded in (see live.py)
    age: int | None = None
    is_business: bool = False
    tenure_months: int | None = None
    currency: str = "USD"
    products: tuple[str, ...] = ()  # open account types held
    checking_minor: int = 0
    savings_minor: int = 0
    investment_minor: int = 0
    term_deposit_minor: int = 0
    business_minor: int = 0
    deposits_minor: int = 0
    credit_used_minor: int = 0
    credit_limit_minor: int = 0
    credit_utilisation: float | None = None
    savings_apy_bps: int | None = None
    savings_growth_6m: float | None = None  # savings balance now / six months ago
    cd_maturity_days: int | None = None
    income_30d_minor: int = 0
    income_90d_minor: int = 0
    spend_30d_minor: int = 0
    spend_90d_minor: int = 0
    savings_rate: float | None = None  # share of 90-day income not spent
    net_flow_30d_minor: int = 0
    income_trend: float | None = None  # last 30 days' income / the 90-day monthly mean
    days_since_income: int | None = None
    pay_cadence: str | None = None  # of the salary series, if any
    sales_trend: float | None = None  # business takings, last 30 days / the year's monthly mean
    outflow_other_banks_90d_minor: int = 0
    forecast_low_minor: int = 0
    bills_due_5d_minor: int = 0
    bills_gap_5d_minor: int = 0  # bills due in 5 days beyond what checking holds
    cushion_months: float | None = None  # deposits / a month of spending
    subscriptions_monthly_minor: int = 0
    card_spend_annual_minor: int = 0
    spend_shares: tuple[tuple[str, float], ...] = ()  # the top categories, 90 days
    top_category: str | None = None
    engagement: float = 0.0
    logins_30d: int = 0
    sessions_30d: int = 0
    days_since_login: int | None = None
    mortgage_research_30d: int = 0
    lease_days_left: int | None = None
    rent_monthly_minor: int = 0
    has_savings_rule: bool = False
    goals: int = 0
    goal_home: bool = False
    portfolio_drift_pp: int | None = None  # equity share minus its target, percentage points
    risk_tolerance: str | None = None
    marketing_consent: bool = False
    channels: tuple[str, ...] = ("in_app",)  # the customer's enabled channels (CONSENTS)
    quiet_start: int | None = None  # minutes after local midnight
    quiet_end: int | None = None
    timezone: str = "America/New_York"
    insights: tuple[InsightBrief, ...] = ()
    offers: dict[str, OfferStats] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)

    def values(self) -> dict[str, Any]:
        """The flat ``path -> value`` map that rules and templates read."""
        out = {path: getattr(self, attr) for path, attr in SCALARS.items()}
        held = set(self.products)
        for kind in FAMILIES["has"] or ():
            out[f"has.{kind}"] = kind in held
        for name in CONSENTS:
            out[f"consent.{name}"] = name in self.channels
        for category, share in self.spend_shares:
            out[f"spend_share.{category}"] = share
        for brief in self.insights:
            out.setdefault(f"insight.{brief.type}", brief.severity)
        for name, score in self.scores.items():
            out[f"score.{name}"] = score
        return out

    def insight(self, type_: str) -> InsightBrief | None:
        """This customer's insight of ``type_``, if any."""
        return next((i for i in self.insights if i.type == type_), None)


_NAMES = tuple(f.name for f in fields(FeatureVector))
_TAIL = ("insights", "offers", "scores")  # encoded specially, always last


def to_bytes(vector: FeatureVector) -> bytes:
    """A compact JSON array: version, then the fields in declaration order."""
    row: list[Any] = [VERSION]
    for name in _NAMES[: -len(_TAIL)]:
        value = getattr(vector, name)  # not dataclasses.astuple: it deep-copies
        if isinstance(value, float):
            value = round(value, 4)
        elif name == "spend_shares":
            value = [[c, round(s, 4)] for c, s in value]
        row.append(value)
    row.append([[i.type, i.severity, i.message, i.data] for i in vector.insights])
    row.append({code: astuple(stats) for code, stats in vector.offers.items()})
    row.append({name: round(score, 4) for name, score in vector.scores.items()})
    return json.dumps(row, separators=(",", ":"), ensure_ascii=False).encode()


def from_bytes(data: bytes) -> FeatureVector:
    """The vector :func:`to_bytes` wrote.

    Raises:
        ValueError: for bytes of another version or shape.
    """
    row = json.loads(data)
    if not isinstance(row, list) or not row or row[0] != VERSION or len(row) != len(_NAMES) + 1:
        raise ValueError("not a feature vector of this version")
    values = dict(zip(_NAMES[: -len(_TAIL)], row[1 : -len(_TAIL)], strict=True))
    for name in ("products", "channels"):
        values[name] = tuple(values[name])
    values["spend_shares"] = tuple((c, s) for c, s in values["spend_shares"])
    insights, offers, scores = row[-3:]
    return FeatureVector(
        **values,
        insights=tuple(InsightBrief(t, s, m, d) for t, s, m, d in insights),
        offers={code: OfferStats(*stats) for code, stats in offers.items()},
        scores=scores,
    )


TOP_SHARES = 3
MESSAGE_CHARS, DATA_KEYS, TEXT_CHARS = 200, 8, 80
CREDIT = ("credit_card", "line_of_credit")


def build_vector(
    conn: Connection,
    *,
    person_id: int,
    now: datetime,
    insights: list[Insight] | None = None,
    scores: dict[str, float] | None = None,
) -> FeatureVector:
    """Build one customer's vector from the system of record.

    Args:
        conn: A connection to the system of record.
        person_id: Whose vector (the authenticated customer, never user input).
        now: The clock (aware UTC).
        insights: What the insight detectors found for this customer now.
        scores: Model scores (``RISK_SCORES``) to carry, e.g. from ``risk.RiskModels``.

    Raises:
        services.reads.profiles.ProfileNotFound: when no person has that id.
    """
    profile = load_profile(conn, person_id=person_id, now=now)
    today = now.date()
    open_ = [p for p in profile.products if p.status == "open"]
    balance: dict[str, int] = {}
    for product in open_:
        balance[product.type] = balance.get(product.type, 0) + product.balance_minor
    savings_id = next((p.account_id for p in open_ if p.type == "savings"), None)
    spend90 = profile.spending_by_category_minor["90d"]
    outflow = profile.transfers_out_minor["90d"]  # money leaving for another bank
    spent90 = profile.spending_minor["90d"]
    spent30 = profile.spending_minor["30d"]
    income30, income90 = profile.income_minor["30d"], profile.income_minor["90d"]
    shares = sorted(spend90.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_SHARES]
    prefs = profile.preferences
    bills = -sum(
        s.amount_minor
        for s in profile.recurring
        if s.kind != "salary"
        and s.amount_minor < 0
        and s.next_date is not None
        and 0 < (s.next_date - today).days <= 5
    )
    vector = FeatureVector(
        person_id=person_id,
        as_of=int(now.timestamp()),
        watermark=int(now.timestamp() * 1_000_000),
        segment=profile.segment,
        currency=open_[0].currency if open_ else "USD",
        products=tuple(sorted({p.type for p in open_})),
        checking_minor=balance.get("checking", 0),
        savings_minor=balance.get("savings", 0),
        investment_minor=balance.get("investment", 0),
        term_deposit_minor=balance.get("term_deposit", 0),
        business_minor=balance.get("business_checking", 0),
        deposits_minor=profile.deposit_balance_minor,
        credit_used_minor=-sum(min(0, balance.get(kind, 0)) for kind in CREDIT),
        income_30d_minor=income30,
        income_90d_minor=income90,
        spend_30d_minor=spent30,
        spend_90d_minor=spent90,
        savings_rate=round(1 - spent90 / income90, 4) if income90 else None,
        net_flow_30d_minor=profile.derived.net_flow_30d_minor,
        income_trend=round(income30 / (income90 / 3), 4) if income90 else None,
        outflow_other_banks_90d_minor=outflow,
        forecast_low_minor=profile.derived.forecast_low_minor,
        bills_due_5d_minor=bills,
        subscriptions_monthly_minor=-sum(
            s.amount_minor for s in profile.recurring if s.kind == "subscription"
        ),
        spend_shares=tuple((c, round(v / spent90, 4)) for c, v in shares) if spent90 else (),
        top_category=shares[0][0] if shares else None,
        engagement=profile.derived.engagement,
        logins_30d=profile.digital.logins_30d,
        sessions_30d=profile.digital.sessions_30d,
        days_since_login=None
        if profile.digital.last_seen is None
        else max(0, (now - profile.digital.last_seen).days),
        pay_cadence=next((s.cadence for s in profile.recurring if s.kind == "salary"), None),
        goals=len(profile.goals),
        goal_home=any("house" in g.name.lower() for g in profile.goals),
        marketing_consent=bool(prefs.get("marketing_consent", False)),
        channels=tuple(c for c in CONSENTS if prefs.get(c, c == "in_app")),
        quiet_start=_minutes(prefs.get("quiet_start")),
        quiet_end=_minutes(prefs.get("quiet_end")),
        timezone=prefs.get("timezone") or "America/New_York",
        insights=tuple(brief(i) for i in insights or ()),
        offers=offer_stats(conn, person_id=person_id, now=now),
        scores=dict(scores or {}),
        **signals.person_facts(conn, person_id, today),
        **signals.account_facts(conn, person_id, today),
        **signals.ledger_facts(conn, person_id, now, savings_id),
        **signals.housing_and_habits(conn, person_id, now),
    )
    derive(vector)
    return vector


def derive(vector: FeatureVector) -> None:
    """Fill the features computed from other features (the bills gap, cushion, utilisation)."""
    vector.bills_gap_5d_minor = max(0, vector.bills_due_5d_minor - max(0, vector.checking_minor))
    monthly = vector.spend_90d_minor / 3
    vector.cushion_months = round(vector.deposits_minor / monthly, 3) if monthly else None
    limit = vector.credit_limit_minor
    vector.credit_utilisation = round(vector.credit_used_minor / limit, 4) if limit else None


def _minutes(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = time.fromisoformat(value)
    return int(value.hour * 60 + value.minute)


def brief(insight: Insight) -> InsightBrief:
    """An insight trimmed to what the vector keeps: scalar figures, short texts."""
    data: dict[str, Any] = {}
    for key, value in insight.data.items():
        if len(data) >= DATA_KEYS:
            break
        if isinstance(value, str):
            data[key] = value[:TEXT_CHARS]
        elif value is None or isinstance(value, bool | int | float):
            data[key] = value
    return InsightBrief(insight.type, insight.severity, insight.message[:MESSAGE_CHARS], data)
