"""Recurring charges found in a ledger: the bank's own series, or a merchant on a cadence."""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime

from services.insights.common import mad, median, merchant_of
from services.insights.history import Entry, History
from services.spending import INCOME, OWN_ACCOUNT_MOVES

# Days between charges of each cadence, and how far one gap may stray from it.
CADENCE_DAYS: dict[str, float] = {
    "weekly": 7,
    "biweekly": 14,
    "monthly": 30.4,
    "quarterly": 91,
    "annual": 365,
}
GAP_TOLERANCE = 0.25
MIN_CHARGES = 3  # Yodlee's "new subscription" needs three similar transactions
BILL_CHANNELS = frozenset({"card", "ach", "check"})
# Charges of one merchant are "similar" when they sit this close to their median (robust CV): a
# card subscription charges the same price each time (a shop visited every few weeks does not);
# a biller's direct debits vary with use and the seasons (electricity swings by a third).
SIMILAR_SPREAD = {"card": 0.02, "ach": 0.3, "check": 0.3}


def cadence_of(times: Sequence[datetime]) -> str | None:
    """The cadence that ``times`` (oldest first) follow, or None when they are irregular.

    Most gaps (three in four) must sit within ``GAP_TOLERANCE`` of the cadence, so one skipped
    or late charge does not hide a subscription but everyday shopping never looks like one.
    """
    if len(times) < MIN_CHARGES:
        return None
    gaps = [(b - a).total_seconds() / 86400 for a, b in zip(times, times[1:], strict=False)]
    typical = median(gaps)
    for name, days in CADENCE_DAYS.items():
        if abs(typical - days) <= GAP_TOLERANCE * days:
            close = sum(abs(g - days) <= GAP_TOLERANCE * days for g in gaps)
            if close >= 0.75 * len(gaps):
                return name
    return None


def recurring_debits(history: History) -> dict[str, list[Entry]]:
    """Debits that repeat (computed once per history; several detectors ask in a row)."""
    global _LAST
    last_ref, found = _LAST
    if last_ref() is not history:
        found = _recurring_debits(history)
        _LAST = (weakref.ref(history), found)
    return found


def _dead() -> None:
    return None


# One slot: the detectors of one customer run one after another on the same history object.
_LAST: tuple[Callable[[], History | None], dict[str, list[Entry]]] = (_dead, {})


def _recurring_debits(history: History) -> dict[str, list[Entry]]:
    """Debits that repeat, oldest first, keyed ``series:<id>`` or ``<channel>:<merchant>``.

    The bank's recurring series are taken as they are; any other merchant paid by card, direct
    debit or cheque counts when its charges are similar in amount and follow a cadence (see
    :func:`cadence_of`).
    """
    known: dict[str, list[Entry]] = defaultdict(list)
    loose: dict[str, list[Entry]] = defaultdict(list)
    for e in history.entries:
        if e.amount_minor > 0 or e.category in OWN_ACCOUNT_MOVES | INCOME:
            continue
        if e.recurring_id is not None:
            known[f"series:{e.recurring_id}"].append(e)
        elif e.channel in BILL_CHANNELS:
            loose[f"{e.channel}:{merchant_of(e)}"].append(e)
    for key, items in loose.items():
        paid = [e for e in items if e.amount_minor < 0]
        if len(paid) < MIN_CHARGES:
            continue
        amounts = [-e.amount_minor for e in paid]
        similar = mad(amounts) <= SIMILAR_SPREAD[paid[-1].channel] * median(amounts)
        if similar and cadence_of([e.booked_at for e in paid]) is not None:
            known[key] = items
    return dict(known)
