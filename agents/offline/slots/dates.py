"""Dates in a customer's message, anchored to a given ``today``.

"next Friday", "on the 1st", "in two weeks", "end of the month", "March 3", "3/15" (US
month/day), "2026-12-01", "next month".
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Literal

from agents.offline.slots.text import MONTH_RE, MONTHS, normalise, number_at

Prefer = Literal["future", "past"]

WEEKDAYS: dict[str, int] = {
    "monday": 0,
    "tuesday": 1,
    "tues": 1,
    "wednesday": 2,
    "weds": 2,
    "thursday": 3,
    "thurs": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}
WEEKDAY_RE = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_ORDINAL_UNITS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth"]
_ORDINAL_UNITS.append("ninth")
_ORDINAL_TEENS = ["tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth"]
_ORDINAL_TEENS += ["sixteenth", "seventeenth", "eighteenth", "nineteenth"]
ORDINALS: dict[str, int] = {w: i + 1 for i, w in enumerate(_ORDINAL_UNITS)}
ORDINALS |= {w: i + 10 for i, w in enumerate(_ORDINAL_TEENS)}
ORDINALS |= {"twentieth": 20, "thirtieth": 30, "thirty first": 31}
ORDINALS |= {f"twenty {w}": 21 + i for i, w in enumerate(_ORDINAL_UNITS)}
ORD_WORD_RE = "|".join(w.replace(" ", r"[\s-]") for w in sorted(ORDINALS, key=len, reverse=True))
_DAY_NUM = r"(?P<d>\d{1,2})(?:st|nd|rd|th)?"
_DAY_ORD = rf"(?:(?P<dn>\d{{1,2}})(?:st|nd|rd|th)|(?P<dw>{ORD_WORD_RE}))"
_YEAR = r"(?:\s*,?\s*(?P<y>\d{4}))?"
COUNT_RE = r"(?P<n>\d+|a|an|one|a\s+couple(?:\s+of)?|couple(?:\s+of)?|[a-z]+(?:[\s-][a-z]+)?)"
_UNIT = r"(?P<u>day|week|fortnight|month|year)s?"

_Found = tuple[int, int, date]  # start, end, the date


def last_day(year: int, month: int) -> int:
    """Number of days in ``month`` of ``year``."""
    return calendar.monthrange(year, month)[1]


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, the day of month clamped to the target month's length."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, last_day(year, month + 1)))


def _safe(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _month_day(month: int, day: int, year: int | None, today: date, prefer: Prefer) -> date | None:
    """``month``/``day`` in ``year``, or else the next (or last) such date from ``today``."""
    if year is not None:
        return _safe(year, month, day)
    step = 1 if prefer == "future" else -1
    for k in range(9):  # February 29 may be years away
        found = _safe(today.year + step * k, month, day)
        if found and (found >= today if prefer == "future" else found <= today):
            return found
    return None


def _month_end(day: date) -> date:
    return day.replace(day=last_day(day.year, day.month))


def _day_of_month(day: int, today: date, prefer: Prefer) -> date | None:
    """The next (or last) date whose day of month is ``day``."""
    if not 1 <= day <= 31:
        return None
    step = 1 if prefer == "future" else -1
    for k in range(0, 13):
        month = add_months(today.replace(day=1), step * k)
        found = _safe(month.year, month.month, day)
        if found and (found >= today if prefer == "future" else found <= today):
            return found
    return None


def _weekday(which: str, weekday: int, today: date, prefer: Prefer) -> date:
    if which == "next":
        return today + timedelta(days=7 - today.weekday() + weekday)
    if which in ("last", "past", "previous") or (not which and prefer == "past"):
        back = (today.weekday() - weekday) % 7
        return today - timedelta(days=back or (7 if which else 0))
    ahead = (weekday - today.weekday()) % 7
    return today + timedelta(days=ahead or (0 if which else 7))


def _shift(today: date, n: int, unit: str) -> date:
    if unit == "day":
        return today + timedelta(days=n)
    if unit in ("week", "fortnight"):
        return today + timedelta(days=n * (14 if unit == "fortnight" else 7))
    return add_months(today, n * (12 if unit == "year" else 1))


def _year(raw: str | None) -> int | None:
    if raw is None:
        return None
    value = int(raw)
    return value + 2000 if value < 100 else value


def _ordinal(match: re.Match[str]) -> int:
    if match.group("dn"):
        return int(match.group("dn"))
    return ORDINALS[re.sub(r"[\s-]+", " ", match.group("dw"))]


_Rule = tuple[re.Pattern[str], Callable[[re.Match[str], date, Prefer], date | None]]
_RULES: list[_Rule] = [
    (
        re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b"),
        lambda m, t, p: _safe(int(m["y"]), int(m["m"]), int(m["d"])),
    ),
    (
        re.compile(
            r"(?<![\d/.$])(?P<m>\d{1,2})/(?P<d>\d{1,2})(?:/(?P<y>\d{4}|\d{2}))?(?![\d/])(?!\s+of\b)"
        ),
        lambda m, t, p: _month_day(int(m["m"]), int(m["d"]), _year(m["y"]), t, p),
    ),
    (
        re.compile(rf"\b(?P<mo>{MONTH_RE})\.?\s+(?:the\s+)?(?:{_DAY_ORD}|{_DAY_NUM})\b{_YEAR}"),
        lambda m, t, p: _month_day(
            MONTHS[m["mo"]], int(m["d"]) if m["d"] else _ordinal(m), _year(m["y"]), t, p
        ),
    ),
    (
        re.compile(
            rf"(?:\bon\s+)?(?:\bthe\s+)?(?:{_DAY_ORD}|{_DAY_NUM})\s+(?:of\s+)?(?P<mo>{MONTH_RE})\b"
            + _YEAR
        ),
        lambda m, t, p: _month_day(
            MONTHS[m["mo"]], int(m["d"]) if m["d"] else _ordinal(m), _year(m["y"]), t, p
        ),
    ),
    (
        re.compile(rf"(?:\bon\s+)?(?:\bthe\s+)?{_DAY_ORD}\s+of\s+(?P<nx>next\s+)?month\b"),
        lambda m, t, p: (
            _safe(add_months(t, 1).year, add_months(t, 1).month, _ordinal(m))
            if m["nx"]
            else _day_of_month(_ordinal(m), t, p)
        ),
    ),
    (
        re.compile(
            rf"(?:\bon\s+)?(?:\bthe\s+)?{_DAY_ORD}\s+of\s+(?:the|this|each|every)\s+month\b"
        ),
        lambda m, t, p: _day_of_month(_ordinal(m), t, p),
    ),
    (
        re.compile(r"(?:\bon\s+)?(?:\bthe\s+)?\b(?P<dn>\d{1,2})(?:st|nd|rd|th)\b"),
        lambda m, t, p: _day_of_month(int(m["dn"]), t, p),
    ),
    (
        re.compile(rf"\bon\s+the\s+(?:(?P<dn>\d{{1,2}})\b(?![.,:]\d)|(?P<dw>{ORD_WORD_RE})\b)"),
        lambda m, t, p: _day_of_month(_ordinal(m), t, p),
    ),
    (re.compile(r"\b(?:the\s+)?day\s+after\s+tomorrow\b"), lambda m, t, p: t + timedelta(days=2)),
    (re.compile(r"\b(?:the\s+)?day\s+before\s+yesterday\b"), lambda m, t, p: t - timedelta(days=2)),
    (
        re.compile(r"\b(?:tomorrow|tmrw|tmr|tomorow|tommorow|tommorrow)\b"),
        lambda m, t, p: t + timedelta(days=1),
    ),
    (re.compile(r"\byesterday\b"), lambda m, t, p: t - timedelta(days=1)),
    (re.compile(r"\b(?:today|tonight|right\s+now|now|immediately|asap)\b"), lambda m, t, p: t),
    (
        re.compile(
            r"\b(?:(?P<w>next|this|coming|this\s+coming|last|past|previous)\s+)?"
            rf"(?P<wd>{WEEKDAY_RE})s?\b"
        ),
        lambda m, t, p: _weekday(
            "this" if (m["w"] or "").endswith("coming") else (m["w"] or ""), WEEKDAYS[m["wd"]], t, p
        ),
    ),
    (
        re.compile(rf"\b(?:in|within)\s+{COUNT_RE}\s+{_UNIT}\b"),
        lambda m, t, p: _count_shift(m, t, 1),
    ),
    (
        re.compile(rf"\b{COUNT_RE}\s+{_UNIT}\s+(?:from\s+(?:now|today)|later|out)\b"),
        lambda m, t, p: _count_shift(m, t, 1),
    ),
    (re.compile(rf"\b{COUNT_RE}\s+{_UNIT}\s+ago\b"), lambda m, t, p: _count_shift(m, t, -1)),
    (re.compile(r"\bin\s+a\s+fortnight\b"), lambda m, t, p: t + timedelta(days=14)),
    (
        re.compile(
            r"\b(?:the\s+)?(?:end|close)\s+of\s+(?:the\s+|this\s+)?month\b|\bmonth[\s-]end\b"
            r"|\blast\s+day\s+of\s+(?:the\s+|this\s+)?month\b"
        ),
        lambda m, t, p: _month_end(t),
    ),
    (
        re.compile(r"\b(?:the\s+)?(?:end\s+of|last\s+day\s+of)\s+next\s+month\b"),
        lambda m, t, p: _month_end(add_months(t.replace(day=1), 1)),
    ),
    (
        re.compile(r"\b(?:(?:the\s+)?(?:start|beginning)\s+of\s+)?next\s+month\b"),
        lambda m, t, p: add_months(t.replace(day=1), 1),
    ),
    (
        re.compile(r"\b(?:the\s+)?(?:start|beginning)\s+of\s+(?:the\s+)?month\b"),
        lambda m, t, p: _day_of_month(1, t, p),
    ),
    (re.compile(r"\bnext\s+week\b"), lambda m, t, p: t + timedelta(days=7 - t.weekday())),
    (re.compile(r"\bnext\s+year\b"), lambda m, t, p: date(t.year + 1, 1, 1)),
    (
        re.compile(r"\b(?:the\s+)?end\s+of\s+(?:the\s+|this\s+)?year\b"),
        lambda m, t, p: date(t.year, 12, 31),
    ),
    (
        re.compile(r"\b(?:this\s+)?weekend\b"),
        lambda m, t, p: t + timedelta(days=(5 - t.weekday()) % 7),
    ),
]


def _count_shift(match: re.Match[str], today: date, sign: int) -> date | None:
    count = number_at(match["n"])
    if count is None or count > 1000:
        return None
    return _shift(today, sign * count, match["u"])


def _found(text: str, today: date, prefer: Prefer) -> Iterator[_Found]:
    for pattern, build in _RULES:
        for match in pattern.finditer(text):
            try:
                day = build(match, today, prefer)
            except (OverflowError, ValueError):
                # Beyond the calendar ("tomorrow" on date.max, "in 1000 years" near 9999):
                # no date, rather than an error out of the customer's words.
                continue
            if day is not None:
                yield match.start(), match.end(), day


def find_dates(text: str, *, today: date, prefer: Prefer = "future") -> list[tuple[int, date]]:
    """Every date in ``text`` as (character offset in the normalised text, date), in order.

    Where two readings overlap, the longer one wins ("the 3rd of January" over "the 3rd").
    """
    chosen: list[_Found] = []
    found = sorted(_found(normalise(text), today, prefer), key=lambda f: (f[0] - f[1], f[0]))
    for item in found:
        if all(item[1] <= other[0] or item[0] >= other[1] for other in chosen):
            chosen.append(item)
    return [(start, day) for start, _, day in sorted(chosen)]


def parse_date(text: str, *, today: date, prefer: Prefer = "future") -> date | None:
    """The (first) date a customer means in ``text``, relative to ``today``.

    Weekdays: "Friday"/"this Friday" is the coming one (a bare weekday that is today means a
    week on, "this Friday" on a Friday means today); "next Friday" is the Friday of next week
    (Monday-based); "last Friday" the one before today. "On the 1st" is the next date with that
    day number ("the 31st" in November is December 31). A date with no year ("March 3",
    "3/15") is the next such date, or today. "Next month" is its 1st; "next week" its Monday.

    Args:
        text: the customer's message.
        today: the anchor date; the result depends only on ``text`` and ``today``.
        prefer: "past" reads bare weekdays, days of month and yearless dates backwards (for
            questions about transactions: "what did I spend on Friday").

    Returns:
        The date, or None when ``text`` names none.
    """
    found = find_dates(text, today=today, prefer=prefer)
    return found[0][1] if found else None
