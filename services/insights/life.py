"""Insights about where the customer is heading: a drifting portfolio, leaving, buying a home."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.insights import Insight
from services.insights.common import make, median, ref
from services.insights.history import History
from services.models import DEPOSIT_TYPES

# --- portfolio drift ----------------------------------------------------------------------
# A common rebalancing band: act when any asset class sits more than 10 percentage points away
# from the target mix the customer chose with their risk tolerance.
DRIFT_BAND_PP = 10.0


def portfolio_drift(history: History, now: datetime) -> list[Insight]:
    """An investment account whose mix has moved beyond its band around the target allocation."""
    out = []
    for a in history.accounts:
        if a.type != "investment" or not a.target_allocation:
            continue
        held = [h for h in history.holdings if h.account_id == a.id]
        total = sum(h.market_value_minor for h in held)
        if total <= 0:
            continue
        actual = {
            c: 100 * sum(h.market_value_minor for h in held if h.asset_class == c) / total
            for c in set(a.target_allocation) | {h.asset_class for h in held}
        }
        drift = {c: actual[c] - a.target_allocation.get(c, 0) for c in actual}
        worst = max(sorted(drift), key=lambda c: abs(drift[c]))
        if abs(drift[worst]) <= DRIFT_BAND_PP:
            continue
        riskier = drift.get("equity", 0.0) > 0
        # Risk is about the share in equities, so the message leads with it when it has a target.
        lead = "equity" if "equity" in a.target_allocation else worst
        out.append(
            make(
                "portfolio_drift",
                "warning" if riskier else "info",
                f"Your {a.name} holds {actual[lead]:.0f}% {lead} against a target of "
                f"{a.target_allocation.get(lead, 0)}% for a {a.risk_tolerance or 'chosen'} "
                f"risk profile; it is {'riskier' if riskier else 'more cautious'} than you "
                "asked for. Rebalancing would bring it back.",
                [ref(a), *(f"holding:{h.id}" for h in held)],
                now,
                account_id=a.id,
                risk_tolerance=a.risk_tolerance,
                target_pct=dict(a.target_allocation),
                actual_pct={c: round(v, 1) for c, v in sorted(actual.items())},
                drift_pp={c: round(v, 1) for c, v in sorted(drift.items())},
                value_minor=total,
                currency=a.currency,
            )
        )
    return out


# --- churn risk ---------------------------------------------------------------------------
# Three signals a retention team watches, each 0 or 1, weighted into a score:
#   salary stopped: regular income is half a period overdue (and nothing for five weeks);
#   money leaving: transfers to other institutions in 60 days reach a quarter of the money
#     the customer had with the bank;
#   logins falling: logins per day in the last 60 days below half the rate of the year before.
# A score of CHURN_THRESHOLD needs two signals, one of them about money: falling logins alone
# is a quiet month, not a customer leaving.
CHURN_WEIGHTS = {"salary_stopped": 0.4, "money_leaving": 0.35, "logins_falling": 0.25}
CHURN_THRESHOLD = 0.6
RECENT_DAYS = 60
INCOME_MIN = 3  # paychecks needed to call income regular
INCOME_GRACE_DAYS = 35
INCOME_MISSED = 1.5  # half a pay period late: a paycheck has been missed, not delayed
LEAVING_SHARE = 0.25
LOGIN_FALL = 0.5
LOGIN_MIN = 10  # logins in the year before, to judge a fall


def churn_signals(history: History, now: datetime) -> dict[str, bool | float]:
    """The churn signals of a customer, and the figures behind them."""
    recent = now - timedelta(days=RECENT_DAYS)
    pay = [e.booked_at for e in history.entries if e.category == "income" and e.amount_minor > 0]
    stopped, gap_days = False, 0.0
    if len(pay) >= INCOME_MIN:
        gap_days = median([(b - a).days for a, b in zip(pay, pay[1:], strict=False)])
        quiet = (now - pay[-1]).days
        stopped = quiet > max(INCOME_GRACE_DAYS, INCOME_MISSED * gap_days)
    moved = -sum(
        e.amount_minor
        for e in history.entries
        if e.category == "transfer_out" and e.amount_minor < 0 and e.booked_at >= recent
    )
    held = sum(max(0, a.balance_minor) for a in history.accounts if a.type in DEPOSIT_TYPES)
    leaving = moved > 0 and moved >= LEAVING_SHARE * (moved + held)
    logins = [e.occurred_at for e in history.events if e.kind == "login"]
    late = sum(t >= recent for t in logins)
    early = [t for t in logins if t < recent]
    span = (recent - early[0]).days if early else 0
    falling = False
    if len(early) >= LOGIN_MIN and span > 0:
        falling = late / RECENT_DAYS < LOGIN_FALL * len(early) / span
    return {
        "salary_stopped": stopped,
        "money_leaving": leaving,
        "logins_falling": falling,
        "moved_out_minor": moved,
        "pay_gap_days": gap_days,
    }


def churn_risk(history: History, now: datetime) -> list[Insight]:
    """A customer showing the signs of moving their banking elsewhere (a note for the bank)."""
    signals = churn_signals(history, now)
    score = sum(w for name, w in CHURN_WEIGHTS.items() if signals[name])
    if score < CHURN_THRESHOLD:
        return []
    recent = now - timedelta(days=RECENT_DAYS)
    evidence = [
        ref(e) for e in history.entries if e.category == "transfer_out" and e.booked_at >= recent
    ]
    if signals["salary_stopped"]:  # the last paycheck that came
        pay = [e for e in history.entries if e.category == "income" and e.amount_minor > 0]
        evidence.append(ref(pay[-1]))
    if signals["logins_falling"]:  # the last login, if any
        evidence += [ref(e) for e in history.events if e.kind == "login"][-1:]
    named = [name.replace("_", " ") for name in CHURN_WEIGHTS if signals[name]]
    return [
        make(
            "churn_risk",
            "warning",
            f"Signs this customer may be leaving: {', '.join(named)}"
            + (
                f" ({history.money(int(signals['moved_out_minor']))} moved out in {RECENT_DAYS} "
                "days)."
                if signals["money_leaving"]
                else "."
            ),
            evidence,
            now,
            score=round(score, 2),
            threshold=CHURN_THRESHOLD,
            **{name: bool(signals[name]) for name in CHURN_WEIGHTS},
            moved_out_minor=int(signals["moved_out_minor"]),
        )
    ]


# --- life event: buying a home ------------------------------------------------------------
RESEARCH_DAYS = 30
RESEARCH_SESSIONS = 3  # separate visits in a month: a pattern, not one curious click
LEASE_DAYS = 120


def _mortgage_research(page: str | None, detail: str | None) -> bool:
    return (page or "").startswith("/mortgage") or "mortgage" in (detail or "").lower()


def home_buying(history: History, now: datetime) -> list[Insight]:
    """Mortgage research in the last month by a renter whose lease ends soon."""
    today = now.date()
    leases = [
        s
        for s in history.series
        if s.kind == "rent"
        and s.active
        and s.ends_on is not None
        and today <= s.ends_on <= today + timedelta(days=LEASE_DAYS)
    ]
    if not leases:
        return []
    since = now - timedelta(days=RESEARCH_DAYS)
    research = [
        e for e in history.events if e.occurred_at >= since and _mortgage_research(e.page, e.detail)
    ]
    sessions = {e.session_id for e in research}
    if len(sessions) < RESEARCH_SESSIONS:
        return []
    lease = min(leases, key=lambda s: s.ends_on or today)
    calculator = any(e.kind == "calculator" for e in research)
    return [
        make(
            "home_buying",
            "info",
            f"You've been looking at mortgages ({len(sessions)} visits this month) and your "
            f"lease ends on {lease.ends_on:%b %d}. A mortgage pre-approval shows what you can "
            "borrow before you make an offer.",
            [ref(lease), *(ref(e) for e in research)],
            now,
            research_sessions=len(sessions),
            used_calculator=calculator,
            lease_ends=lease.ends_on.isoformat() if lease.ends_on else None,
        )
    ]
