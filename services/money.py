"""Money as integer minor units with a currency: never a float."""

from __future__ import annotations

import re
from collections.abc import Collection
from decimal import ROUND_HALF_EVEN, Decimal, DecimalException, localcontext

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency

# ISO 4217 exponents for the currencies the bank books in.
EXPONENT: dict[str, int] = {"USD": 2, "EUR": 2, "GBP": 2, "CAD": 2, "CHF": 2, "JPY": 0}

# How each of those currencies is written before an amount, for the texts that use symbols.
SYMBOL: dict[str, str] = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "CAD": "CA$",
    "CHF": "CHF ",
    "JPY": "¥",
}


# Ledger columns are signed 64-bit integers of minor units.
MAX_MINOR = 2**63 - 1
MAX_DIGITS = 18


class MoneyError(ValueError):
    """An amount or currency that cannot be represented exactly."""


def exponent(currency: str) -> int:
    """Number of decimal places of ``currency``.

    Raises:
        MoneyError: for a currency the bank does not book in.
    """
    try:
        return EXPONENT[currency.upper()]
    except KeyError:
        raise MoneyError(f"unsupported currency {currency!r}") from None


def to_minor(amount: Decimal | str | int, currency: str = "USD") -> int:
    """Convert a decimal amount to integer minor units, refusing sub-unit precision.

    Raises:
        MoneyError: when the text is not a number or has more decimals than the currency.
    """
    places = exponent(currency)
    # Exact arithmetic whatever the digits: the default 28-digit context would round silently.
    with localcontext() as ctx:
        ctx.prec = 80
        try:
            value = Decimal(str(amount).strip())
            if not value.is_finite():
                raise MoneyError(f"not a finite amount: {amount!r}")
            if value.adjusted() > MAX_DIGITS:
                raise MoneyError(f"{amount!r} is too large an amount")
            scaled = value.scaleb(places)
            if scaled != scaled.to_integral_value():
                raise MoneyError(f"{amount!r} has more decimals than {currency} allows")
        except DecimalException:
            raise MoneyError(f"not an amount: {amount!r}") from None
    minor = int(scaled)
    if abs(minor) > MAX_MINOR:
        raise MoneyError(f"{amount!r} is too large an amount")
    return minor


def to_decimal(minor: int, currency: str = "USD") -> Decimal:
    """Convert integer minor units back to an exact ``Decimal``."""
    places = exponent(currency)
    return (Decimal(minor).scaleb(-places)).quantize(Decimal(1).scaleb(-places), ROUND_HALF_EVEN)


def format_money(
    minor: int,
    currency: str = "USD",
    *,
    symbols: Collection[str] = (),
    places: int | None = None,
    whole_from: int | None = None,
    code: bool = True,
    plain: bool = False,
) -> str:
    """Minor units as text, by default ``-1,234.50 USD``: every amount the bank writes comes here.

    The digits are exact (no float on the way) and a minus sign always leads.

    Args:
        minor: The amount in minor units.
        currency: Its ISO code; shown upper-case.
        symbols: Currencies written with their ``SYMBOL`` first instead of their code after:
            ``-$1,234.50``, ``€5.00``, ``CHF 5.00``; the others keep ``1,234.50 EUR``.
        places: Decimal places of ``minor`` when not the currency's own, and so shown: amounts
            already counted in cents whatever the currency, or a currency the bank does not book.
        whole_from: Show whole units from this many major units up (``$12,346`` but ``$4.20``).
        code: ``False`` leaves the currency out (``1,234.50``), for labels that already say it.
        plain: The bare fixed-point decimal that JSON, CSV and tool results carry (``-1234.50``,
            ``1234`` for yen): no grouping, symbol or code.

    Raises:
        MoneyError: for a currency the bank does not book, unless ``places`` is given.
    """
    if places is None:
        places = exponent(currency)
    value = Decimal(minor).scaleb(-places)
    if plain:
        return f"{value:.{places}f}"
    shown = 0 if whole_from is not None and abs(value) >= whole_from else places
    text = f"{abs(value):,.{shown}f}"
    sign = "-" if minor < 0 else ""
    upper = currency.upper()
    if not code:
        return f"{sign}{text}"
    if upper in symbols and upper in SYMBOL:
        return f"{sign}{SYMBOL[upper]}{text}"
    return f"{sign}{text} {upper}"


# The customer's country -> the locale their amounts are written in (CLDR, the same data the
# browser's ``Intl.NumberFormat`` uses, so a page and a chat reply write one amount alike).
COUNTRY_LOCALE: dict[str, str] = {
    "US": "en_US",
    "CA": "en_CA",
    "GB": "en_GB",
    "IE": "en_IE",
    "DE": "de_DE",
    "FR": "fr_FR",
    "CH": "de_CH",
    "JP": "ja_JP",
}
DEFAULT_LOCALE = "en_US"


def locale_for(country: str | None) -> str:
    """The locale a customer of ``country`` (ISO 3166 alpha-2) reads amounts in."""
    return COUNTRY_LOCALE.get((country or "").upper(), DEFAULT_LOCALE)


def web_locale(locale: str) -> str:
    """``en_US`` as a browser writes it (``en-US``), for ``Intl.NumberFormat``."""
    return locale.replace("_", "-")


def display_money(
    minor: int,
    currency: str = "USD",
    locale: str = DEFAULT_LOCALE,
    *,
    places: int | None = None,
    whole_from: int | None = None,
) -> str:
    """An amount as a customer reads it, in their locale: ``$1,234.50``, ``-€5.00``, ``¥1,234``.

    The one format of every customer surface (pages, chat, summaries, notifications); the
    browser writes the same amounts with ``Intl.NumberFormat`` in the same locale.

    Args:
        minor: The amount in minor units.
        currency: Its ISO code.
        locale: A CLDR locale such as ``en_US`` (see :func:`locale_for`); unknown ones fall back
            to the default rather than fail a reply.
        places: Decimal places of ``minor`` when not the currency's own.
        whole_from: Show whole units from this many major units up (``$12,346`` but ``$4.20``).

    Raises:
        MoneyError: for a currency the bank does not book, unless ``places`` is given.
    """
    if places is None:
        places = exponent(currency)
    value = Decimal(int(minor)).scaleb(-places)
    try:
        where = Locale.parse(locale)
    except (UnknownLocaleError, ValueError, TypeError):
        where = Locale.parse(DEFAULT_LOCALE)
    pattern = where.currency_formats["standard"].pattern.split(";")[0]
    if whole_from is not None and abs(value) >= whole_from:
        value, places = value.quantize(Decimal(1), ROUND_HALF_EVEN), 0
    decimals = "0." + "0" * places if places else "0"
    pattern = re.sub(r"0(?:\.0+)?(?=[^0]*$)", decimals, pattern, count=1)
    text = format_currency(value, currency.upper(), pattern, locale=where, currency_digits=False)
    # CLDR's currency spacing, which the browser applies and Babel does not: CHF\u00a05.00.
    return re.sub(r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])", "\u00a0", text)
