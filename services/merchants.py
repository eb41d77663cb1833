"""Which ledger category a merchant or payee books under, from brand names and keywords.

Used where a source gives a transaction no category (a core-banking feed without one, a payment
to a biller the customer has no bill series with). The rules are words and brands, matched as
whole words in the merchant, counterparty or description; the longest phrase found wins, so
"uber eats" is dining while "uber" is transport, and "water insurance" is insurance while "water"
is a utility. An insurer is insurance, never a utility; money out to a payroll provider is the
business's payroll, while pay coming in from an employer's payroll is income.
"""

from __future__ import annotations

import re
from functools import lru_cache

_RULES: dict[str, str] = {
    "insurance": (
        "insurance|insurer|assurance|assurances|geico|allstate|progressive|state farm|"
        "liberty mutual|nationwide|farmers insurance|usaa|metlife|aflac|lemonade|travelers|"
        "prudential|aetna|cigna|humana|blue cross|kaiser permanente"
    ),
    "utilities": (
        "electric|electricity|power & light|power and light|energy|water|sewer|gas company|"
        "internet|broadband|fiber|fibernet|wireless|telecom|comcast|xfinity|verizon|at&t|"
        "t-mobile|spectrum|pg&e|con edison|duke energy"
    ),
    "groceries": (
        "grocery|groceries|supermarket|whole foods|trader joe's|trader joes|kroger|safeway|"
        "aldi|costco|publix|wegmans|albertsons|h-e-b|food lion|sprouts"
    ),
    "dining": (
        "restaurant|cafe|coffee|bakery|pizza|grill|bistro|diner|starbucks|chipotle|"
        "mcdonald's|mcdonalds|sweetgreen|shake shack|olive garden|blue bottle|doordash|"
        "uber eats|grubhub|subway restaurant"
    ),
    "transport": (
        "uber|lyft|taxi|transit|metro transit|parking|parkmobile|shell|chevron|exxon|"
        "exxonmobil|mobil|texaco|sunoco|fuel|gas station|toll|tolls|amtrak"
    ),
    "shopping": (
        "amazon|target|walmart|ikea|etsy|h&m|best buy|home depot|lowe's|apple store|ebay|"
        "macy's|nordstrom|zara|uniqlo"
    ),
    "entertainment": (
        "cinema|theatre|theater|amc theatres|ticketmaster|steam|bowlero|barnes & noble|"
        "concert|museum|playstation|xbox|nintendo"
    ),
    "subscriptions": (
        "netflix|spotify|hulu|disney+|disney plus|hbo max|youtube premium|apple music|"
        "icloud|dropbox|subscription|membership"
    ),
    "health": (
        "pharmacy|cvs|walgreens|rite aid|clinic|medical|dental|dentist|hospital|doctor|"
        "one medical|quest diagnostics|goodrx|optometrist"
    ),
    "travel": (
        "airline|airlines|air lines|airways|delta air lines|united airlines|hotel|hotels|"
        "marriott|hilton|hyatt|airbnb|expedia|booking.com|hertz|avis|enterprise rent-a-car"
    ),
    "personal_care": "salon|barber|spa|supercuts|great clips|sephora|ulta beauty|nail",
    "housing": "rent|landlord|apartments|properties|residences|leasing|property management",
    "payroll": "payroll|gusto|adp|paychex",
    "fees": "fee|overdraft fee|service charge",
    "cash": "atm|cash withdrawal",
}
# A credit from an employer's payroll is pay, not a payroll cost.
_CREDIT = {"payroll": "income"}

_PHRASES: tuple[tuple[str, str, re.Pattern[str]], ...] = tuple(
    (phrase, category, re.compile(rf"(?<![\w&+]){re.escape(phrase)}(?![\w&+])"))
    for phrase, category in sorted(
        ((p, c) for c, words in _RULES.items() for p in words.split("|")),
        key=lambda pair: -len(pair[0]),
    )
)


@lru_cache(maxsize=8192)
def _category_of(text: str) -> str | None:
    found = " ".join(text.lower().split())
    for phrase, category, pattern in _PHRASES:  # longest phrase first
        if phrase in found and pattern.search(found):
            return category
    return None


def category_of(*names: str | None, amount_minor: int = -1) -> str | None:
    """The category of the first of ``names`` that names a known merchant, or None.

    Args:
        names: merchant, counterparty, description... in order of trust.
        amount_minor: the transaction's signed amount; a credit from a payroll is income.
    """
    for name in names:
        if name:
            category = _category_of(name)
            if category is not None:
                return _CREDIT.get(category, category) if amount_minor > 0 else category
    return None
