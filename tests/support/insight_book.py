"""Hand-made histories for the insight tests: a ledger built entry by entry, series, rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import cycle
from typing import Any

from services.insights.history import (
    AccountRow,
    Entry,
    EventRow,
    History,
    SeriesRow,
    TransferRow,
)

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
TODAY = NOW.date()
CHECKING = AccountRow(1, "checking", "Everyday Checking", 250_000)
CARD = AccountRow(2, "credit_card", "Cashback Card", -40_000)
SAVINGS = AccountRow(3, "savings", "Rainy Day Savings", 900_000)
# Everyday card purchases: groceries, coffee, fuel, the odd bigger basket (cents).
EVERYDAY = (450, 1299, 2350, 3899, 6210, 820, 1575, 4999, 9450, 2875, 15_000, 3125)
SHOPS = ("Blue Bottle", "Kroger", "Shell", "Target", "Chipotle", "Whole Foods")


class Book:
    """A hand-built ledger: entries get increasing ids in the order they are added."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []

    def add(
        self,
        when: datetime | float,
        amount: int,
        merchant: str | None = None,
        *,
        category: str = "shopping",
        channel: str = "card",
        account: int = 1,
        recurring_id: int | None = None,
        balance_after: int | None = None,
    ) -> Entry:
        """Book ``amount`` at ``when`` (a time, or days before NOW)."""
        at = when if isinstance(when, datetime) else NOW - timedelta(days=when)
        entry = Entry(
            id=len(self.entries) + 1,
            account_id=account,
            booked_at=at,
            amount_minor=amount,
            merchant=merchant,
            category=category,
            channel=channel,
            description=(merchant or category).upper(),
            recurring_id=recurring_id,
            balance_after_minor=balance_after,
        )
        self.entries.append(entry)
        return entry

    def everyday(self, days: int = 330, until: int = 32, every: float = 1.5) -> None:
        """Ordinary card spending from ``days`` ago until ``until`` days ago."""
        amounts, shops = cycle(EVERYDAY), cycle(SHOPS)
        t = float(days)
        while t > until:
            self.add(t, -next(amounts), next(shops))
            t -= every

    def history(self, **parts: Any) -> History:
        """The history of these entries (oldest first) with the given accounts, series..."""
        parts.setdefault("accounts", (CHECKING, CARD, SAVINGS))
        ordered = tuple(sorted(self.entries, key=lambda e: (e.booked_at, e.id)))
        return History(person_id=1, entries=ordered, **parts)


def monthly(day: int, months: int, end: date = TODAY) -> list[datetime]:
    """The ``day`` of each of the last ``months`` months up to ``end`` (oldest first), at 06:00."""
    out = []
    year, month = end.year, end.month
    if day > end.day:
        month -= 1
    for _ in range(months):
        if month < 1:
            year, month = year - 1, 12
        out.append(datetime(year, month, day, 6, tzinfo=UTC))
        month -= 1
    return out[::-1]


def series(
    sid: int, kind: str, amount: int, due_in: int | None, *, account: int = 1, **extra: Any
) -> SeriesRow:
    """A recurring series due ``due_in`` days from today."""
    return SeriesRow(
        id=sid,
        account_id=account,
        kind=kind,
        merchant=extra.pop("merchant", kind.title()),
        category=extra.pop("category", "utilities"),
        amount_minor=amount,
        cadence=extra.pop("cadence", "monthly"),
        next_date=None if due_in is None else TODAY + timedelta(days=due_in),
        **extra,
    )


def savings_rule(amount: int = 25_000) -> TransferRow:
    """A payday savings rule from checking to savings."""
    return TransferRow(7, 1, 3, amount, "savings_rule", "payday", TODAY + timedelta(days=14))


def event(eid: int, days_ago: float, kind: str, page: str, session: str, **extra: Any) -> EventRow:
    """A signed-in digital event."""
    return EventRow(eid, NOW - timedelta(days=days_ago), kind, page, session_id=session, **extra)
