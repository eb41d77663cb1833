"""Money as integer minor units with a currency: never a float."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, DecimalException, localcontext

# ISO 4217 exponents for the currencies the bank books in.
EXPONENT: dict[str, int] = {"USD": 2, "EUR": 2, "GBP": 2, "CAD": 2, "CHF": 2, "JPY": 0}


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


def format_money(minor: int, currency: str = "USD") -> str:
    """Human form, e.g. ``-1,234.50 USD``."""
    places = exponent(currency)
    return f"{to_decimal(minor, currency):,.{places}f} {currency.upper()}"
