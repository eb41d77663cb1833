"""Periods of time a customer asks about: "last month", "in October", "past 30 days".

Every period is a pair of dates, both inclusive. Named calendar periods ("this month", "last
week") are whole calendar units (weeks start on Monday); rolling ones ("past 30 days", "the
last 3 months") end today; "to date" ones ("year to date", "since March") run to today.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

from agents.offline.slots.dates import COUNT_RE, ORD_WORD_RE, add_months, find_dates, last_day
from agents.offline.slots.text import MONTH_RE, MONTHS, normalise, number_at

Period = tuple[date, date]


def _month(year: int, month: int) -> Period:
    return date(year, month, 1), date(year, month, last_day(year, month))


def _week(day: date) -> Period:
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def _quarter(day: date, back: int) -> Period:
    first = add_months(date(day.year, 3 * ((day.month - 1) // 3) + 1, 1), -3 * back)
    end = add_months(first, 2)
    return first, end.replace(day=last_day(end.year, end.month))


def _rolling(today: date, count: int, unit: str) -> Period | None:
    if count < 1 or count > 1000:
        return None
    if unit == "day":
        return today - timedelta(days=count - 1), today
    if unit == "week":
        return today - timedelta(days=7 * count - 1), today
    months = count * (12 if unit == "year" else 1)
    return add_months(today, -months) + timedelta(days=1), today


def _named_month(month: int, year: str | None, today: date) -> Period:
    """A month by name: in ``year``, or else the latest one that has begun."""
    if year:
        return _month(int(year), month)
    return _month(today.year if month <= today.month else today.year - 1, month)


def _weekend(today: date, back: int) -> Period:
    saturday = _week(today)[0] + timedelta(days=5 - 7 * back)
    return saturday, saturday + timedelta(days=1)


_DAY_BEFORE = re.compile(rf"(?:\d|\b(?:{ORD_WORD_RE}))(?:st|nd|rd|th)?\s+(?:of\s+)?$")


_MAY_BEFORE = re.compile(r"\b(?:in|during|for|since|of|last|this|from|until|through|over)\s+$")


def _month_alone(match: re.Match[str], today: date) -> Period | None:
    """A month named without a day ("in October"; not "3rd of October", which is a day)."""
    if _DAY_BEFORE.search(match.string, 0, match.start()):
        return None
    if match["mo"] == "may" and not (
        match["y"] or _MAY_BEFORE.search(match.string, 0, match.start())
    ):
        return None  # "may I see..." is not the month
    return _named_month(MONTHS[match["mo"]], match["y"], today)


def _counted(match: re.Match[str], today: date) -> Period | None:
    count = number_at(match["n"])
    return _rolling(today, count, match["u"]) if count is not None else None


_Rule = tuple[re.Pattern[str], Callable[[re.Match[str], date], Period | None]]
_LAST = r"(?:last|past|previous|prior)"
_RULES: tuple[_Rule, ...] = (
    (
        re.compile(rf"\b{_LAST}\s+{COUNT_RE}\s+(?P<u>day|week|month|year)s\b"),
        _counted,
    ),
    (re.compile(r"\b(?:past|last)\s+(?:7|seven)\s+days\b"), lambda m, t: _rolling(t, 7, "day")),
    (re.compile(r"\bpast\s+(?P<u>week|month|year)\b"), lambda m, t: _rolling(t, 1, m["u"])),
    (re.compile(r"\byear[\s-]to[\s-]date\b|\bytd\b"), lambda m, t: (date(t.year, 1, 1), t)),
    (re.compile(r"\bmonth[\s-]to[\s-]date\b|\bmtd\b"), lambda m, t: (t.replace(day=1), t)),
    (re.compile(r"\btoday\b"), lambda m, t: (t, t)),
    (re.compile(r"\byesterday\b"), lambda m, t: (t - timedelta(days=1),) * 2),
    (re.compile(r"\bthis\s+week\b"), lambda m, t: _week(t)),
    (re.compile(rf"\b{_LAST}\s+week\b"), lambda m, t: _week(t - timedelta(days=7))),
    (re.compile(r"\bthis\s+month\b"), lambda m, t: _month(t.year, t.month)),
    (
        re.compile(rf"\b{_LAST}\s+month\b"),
        lambda m, t: _month(add_months(t, -1).year, add_months(t, -1).month),
    ),
    (re.compile(r"\bthis\s+quarter\b"), lambda m, t: _quarter(t, 0)),
    (re.compile(rf"\b{_LAST}\s+quarter\b"), lambda m, t: _quarter(t, 1)),
    (re.compile(r"\bthis\s+year\b"), lambda m, t: (date(t.year, 1, 1), date(t.year, 12, 31))),
    (
        re.compile(rf"\b{_LAST}\s+year\b"),
        lambda m, t: (date(t.year - 1, 1, 1), date(t.year - 1, 12, 31)),
    ),
    (re.compile(r"\bthis\s+weekend\b"), lambda m, t: _weekend(t, 0)),
    (re.compile(rf"\b{_LAST}\s+weekend\b"), lambda m, t: _weekend(t, 1)),
    (
        re.compile(rf"\bsince\s+(?P<mo>{MONTH_RE})\b(?!\.?\s*\d)(?:\s*,?\s*(?P<y>\d{{4}}))?"),
        lambda m, t: (_named_month(MONTHS[m["mo"]], m["y"], t)[0], t),
    ),
    (
        re.compile(
            rf"\b(?P<mo>{MONTH_RE})\b(?!\.?\s*\d{{1,2}}(?:st|nd|rd|th)?\b)(?:\s*,?\s*(?P<y>\d{{4}}))?"
        ),
        _month_alone,
    ),
    (
        re.compile(r"\b(?:in|during|for|of)\s+(?P<y>(?:19|20)\d{2})\b"),
        lambda m, t: (date(int(m["y"]), 1, 1), date(int(m["y"]), 12, 31)),
    ),
    # "lately", "recently": the past month, not the few days of this one
    (
        re.compile(r"\b(?:recently|lately|of\s+late|these\s+days|(?:past|last)\s+few\s+weeks)\b"),
        lambda m, t: _rolling(t, 1, "month"),
    ),
)
_BETWEEN = re.compile(
    r"\b(?:between|from)\s+(?P<a>.+?)\s+(?:and|to|until|till|through|-)\s+(?P<b>.+)"
)
_SINCE = re.compile(r"\bsince\s+(?P<a>.+)")


def parse_period(text: str, *, today: date) -> Period | None:
    """The span of dates a customer asks about, both ends inclusive, relative to ``today``.

    "last month" (the previous calendar month), "this month", "last week" (previous Monday to
    Sunday), "this year", "in October" (the latest October that has begun), "October 2025",
    "past 30 days" (30 days ending today), "lately" (the past month), "year to date",
    "since March", "between 3/1 and 3/15", or a single day ("on March 3", "yesterday",
    "last Friday").

    Returns:
        (first day, last day), or None when ``text`` names no period.
    """
    norm = normalise(text)
    between = _BETWEEN.search(norm)
    if between:
        a = find_dates(between["a"], today=today, prefer="past")
        b = find_dates(between["b"], today=today, prefer="past")
        if a and b and a[0][1] <= b[0][1]:
            return a[0][1], b[0][1]
    for pattern, build in _RULES:
        match = pattern.search(norm)
        if match:
            period = build(match, today)
            if period is not None:
                return period
    since = _SINCE.search(norm)
    if since:
        start = find_dates(since["a"], today=today, prefer="past")
        if start and start[0][1] <= today:
            return start[0][1], today
    found = find_dates(norm, today=today, prefer="past")
    return (found[0][1], found[0][1]) if found else None
