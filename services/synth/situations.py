"""Planted situations: which customers get which, and what the generated data shows.

Each situation has a stated share of customers. Planting is decided per customer, up front, so
the rest of the generator can shape the data (force a CD, drain an account, raise a price).
After generation, state-like situations are observed on the customer's booked data, so the
ground truth also names the ones that arose naturally (``planted: false``); hidden causes
(churn, home buying, a failing business) are truth because they were planted.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from services.synth.bundle import Bundle

# Stated share of all customers, and who can have it.
SHARES: dict[str, float] = {
    "subscription_price_increase": 0.10,
    "large_transaction": 0.08,
    "duplicate_charge": 0.05,
    "free_trial_turning_paid": 0.05,
    "cd_maturing": 0.05,
    "paycheck_with_savings_rule": 0.08,
    "growing_savings_no_investment": 0.08,
    "home_buying": 0.05,
    "business_cash_shortfall": 0.03,
    "portfolio_drift": 0.05,
    "churn_risk": 0.05,
    "upcoming_bills_low_balance": 0.05,
    "overdraft": 0.02,
}
HIDDEN_CAUSES = frozenset({"home_buying", "business_cash_shortfall", "churn_risk"})
# Pairs that cannot hold together (they pull the same account different ways).
EXCLUSIVE = (
    {"overdraft", "upcoming_bills_low_balance", "churn_risk"},
    {"churn_risk", "paycheck_with_savings_rule", "growing_savings_no_investment"},
    {"growing_savings_no_investment", "portfolio_drift"},
)
LARGE_MIN = 25_000  # an unusual purchase is at least $250 ...
LARGE_FACTOR = 1.5  # ... and 1.5x anything the customer bought on card before
LARGE_WINDOW = 30
DRIFT_PP = 10  # percentage points of equity away from the target allocation
GROWTH = 1.25  # savings up by a quarter over six months
GROWTH_MIN = 1_000_000  # to at least $10,000
BILLS_WINDOW = 5
BILL_KINDS = frozenset({"bill", "subscription", "rent", "mortgage", "loan"})
CD_WINDOW = 30


def plan(
    archetype: str, housing: str, rng: np.random.Generator, eligible_share: dict[str, float]
) -> set[str]:
    """Choose the situations to plant in one customer."""
    chosen: set[str] = set()
    for name, share in SHARES.items():
        if name == "business_cash_shortfall" and archetype != "small_business_owner":
            continue
        if name == "home_buying" and housing != "rent":
            continue
        if name == "paycheck_with_savings_rule" and archetype == "gig_worker":
            continue
        probability = min(1.0, share / eligible_share.get(name, 1.0))
        if rng.random() < probability and not any(
            name in group and chosen & (group - {name}) for group in EXCLUSIVE
        ):
            chosen.add(name)
    return chosen


def observe(bundle: Bundle, as_of: date) -> dict[str, dict[str, Any]]:
    """State-like situations that hold in the customer's generated data, with evidence."""
    found: dict[str, dict[str, Any]] = {}
    now = datetime(as_of.year, as_of.month, as_of.day, 12, tzinfo=UTC)
    accounts = {a["key"]: a for a in bundle.accounts}
    entries = bundle.entries  # (account, booked_at, amount, ..., category, channel, merchant, ...)

    card = [e for e in entries if e.channel == "card" and e.amount < 0]
    window = now - timedelta(days=LARGE_WINDOW)
    before = max((-e.amount for e in card if e.booked_at < window), default=0)
    large = [
        e
        for e in card
        if e.booked_at >= window and -e.amount >= LARGE_MIN and -e.amount > LARGE_FACTOR * before
    ]
    if large:
        found["large_transaction"] = {
            "merchant": large[0].merchant,
            "amount_minor": -large[0].amount,
        }

    seen: dict[tuple[Any, ...], int] = {}
    for e in card:
        key = (e.merchant, e.booked_at.date(), e.amount)
        seen[key] = seen.get(key, 0) + 1
    dupes = [k for k, n in seen.items() if n > 1]
    if dupes:
        found["duplicate_charge"] = {"merchant": dupes[0][0], "date": dupes[0][1].isoformat()}

    subs: dict[str, list[int]] = {}
    for e in entries:
        if e.category == "subscriptions" and e.amount < 0:
            subs.setdefault(e.merchant or "", []).append(-e.amount)
    for merchant, amounts in subs.items():
        if len(amounts) >= 3 and amounts[-1] > amounts[-2] and amounts[-2] > 0:
            found["subscription_price_increase"] = {
                "merchant": merchant,
                "old_minor": amounts[-2],
                "new_minor": amounts[-1],
            }
    trials = [e for e in entries if "FREE TRIAL" in e.description]
    if trials:
        found["free_trial_turning_paid"] = {"merchant": trials[0].merchant}

    for a in bundle.accounts:
        if a["type"] == "term_deposit" and as_of <= a["maturity_date"] <= as_of + timedelta(
            days=CD_WINDOW
        ):
            found["cd_maturing"] = {"maturity_date": a["maturity_date"].isoformat()}
        if a["type"] in ("checking", "savings", "business_checking") and a["balance_minor"] < 0:
            found["overdraft"] = {"account": a["name"], "balance_minor": a["balance_minor"]}
        if a["type"] == "investment":
            drift = bundle.equity_share_pp(a["key"]) - a["target_allocation"]["equity"]
            if abs(drift) > DRIFT_PP:
                found["portfolio_drift"] = {"drift_pp": drift, "risk": a["risk_tolerance"]}

    has_rule = any(s["kind"] == "savings_rule" and s["active"] for s in bundle.scheduled)
    paid = [
        e
        for e in entries
        if e.category == "income"
        and e.amount > 0
        and e.booked_at.date() >= as_of - timedelta(days=2)
    ]
    if has_rule and paid:
        found["paycheck_with_savings_rule"] = {"amount_minor": paid[-1].amount}

    if "savings" in accounts and not any(a["type"] == "investment" for a in bundle.accounts):
        cut = now - timedelta(days=182)
        past = accounts["savings"]["opening_minor"]
        for e in entries:
            if e.account == "savings" and e.booked_at <= cut:
                past = e.balance_after
        closing = accounts["savings"]["balance_minor"]
        if closing >= GROWTH_MIN and closing >= GROWTH * past:
            found["growing_savings_no_investment"] = {"from_minor": past, "to_minor": closing}

    soon = sorted(
        s["merchant"]
        for s in bundle.series
        if s["active"]
        and s["kind"] in BILL_KINDS
        and s["amount_minor"] < 0
        and s["next_date"] is not None
        and as_of <= s["next_date"] <= as_of + timedelta(days=BILLS_WINDOW)
    )
    if soon:
        found["bills_due_soon"] = {"merchants": soon}

    if "checking" in accounts:
        due = sum(
            -s["amount_minor"]
            for s in bundle.series
            if s["account"] == "checking"
            and s["active"]
            and s["amount_minor"] < 0
            and s["next_date"] is not None
            and as_of < s["next_date"] <= as_of + timedelta(days=BILLS_WINDOW)
        )
        if due > 0 and due > accounts["checking"]["balance_minor"]:
            found["upcoming_bills_low_balance"] = {"due_minor": due}
    return found
