"""The personalised dashboard: which widgets a customer sees first, and why.

Each widget gets a relevance score from the profile and the live insights, with the reasons
that produced it; widgets with nothing to show are left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from services.insights import Insight
from services.reads.profiles import Profile

SEVERITY = {"critical": 1.0, "warning": 0.7, "info": 0.4}
BILLS_DAYS = 7


@dataclass(frozen=True)
class Widget:
    """One dashboard tile with its relevance and the reasons behind it."""

    kind: str  # insights | upcoming_bills | cash_flow | savings_goals | investments | offers
    score: float
    reasons: tuple[str, ...]
    data: dict[str, Any] = field(default_factory=dict)


def _insights(insights: list[Insight]) -> Widget | None:
    if not insights:
        return None
    top = max(SEVERITY[i.severity] for i in insights)
    return Widget(
        "insights",
        0.5 + 0.5 * top,
        tuple(f"insight:{i.type}" for i in insights),
        {"items": [i.type for i in insights]},
    )


def _bills(profile: Profile) -> Widget | None:
    today = profile.as_of.date()
    due = [
        s
        for s in profile.recurring
        if s.amount_minor < 0
        and s.next_date
        and today < s.next_date <= today + timedelta(days=BILLS_DAYS)
    ]
    if not due:
        return None
    total = -sum(s.amount_minor for s in due)
    checking = sum(p.balance_minor for p in profile.products if p.type == "checking")
    tight = total > checking
    reasons = [f"feature:bills_due_{BILLS_DAYS}d={len(due)}"]
    if tight:
        reasons.append("feature:bills_exceed_checking")
    return Widget(
        "upcoming_bills",
        0.9 if tight else 0.45 + 0.05 * min(len(due), 5),
        tuple(reasons),
        {"count": len(due), "total_minor": total},
    )


def _cash_flow(profile: Profile) -> Widget | None:
    derived = profile.derived
    if derived.forecast_low_minor >= 0 and derived.net_flow_30d_minor >= 0:
        return None
    reasons = []
    if derived.forecast_low_minor < 0:
        reasons.append("feature:forecast_below_zero_30d")
    if derived.net_flow_30d_minor < 0:
        reasons.append("feature:net_outflow_30d")
    return Widget(
        "cash_flow",
        0.85 if derived.forecast_low_minor < 0 else 0.5,
        tuple(reasons),
        {"forecast_low_minor": derived.forecast_low_minor},
    )


def _goals(profile: Profile) -> Widget | None:
    if not profile.goals:
        return None
    progress = [g.saved_minor / g.target_minor for g in profile.goals if g.target_minor > 0]
    closest = max(progress, default=0.0)
    return Widget(
        "savings_goals",
        0.4 + 0.4 * closest,  # the customer's own plans outrank the bank's offers
        (f"feature:goals={len(profile.goals)}", f"feature:best_progress={closest:.0%}"),
        {"goals": [g.name for g in profile.goals]},
    )


def _investments(profile: Profile, insights: list[Insight]) -> Widget | None:
    held = [p for p in profile.products if p.type == "investment"]
    if not held:
        return None
    drift = any(i.type == "portfolio_drift" for i in insights)
    share = sum(p.balance_minor for p in held) / max(
        1, profile.deposit_balance_minor + sum(p.balance_minor for p in held)
    )
    reasons = [f"feature:investment_share={share:.0%}"]
    if drift:
        reasons.append("insight:portfolio_drift")
    return Widget(
        "investments",
        0.8 if drift else 0.25 + 0.4 * share,
        tuple(reasons),
        {"balance_minor": sum(p.balance_minor for p in held)},
    )


def _offers(offers: list[str], profile: Profile) -> Widget | None:
    if not offers:
        return None
    engaged = profile.derived.engagement
    return Widget(
        "offers", 0.2 + 0.3 * engaged, (f"feature:engagement={engaged:.2f}",), {"actions": offers}
    )


def arrange_dashboard(
    profile: Profile, insights: list[Insight], offers: list[str] | None = None
) -> list[Widget]:
    """The customer's widgets, most relevant first (ties keep a fixed order).

    Args:
        profile: The customer's unified profile.
        insights: The insights that hold for them now.
        offers: Action codes the decision engine recommends, best first.
    """
    candidates = [
        _insights(insights),
        _bills(profile),
        _cash_flow(profile),
        _goals(profile),
        _investments(profile, insights),
        _offers(offers or [], profile),
    ]
    widgets = [w for w in candidates if w is not None]
    return sorted(widgets, key=lambda w: -w.score)
