"""Slot extraction for the offline language model: structured values from a customer's words.

Pure functions, no database, network or model: each takes the message and the customer's own
context (payees, accounts, cards, merchants, a balance, ``today``) and returns values drawn
only from that context. Results are deterministic given the inputs.

- amounts: :func:`parse_amount`, :func:`find_amounts` -> :class:`Money`
- dates: :func:`parse_date`, :func:`find_dates`, :func:`parse_frequency`, :func:`parse_period`
- who and which: :func:`match_payee`, :func:`match_account`, :func:`match_transfer_accounts`,
  :func:`match_card`, :func:`match_merchant`, :func:`parse_category`
- dialogue: :func:`is_correction`

The implementation lives in ``agents/slots_*.py``; import from here.
"""

from __future__ import annotations

import re

from agents.offline.slots.accounts import (
    AccountRef,
    CardRef,
    match_account,
    match_card,
    match_transfer_accounts,
)
from agents.offline.slots.amounts import Money, find_amounts, parse_amount
from agents.offline.slots.categories import CATEGORIES, parse_category
from agents.offline.slots.dates import find_dates, parse_date
from agents.offline.slots.frequency import FREQUENCIES, Frequency, parse_frequency
from agents.offline.slots.match import match_merchant, match_payee
from agents.offline.slots.periods import Period, parse_period
from agents.offline.slots.text import normalise

__all__ = [
    "CATEGORIES",
    "FREQUENCIES",
    "AccountRef",
    "CardRef",
    "Frequency",
    "Money",
    "Period",
    "find_amounts",
    "find_dates",
    "is_correction",
    "match_account",
    "match_card",
    "match_merchant",
    "match_payee",
    "match_transfer_accounts",
    "parse_amount",
    "parse_category",
    "parse_date",
    "parse_frequency",
    "parse_period",
]

_CORRECTION = re.compile(
    r"\bi\s+meant\b|\bi\s+mean\b(?!\s+it\b)|\bmeant\s+to\s+(?:say|type|write)\b"
    r"|\bmake\s+(?:it|that)\b|\bchange\s+(?:it|that|the\s+\w+)\s+to\b|\bscratch\s+that\b"
    r"|\b(?:should|shoulda)\s+(?:be|have\s+been|say)\b|\binstead\b|\brather\s+than\b"
    r"|\bcorrection\b|\bthat'?s\s+(?:wrong|not\s+right|incorrect)\b|\bwrong\s+(?:amount|date|"
    r"account|payee|person|card|one)\b"
    r"|\bnot\s+\S+\s+but\b|\bnot\s+\S+(?:\s+\S+)?\s*,\s*(?:but\s+)?"
    r"(?!thanks|thank|please|maybe|later|sorry|i\b)\S"
    r"|^\s*actually\b|^\s*(?:sorry|oops|whoops|my\s+bad|my\s+mistake)\b[\s,.!-]*(?:it'?s|it\s+is|"
    r"\d|\$|make|change|to\s|from\s|the\s+\w+\s+one\b)"
    r"|^\s*(?:no|nope|nah|wait)\b[\s,.!-]+(?:it'?s\s+|it\s+is\s+|the\s+)?(?:\$?\d|use\b|to\s"
    r"|from\s|send\s|pay\s|on\s|make\b|change\b|actually\b)"
)


def is_correction(text: str) -> bool:
    """Whether ``text`` changes a detail the customer just gave rather than answering anew.

    True for "sorry, I meant 65", "no, make it 80", "actually 50", "I meant savings",
    "change it to Friday", "not Tom, Tim", "50 instead"; False for a plain "no", "yes",
    "sorry, I don't understand" or a new request.
    """
    return bool(_CORRECTION.search(normalise(text)))
