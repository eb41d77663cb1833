"""Spending categories a customer names: "restaurants" is dining, "uber" is transport.

The categories are the ledger's own (``services/synth/archetypes.py`` and the recurring
series): groceries, dining, transport, shopping, entertainment, subscriptions, utilities,
travel, health, housing (rent, mortgage), income, personal_care and fees.
"""

from __future__ import annotations

import re
from functools import lru_cache

from agents.offline.slots.match import similarity
from agents.offline.slots.text import normalise

_WORDS: dict[str, str] = {
    "groceries": (
        "grocery|groceries|supermarket|supermarkets|food shopping|whole foods|"
        "trader joe's|trader joes|kroger|safeway|aldi|costco|food store"
    ),
    "dining": (
        "dining|dine|dining out|eating out|eat out|restaurant|restaurants|takeout|"
        "take-out|take out|takeaway|takeaways|food delivery|doordash|uber eats|ubereats|"
        "grubhub|coffee|coffees|cafe|cafes|lunch|lunches|dinner|dinners|breakfast|"
        "brunch|bar|bars|drinks|fast food|pizza|starbucks|chipotle|mcdonald's|mcdonalds|"
        "blue bottle|sweetgreen|shake shack|olive garden"
    ),
    "transport": (
        "transport|transportation|uber|lyft|taxi|taxis|cab|cabs|gas|fuel|petrol|"
        "gas station|parking|transit|metro|subway|bus|tolls|toll|commute|commuting|"
        "rideshare|rides|shell|chevron"
    ),
    "shopping": (
        "shopping|clothes|clothing|shoes|amazon|target|walmart|retail|online shopping|"
        "ikea|etsy|h&m|electronics"
    ),
    "entertainment": (
        "entertainment|movies|movie|cinema|concert|concerts|tickets|games|gaming|"
        "video games|steam|bowling|theatre|theater|books|ticketmaster|fun"
    ),
    "subscriptions": (
        "subscription|subscriptions|streaming|netflix|spotify|hulu|disney plus|disney+|"
        "memberships|membership|apps"
    ),
    "utilities": (
        "utilities|utility|electric|electricity|power bill|water bill|gas bill|"
        "gas and electric|internet|phone bill|cable|heating|energy bill|broadband"
    ),
    "travel": (
        "travel|travelling|traveling|flight|flights|airline|airlines|airfare|hotel|"
        "hotels|airbnb|vacation|vacations|trip|trips|holiday|holidays|car rental|"
        "rental car|expedia|marriott|plane tickets|train tickets"
    ),
    "health": (
        "health|healthcare|medical|doctor|doctors|pharmacy|prescription|prescriptions|"
        "medicine|dentist|dental|hospital|gym|fitness|therapy|cvs|walgreens"
    ),
    "housing": ("rent|mortgage|housing|landlord|home loan"),
    "income": (
        "income|salary|paycheck|paychecks|pay check|payroll|wages|wage|earnings|earned|"
        "got paid|get paid|deposits|direct deposit"
    ),
    "personal_care": (
        "personal care|haircut|haircuts|hair|salon|barber|beauty|spa|cosmetics|makeup|sephora|nails"
    ),
    "fees": ("fees|fee|bank fees|overdraft fee|overdraft fees"),
}
# Phrases per category, "|"-separated in the table above for brevity.
CATEGORY_WORDS: dict[str, tuple[str, ...]] = {c: tuple(w.split("|")) for c, w in _WORDS.items()}
CATEGORIES: tuple[str, ...] = tuple(CATEGORY_WORDS)

# Every phrase once, longest first so "uber eats" wins over "uber" and "gas bill" over "gas",
# each with its pattern built once (a phrase not bordered by another word character).
_PHRASES: tuple[tuple[str, str, re.Pattern[str]], ...] = tuple(
    (phrase, category, re.compile(rf"(?<![\w&+]){re.escape(phrase)}(?![\w&+])"))
    for phrase, category in sorted(
        ((phrase, category) for category, phrases in CATEGORY_WORDS.items() for phrase in phrases),
        key=lambda pair: -len(pair[0]),
    )
)
_SINGLE_WORDS = {p: c for p, c, _ in _PHRASES if re.fullmatch(r"[a-z]{6,}", p)}
_LONG_WORD = re.compile(r"[a-z]{6,}")


def parse_category(text: str) -> str | None:
    """The spending category ``text`` names, one of :data:`CATEGORIES`, or None.

    Longer phrases win over the words inside them ("uber eats" is dining, "uber" transport;
    "gas bill" is utilities, "gas" transport); among separate mentions the first one in the
    text wins. Long words with a typo ("resturants") are recognised too.
    """
    norm = normalise(text)
    hits: list[tuple[int, str]] = []
    for phrase, category, pattern in _PHRASES:
        if phrase not in norm:  # cheap test first: most phrases are not in a message
            continue
        for match in pattern.finditer(norm):
            hits.append((match.start(), category))
            norm = norm[: match.start()] + " " * len(phrase) + norm[match.end() :]
    if hits:
        return min(hits)[1]
    for word in _LONG_WORD.findall(norm):
        if (found := _misspelt(word)) is not None:
            return found
    return None


@lru_cache(maxsize=8192)
def _misspelt(word: str) -> str | None:
    """The category whose long single word ``word`` is a typo of, if any (the first best)."""
    scored = [(similarity(word, key), category) for key, category in _SINGLE_WORDS.items()]
    best = max(scored, default=(0.0, ""))
    return best[1] if best[0] >= 0.8 else None
