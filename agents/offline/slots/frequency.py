"""How often a payment repeats: "every month", "every two weeks", "annually", "just once"."""

from __future__ import annotations

import re
from typing import Literal

from agents.offline.slots.dates import ORD_WORD_RE, WEEKDAY_RE
from agents.offline.slots.text import normalise, number_at

Frequency = Literal["once", "weekly", "biweekly", "monthly", "yearly"]
FREQUENCIES: tuple[Frequency, ...] = ("once", "weekly", "biweekly", "monthly", "yearly")

_UNSUPPORTED = re.compile(
    r"\b(?:daily|every\s+(?:single\s+)?day|each\s+day|twice\s+a|two\s+times\s+a|semi[\s-]?monthly"
    r"|bi[\s-]?monthly|quarterly|every\s+(?:quarter|three\s+months|3\s+months))\b"
)
_EVERY_N = re.compile(r"\bevery\s+(?P<n>\d+|[a-z]+)\s+(?P<u>week|month|year)s\b")
_FREQUENCY_RULES: tuple[tuple[Frequency, re.Pattern[str]], ...] = (
    (
        "biweekly",
        re.compile(
            r"\b(?:bi[\s-]?weekly|fortnightly|(?:every|each)\s+(?:other|second|2nd)\s+"
            rf"(?:week|{WEEKDAY_RE})|(?:every|each|once\s+a)\s+fortnight)\b"
        ),
    ),
    (
        "weekly",
        re.compile(
            r"\b(?:weekly|(?:every|each|per|once\s+a)\s+week"
            r"|(?<!\bin\s)a\s+week\b(?!\s+(?:from|ago|later|today|tomorrow))"
            rf"|(?:every|each)\s+(?:{WEEKDAY_RE})|on\s+(?:{WEEKDAY_RE})s)\b"
        ),
    ),
    (
        "monthly",
        re.compile(
            r"(?:\bmonthly|\b(?:every|each|per|once\s+a)\s+month"
            r"|(?<!\bin\s)\ba\s+month\b(?!\s+(?:from|ago|later))"
            r"|/\s?mo(?:nth)?\b|\b(?:every|each)\s+(?:the\s+)?\d{1,2}(?:st|nd|rd|th)\b"
            rf"|\b(?:every|each)\s+(?:the\s+)?(?:{ORD_WORD_RE})\b|\bof\s+(?:every|each)\s+month)"
        ),
    ),
    (
        "yearly",
        re.compile(
            r"\b(?:yearly|annually|annual|(?:every|each|per|once\s+a)\s+year|per\s+annum"
            r"|(?<!\bin\s)a\s+year\b(?!\s+(?:from|ago|later))|every\s+(?:12|twelve)\s+months)\b"
        ),
    ),
    (
        "once",
        re.compile(
            r"\b(?:once|one[\s-]?time|one[\s-]off|just\s+this\s+time|single\s+(?:payment|transfer)"
            r"|non[\s-]?recurring|not\s+recurring|(?:don't|do\s+not)\s+repeat)\b"
        ),
    ),
)


def parse_frequency(text: str) -> Frequency | None:
    """How often a payment should repeat: one of :data:`FREQUENCIES`, or None.

    "every month", "monthly", "on the 1st of every month" -> "monthly"; "every two weeks",
    "every other Friday", "fortnightly" -> "biweekly"; "each week", "every Monday" -> "weekly";
    "annually" -> "yearly"; "just once", "one-off" -> "once". Cadences outside that set
    ("daily", "twice a month", "quarterly") give None rather than a wrong neighbour.
    """
    norm = normalise(text)
    every = _EVERY_N.search(norm)
    if every:
        n, unit = number_at(every["n"]), every["u"]
        known: dict[tuple[int | None, str], Frequency] = {
            (1, "week"): "weekly",
            (2, "week"): "biweekly",
            (1, "month"): "monthly",
            (12, "month"): "yearly",
            (1, "year"): "yearly",
        }
        return known.get((n, unit))
    if _UNSUPPORTED.search(norm):
        return None
    for frequency, pattern in _FREQUENCY_RULES:
        if pattern.search(norm):
            return frequency
    return None
