"""Insights about money due and arriving: maturing deposits, paydays, bills coming up."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from services.insights import Insight
from services.insights.common import make, ref
from services.insights.history import History, SeriesRow

# --- deposit maturing ---------------------------------------------------------------------
MATURITY_DAYS = 30


def deposit_maturing(history: History, now: datetime) -> list[Insight]:
    """A term deposit (CD) maturing within 30 days, with what the customer can do with it."""
    today, out = now.date(), []
    for a in history.accounts:
        if a.type != "term_deposit" or a.maturity_date is None or a.status != "open":
            continue
        days = (a.maturity_date - today).days
        if not 0 <= days <= MATURITY_DAYS:
            continue
        options = [
            {"action": "renew", "term_months": a.term_months, "rate_bps": a.interest_rate_bps},
            {"action": "reinvest", "into": "investment"},
            {"action": "move_to_savings"},
        ]
        out.append(
            make(
                "deposit_maturing",
                "warning" if days <= 7 else "info",
                f"Your {a.name} of {history.money(a.balance_minor, a.currency)} matures on "
                f"{a.maturity_date:%b %d} (in {days} days). Renew it, reinvest it, or move "
                "it to savings before then.",
                [ref(a)],
                now,
                account_id=a.id,
                balance_minor=a.balance_minor,
                maturity_date=a.maturity_date.isoformat(),
                days_left=days,
                options=options,
                currency=a.currency,
            )
        )
    return out


# --- paycheck landed ----------------------------------------------------------------------
PAYCHECK_DAYS = 2  # calendar days back from today


def paycheck_landed(history: History, now: datetime) -> list[Insight]:
    """Income credited in the last two days, with the customer's savings rule if they have one."""
    since = now.date() - timedelta(days=PAYCHECK_DAYS)
    pay = [
        e
        for e in history.entries
        if e.category == "income" and e.amount_minor > 0 and since <= e.booked_at.date()
    ]
    if not pay:
        return []
    latest = pay[-1]
    rules = [t for t in history.transfers if t.kind == "savings_rule" and t.active]
    rule = rules[0] if rules else None
    payer = latest.merchant or latest.counterparty or "your employer"
    message = (
        f"Your pay of {history.money(latest.amount_minor, latest.currency)} from {payer} landed."
    )
    if rule is not None:
        saved = history.money(rule.amount_minor, rule.currency)
        message += f" Your savings rule puts {saved} aside each payday."
    else:
        message += " A savings rule could put part of every paycheck aside automatically."
    return [
        make(
            "paycheck_landed",
            "info",
            message,
            [ref(e) for e in pay] + ([ref(rule)] if rule else []),
            now,
            amount_minor=latest.amount_minor,
            payer=payer,
            savings_rule_id=rule.id if rule else None,
            savings_rule_minor=rule.amount_minor if rule else None,
            currency=latest.currency,
        )
    ]


# --- upcoming bills -----------------------------------------------------------------------
BILL_DAYS = 5  # Erica reminds of bills due within five days
BILL_KINDS = frozenset({"bill", "subscription", "rent", "mortgage", "loan"})


def _due(history: History, today: date, days: int) -> list[SeriesRow]:
    return [
        s
        for s in history.series
        if s.active
        and s.kind in BILL_KINDS
        and s.amount_minor < 0
        and s.next_date is not None
        and today <= s.next_date <= today + timedelta(days=days)
    ]


def upcoming_bills(history: History, now: datetime) -> list[Insight]:
    """Bills and subscriptions due within five days, in one reminder."""
    due = sorted(_due(history, now.date(), BILL_DAYS), key=lambda s: (s.next_date, s.id))
    if not due:
        return []
    total = -sum(s.amount_minor for s in due)
    currency = due[0].currency
    items = ", ".join(
        f"{s.merchant} {history.money(-s.amount_minor, s.currency)} on {s.next_date:%b %d}"
        for s in due
    )
    return [
        make(
            "upcoming_bills",
            "info",
            f"{len(due)} bill{'s' if len(due) > 1 else ''} due in the next {BILL_DAYS} days, "
            f"{history.money(total, currency)} in all: {items}.",
            [ref(s) for s in due],
            now,
            total_minor=total,
            bills=[
                {"series_id": s.id, "merchant": s.merchant, "amount_minor": -s.amount_minor}
                for s in due
            ],
            currency=currency,
        )
    ]
