"""Insights about what the customer is charged: large purchases, price rises, duplicates, trials."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime, timedelta

from services.insights import Insight
from services.insights.common import (
    mad,
    make,
    median,
    merchant_of,
    ref,
)
from services.insights.history import Entry, History
from services.insights.recurring import MIN_CHARGES, recurring_debits
from services.spending import NOT_PURCHASE

# --- unusually large purchase -------------------------------------------------------------
# A purchase is judged against the customer's own card purchases before a 31-day window (the
# de-duplication window of Yodlee's Large Purchase insight), by the shape of their upper tail:
# the top tenth of their purchases (at least five) gives the tail's scale on the log axis (the
# Hill estimator: mean log-excess over the 90th percentile). A purchase is unusual when it beats
# their largest purchase of the period by a full tail scale (a factor e**scale, at least 1.25):
# someone whose big purchases vary a lot needs a bigger jump to stand out. Customers with little
# history are skipped, small amounts never alert, and one insight covers the whole window.
LARGE_WINDOW_DAYS = 31
LARGE_MIN_HISTORY = 20  # purchases before the window ...
LARGE_MIN_SPAN_DAYS = 60  # ... spread over at least this long
LARGE_TAIL_SHARE = 0.1
LARGE_TAIL_MIN = 5
LARGE_MIN_FACTOR = 1.25
LARGE_FLOOR_MINOR = 20_000
# A payee already paid at least this share of the amount before (annual insurance, a yearly
# tuition bill) makes the payment usual, however large.
LARGE_SEEN_SHARE = 0.8


def _purchases(history: History) -> list[Entry]:
    return [
        e
        for e in history.entries
        if e.channel == "card"
        and e.amount_minor < 0
        and e.category not in NOT_PURCHASE
        and e.recurring_id is None
    ]


def unusual_above(amounts: list[int]) -> int:
    """The smallest purchase that would be unusual after ``amounts`` (a tail-scaled record)."""
    ordered = sorted(amounts)
    k = max(LARGE_TAIL_MIN, round(LARGE_TAIL_SHARE * len(ordered)))
    threshold = ordered[-k - 1]
    scale = sum(math.log(a / threshold) for a in ordered[-k:]) / k
    return max(LARGE_FLOOR_MINOR, math.ceil(ordered[-1] * max(LARGE_MIN_FACTOR, math.exp(scale))))


def large_transaction(history: History, now: datetime) -> list[Insight]:
    """An unusually large card purchase in the last 31 days, one insight per customer."""
    purchases = _purchases(history)
    start = now - timedelta(days=LARGE_WINDOW_DAYS)
    before = [e for e in purchases if e.booked_at < start]
    if len(before) < max(LARGE_MIN_HISTORY, LARGE_TAIL_MIN + 1):
        return []
    if (before[-1].booked_at - before[0].booked_at).days < LARGE_MIN_SPAN_DAYS:
        return []
    amounts = [-e.amount_minor for e in before]
    bar = unusual_above(amounts)
    paid_before: dict[str, int] = defaultdict(int)
    for e in before:
        paid_before[merchant_of(e)] = max(paid_before[merchant_of(e)], -e.amount_minor)
    unusual = [
        e
        for e in purchases
        if start <= e.booked_at <= now
        and -e.amount_minor >= bar
        and paid_before[merchant_of(e)] < LARGE_SEEN_SHARE * -e.amount_minor
    ]
    if not unusual:
        return []
    top = min(unusual, key=lambda e: (e.amount_minor, e.id))
    usual = round(median(amounts))
    where = top.merchant or top.description
    message = (
        f"A {history.money(-top.amount_minor, top.currency)} purchase at {where} on "
        f"{top.booked_at:%b %d} is much larger than your usual purchases (typically "
        f"{history.money(usual, top.currency)}, at most "
        f"{history.money(max(amounts), top.currency)} before). "
        "If you don't recognise it, review it now."
    )
    return [
        make(
            "large_transaction",
            "warning",
            message,
            [ref(e) for e in unusual],
            now,
            amount_minor=-top.amount_minor,
            merchant=top.merchant,
            typical_minor=usual,
            largest_before_minor=max(amounts),
            unusual_from_minor=bar,
            currency=top.currency,
        )
    ]


# --- price increase -----------------------------------------------------------------------
# The latest charge of a recurring bill against its usual level. A fixed-price bill (its last
# three charges agree within FIXED_SPREAD, and so do most of its year) is compared with them, and
# any rise counts. A bill that
# varies (electricity, water) is compared with the same time last year, so winter is measured
# against last winter, and must rise by more than VARIABLE_TOLERANCE; without a year of history
# it must top every charge of the past year by as much.
RECENT_DAYS = 35  # the latest charge must be this fresh
FIXED_SPREAD = 0.01
FIXED_MIN_RISE_MINOR = 50
VARIABLE_TOLERANCE = 0.25
LAST_YEAR_SLACK_DAYS = 20
TINY_MINOR = 100  # a $0-$1 charge is a trial or a card check, not a price


def price_increase(history: History, now: datetime) -> list[Insight]:
    """Recurring bills or subscriptions whose latest charge rose above their usual level."""
    out = []
    for key, items in recurring_debits(history).items():
        paid = [e for e in items if -e.amount_minor > TINY_MINOR]
        if len(paid) < 3 or (now - paid[-1].booked_at).days > RECENT_DAYS:
            continue
        latest, prior = paid[-1], paid[:-1]
        amounts = [-e.amount_minor for e in prior]
        recent, year = amounts[-3:], amounts[-12:]
        usual = median(recent)
        fixed = max(recent) - min(recent) <= FIXED_SPREAD * usual
        if fixed and mad(year) <= FIXED_SPREAD * median(year):
            basis = "usual"
            rose = -latest.amount_minor >= usual + max(FIXED_MIN_RISE_MINOR, FIXED_SPREAD * usual)
        else:
            year_ago = latest.booked_at - timedelta(days=365)
            slack = timedelta(days=LAST_YEAR_SLACK_DAYS)
            last_year = [-e.amount_minor for e in prior if abs(e.booked_at - year_ago) <= slack]
            basis = "last_year" if last_year else "past_year_high"
            usual = max(last_year) if last_year else max(amounts[-12:])
            rose = -latest.amount_minor > usual * (1 + VARIABLE_TOLERANCE)
        if not rose:
            continue
        new, old = -latest.amount_minor, round(usual)
        name = latest.merchant or latest.description
        when = "the same time last year" if basis == "last_year" else "before"
        out.append(
            make(
                "price_increase",
                "warning" if new - old >= old // 5 else "info",
                f"{name} charged you {history.money(new, latest.currency)}, up from "
                f"{history.money(old, latest.currency)} {when} "
                f"(+{history.money(new - old, latest.currency)}). "
                "Check whether the plan still suits you.",
                [ref(latest), *(ref(e) for e in prior[-3:])],
                now,
                merchant=latest.merchant,
                recurring=key,
                old_minor=old,
                new_minor=new,
                basis=basis,
                currency=latest.currency,
            )
        )
    return out


# --- duplicate charge ---------------------------------------------------------------------
DUPLICATE_WINDOW = timedelta(hours=3)  # same merchant, amount and card within this
DUPLICATE_RECENT_DAYS = 30


def duplicate_charge(history: History, now: datetime) -> list[Insight]:
    """The same card charge (merchant, amount, account) posted twice within a few hours."""
    since = now - timedelta(days=DUPLICATE_RECENT_DAYS)
    refunds = {
        (e.account_id, merchant_of(e), e.amount_minor)
        for e in history.entries
        if e.amount_minor > 0 and e.booked_at >= since
    }
    last: dict[tuple[int, str, int], Entry] = {}
    out = []
    for e in history.entries:
        if e.channel != "card" or e.amount_minor >= 0:
            continue
        key = (e.account_id, merchant_of(e), e.amount_minor)
        first = last.get(key)
        last[key] = e
        if first is None or e.booked_at < since or e.booked_at - first.booked_at > DUPLICATE_WINDOW:
            continue
        if (e.account_id, merchant_of(e), -e.amount_minor) in refunds:
            continue  # the merchant already gave it back
        minutes = round((e.booked_at - first.booked_at).total_seconds() / 60)
        name = e.merchant or e.description
        out.append(
            make(
                "duplicate_charge",
                "warning",
                f"You were charged {history.money(-e.amount_minor, e.currency)} at {name} twice, "
                f"{minutes} minutes apart on {e.booked_at:%b %d}. "
                "If you only paid once, you can dispute the second charge.",
                [ref(first), ref(e)],
                now,
                merchant=e.merchant,
                amount_minor=-e.amount_minor,
                minutes_apart=minutes,
                currency=e.currency,
            )
        )
    return out


# --- new subscription / free trial turning paid -------------------------------------------
TRIAL_MAX_DAYS = 45  # from the $0 sign-up to the first paid charge
TRIAL_RECENT_DAYS = 14  # the first paid charge is this fresh
NEW_SUB_DAYS = 100  # a merchant first seen this recently that already recurs
KNOWN_SINCE_START_DAYS = 30  # a merchant seen this early in the history may be an old one


def free_trial_ending(history: History, now: datetime) -> list[Insight]:
    """A free or $1 trial that turned into a full charge, or a brand-new subscription."""
    first_seen: dict[str, list[Entry]] = defaultdict(list)
    for e in history.entries:
        if e.channel == "card" and e.amount_minor <= 0:
            first_seen[merchant_of(e)].append(e)
    out = []
    since = now - timedelta(days=TRIAL_RECENT_DAYS)
    recurring = {merchant_of(items[0]) for items in recurring_debits(history).values()}
    for name, items in first_seen.items():
        head, paid = items[0], [e for e in items if -e.amount_minor > TINY_MINOR]
        if not paid or paid[-1].booked_at < since:
            continue
        if (head.booked_at - history.entries[0].booked_at).days < KNOWN_SINCE_START_DAYS:
            continue  # seen since the history began: not new
        trial = -head.amount_minor <= TINY_MINOR
        if trial:
            if paid[0].booked_at < since or (paid[0].booked_at - head.booked_at).days > (
                TRIAL_MAX_DAYS
            ):
                continue
            what = f"Your free trial with {head.merchant or name} has turned into a paid "
        elif (
            name in recurring
            and len(paid) == MIN_CHARGES
            and (now - head.booked_at).days <= NEW_SUB_DAYS
        ):
            what = f"You have a new subscription with {head.merchant or name}: "
        else:
            continue
        charge = paid[-1]
        out.append(
            make(
                "free_trial_ending",
                "warning" if trial else "info",
                f"{what}charge of {history.money(-charge.amount_minor, charge.currency)} "
                f"on {charge.booked_at:%b %d}. Cancel it if you don't want to keep paying.",
                [ref(head), *(ref(e) for e in paid)],
                now,
                merchant=head.merchant,
                trial=trial,
                amount_minor=-charge.amount_minor,
                started=head.booked_at.date().isoformat(),
                currency=charge.currency,
            )
        )
    return out
