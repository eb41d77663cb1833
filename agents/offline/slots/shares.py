"""Shares of a sum in a customer's message: "half of it", "all of it", "10% of my balance".

A share is a fraction and the place in the text where what it is a share of would start, so
that "half of $400" can be told from "half of it" (which needs the balance).
"""

from __future__ import annotations

import re
from decimal import ROUND_DOWN, Decimal

_WHOLE = re.compile(
    r"\b(?:all\s+of\s+(?:it|that|this)|it\s+all|them\s+all|all\s+the\s+rest"
    r"|all\s+(?:of\s+)?(?:my|the)\s+(?:money|balance|funds|cash|savings)"
    r"|the\s+rest(?:\s+of\s+it)?|whatever(?:'s|\s+is)\s+left|all\s+that(?:'s|\s+is)\s+left"
    r"|everything(?!\s+(?:is|else|ok|okay|fine|good|alright))"
    r"|every\s+(?:last\s+)?(?:penny|cent|dollar)"
    r"|the\s+(?:full|whole|entire|complete|total)\s+(?:balance|amount|sum|thing|lot)"
    r"|(?:full|whole|entire|total)\s+balance|the\s+lot|all(?=\s+(?:to|into|over|out|across)\b))"
)
_FRACTIONS: tuple[tuple[re.Pattern[str], Decimal | None], ...] = (
    (
        re.compile(
            r"(?:\b(?:a\s+|one\s+)?half\b|(?<![\d/.])1/2(?![\d/]))"
            r"(?!\s+(?:an?\s+|past\s+)?(?:hour|day|week|month|year))"
        ),
        Decimal(1) / 2,
    ),
    (re.compile(r"\btwo[\s-]thirds\b"), Decimal(2) / 3),
    (re.compile(r"\b(?:a|one)[\s-]third\s+of\b"), Decimal(1) / 3),
    (re.compile(r"\bthree[\s-]quarters\b"), Decimal(3) / 4),
    (re.compile(r"\b(?:a|one)[\s-]quarter\s+of\b"), Decimal(1) / 4),
    (re.compile(r"(?<![\d.])(?P<pct>\d{1,3}(?:\.\d+)?)\s*(?:%|percent|per\s?cent)\s+of\b"), None),
)
_OF_TARGET = re.compile(r"\s*(?:of\s+)?(?:my\s+|the\s+|that\s+|this\s+)?")


def share_in(text: str) -> tuple[Decimal, int] | None:
    """A share named in ``text`` ("half", "all of it", "10% of") and where its target starts."""
    for pattern, fraction in _FRACTIONS:
        match = pattern.search(text)
        if match:
            share = fraction if fraction is not None else Decimal(match.group("pct")) / 100
            target = _OF_TARGET.match(text, match.end())
            return share, target.end() if target else match.end()
    whole = _WHOLE.search(text)
    return (Decimal(1), whole.end()) if whole else None


def part_of(minor: int, share: Decimal) -> int:
    """``share`` of ``minor`` units, rounded down to a whole unit."""
    return int((Decimal(minor) * share).to_integral_value(ROUND_DOWN))
