"""Dates the bank runs on: pay cycles, business days, month arithmetic."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import numpy as np

FRIDAY = 4


def add_months(day: date, months: int) -> date:
    """The same day-of-month ``months`` later, clipped to the month's length."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_starts(start: date, end: date) -> list[date]:
    """First day of every month that overlaps [start, end]."""
    out, cur = [], date(start.year, start.month, 1)
    while cur <= end:
        out.append(cur)
        cur = add_months(cur, 1)
    return out


def on_day(month_start: date, day: int) -> date:
    """``day`` of the month of ``month_start``, clipped to the month's length."""
    last = calendar.monthrange(month_start.year, month_start.month)[1]
    return month_start.replace(day=min(day, last))


def previous_business_day(day: date) -> date:
    """``day`` itself on a weekday, else the Friday before (how payroll shifts weekends)."""
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def pay_dates(
    cadence: str,
    start: date,
    end: date,
    *,
    anchor: date | None = None,
    day: int = 1,
    rng: np.random.Generator | None = None,
) -> list[date]:
    """Paydays within [start, end] for a pay cycle.

    Args:
        cadence: weekly | biweekly | semimonthly | monthly | irregular.
        start: first day that may hold a payday.
        end: last day that may hold a payday.
        anchor: a known payday (a Friday) for weekly and bi-weekly cycles.
        day: day of month for monthly pay (moved to the previous business day on weekends).
        rng: randomness for irregular (gig) payouts.
    """
    if cadence in ("weekly", "biweekly"):
        step = 7 if cadence == "weekly" else 14
        first = anchor or start + timedelta(days=(FRIDAY - start.weekday()) % 7)
        behind = (start - first).days
        cur = first + timedelta(days=-(-behind // step) * step)  # first payday on/after start
        out = []
        while cur <= end:
            out.append(cur)
            cur += timedelta(days=step)
        return out
    if cadence == "semimonthly":
        days = []
        for m in month_starts(start, end):
            days += [previous_business_day(on_day(m, 15)), previous_business_day(on_day(m, 31))]
        return [d for d in days if start <= d <= end]
    if cadence == "monthly":
        # Next month's payday may move back over a weekend into the window: look one month on.
        months = month_starts(start, add_months(end, 1))
        days = [previous_business_day(on_day(m, day)) for m in months]
        return [d for d in days if start <= d <= end]
    if cadence == "irregular":
        assert rng is not None, "irregular pay needs randomness"
        span = (end - start).days + 1
        picks = rng.random(span) < 0.22  # about 1.5 payouts a week
        return [start + timedelta(days=int(i)) for i in np.flatnonzero(picks)]
    raise ValueError(f"unknown pay cadence {cadence!r}")


def monthly_dates(start: date, end: date, day: int) -> list[date]:
    """Bill dates on ``day`` of each month within [start, end] (weekends included)."""
    return [d for d in (on_day(m, day) for m in month_starts(start, end)) if start <= d <= end]


def next_monthly(after: date, day: int) -> date:
    """The first date strictly after ``after`` that falls on ``day`` of a month."""
    candidate = on_day(date(after.year, after.month, 1), day)
    return (
        candidate
        if candidate > after
        else on_day(add_months(date(after.year, after.month, 1), 1), day)
    )
