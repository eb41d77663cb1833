from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.money import (
    EXPONENT,
    MAX_MINOR,
    SYMBOL,
    MoneyError,
    exponent,
    format_money,
    to_decimal,
    to_minor,
)

BOUND = 10**12
FAST = settings(max_examples=200, deadline=None)
usd_amounts = st.decimals(
    min_value=-BOUND, max_value=BOUND, places=2, allow_nan=False, allow_infinity=False
)
jpy_amounts = st.decimals(
    min_value=-BOUND, max_value=BOUND, places=0, allow_nan=False, allow_infinity=False
)


@FAST
@given(usd_amounts)
def test_usd_amount_round_trips_exactly(amount: Decimal) -> None:
    minor = to_minor(amount, "USD")
    assert minor == amount * 100
    back = to_decimal(minor, "USD")
    assert back == amount
    assert back.as_tuple().exponent == -2  # always shown to the cent


@FAST
@given(usd_amounts)
def test_usd_amount_as_text_round_trips_exactly(amount: Decimal) -> None:
    # str() may give scientific notation ("1E+3"); the text form must convert just the same.
    assert to_decimal(to_minor(str(amount), "USD"), "USD") == amount


@FAST
@given(jpy_amounts)
def test_jpy_amount_round_trips_exactly(amount: Decimal) -> None:
    minor = to_minor(amount, "JPY")
    assert minor == amount
    back = to_decimal(minor, "JPY")
    assert back == amount
    assert back.as_tuple().exponent == 0


@FAST
@given(st.integers(-(BOUND * 100), BOUND * 100), st.sampled_from(sorted(EXPONENT)))
def test_minor_units_round_trip_in_every_currency(minor: int, currency: str) -> None:
    assert to_minor(to_decimal(minor, currency), currency) == minor


@FAST
@given(st.integers(-(BOUND * 1000), BOUND * 1000).filter(lambda n: n % 10 != 0))
def test_fractions_of_a_cent_are_refused(thousandths: int) -> None:
    with pytest.raises(MoneyError):
        to_minor(Decimal(thousandths).scaleb(-3), "USD")


@FAST
@given(st.integers(-(BOUND * 10), BOUND * 10).filter(lambda n: n % 10 != 0))
def test_fractions_of_a_yen_are_refused(tenths: int) -> None:
    with pytest.raises(MoneyError):
        to_minor(Decimal(tenths).scaleb(-1), "JPY")


@pytest.mark.parametrize(
    ("amount", "currency"), [("1.005", "USD"), ("0.001", "EUR"), ("1.5", "JPY"), ("-0.1", "JPY")]
)
def test_sub_unit_precision_raises(amount: str, currency: str) -> None:
    with pytest.raises(MoneyError, match="more decimals"):
        to_minor(amount, currency)


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("1.5", "USD", 150),
        ("1.50", "USD", 150),
        ("-1234.5", "USD", -123450),
        (Decimal("0.01"), "GBP", 1),
        (7, "USD", 700),
        ("1.000", "JPY", 1),  # trailing zeros are not extra precision
        ("1500", "JPY", 1500),
        ("1e2", "USD", 10000),
        ("19.99", "usd", 1999),  # currency codes are case-insensitive
    ],
)
def test_to_minor_examples(amount: object, currency: str, minor: int) -> None:
    assert to_minor(amount, currency) == minor  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "amount",
    ["NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf", Decimal("NaN"), Decimal("-Inf")],
)
def test_non_finite_amounts_raise(amount: object) -> None:
    with pytest.raises(MoneyError, match="not a finite amount"):
        to_minor(amount)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["", "abc", "12,50", "1.2.3", "$5", "5 USD", "--1"])
def test_garbage_text_raises(text: str) -> None:
    with pytest.raises(MoneyError, match="not an amount"):
        to_minor(text)


def test_money_error_is_a_value_error() -> None:
    # Callers (API validation) catch ValueError; MoneyError must be one.
    assert issubclass(MoneyError, ValueError)


@pytest.mark.parametrize("currency", ["XYZ", "BTC", "", "US"])
def test_unsupported_currency_raises_everywhere(currency: str) -> None:
    with pytest.raises(MoneyError, match="unsupported currency"):
        exponent(currency)
    with pytest.raises(MoneyError, match="unsupported currency"):
        to_minor("1", currency)
    with pytest.raises(MoneyError, match="unsupported currency"):
        to_decimal(100, currency)
    with pytest.raises(MoneyError, match="unsupported currency"):
        format_money(100, currency)


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (-123450, "USD", "-1,234.50 USD"),
        (123450, "USD", "1,234.50 USD"),
        (0, "USD", "0.00 USD"),
        (5, "USD", "0.05 USD"),
        (-5, "EUR", "-0.05 EUR"),
        (100000000, "GBP", "1,000,000.00 GBP"),
        (1234567, "JPY", "1,234,567 JPY"),
        (-999, "jpy", "-999 JPY"),
    ],
)
def test_format_money_examples(minor: int, currency: str, text: str) -> None:
    assert format_money(minor, currency) == text


@pytest.mark.parametrize(
    ("minor", "currency", "options", "text"),
    [
        # symbols: the listed currencies lead with their sign, the others keep their code
        (123450, "USD", {"symbols": ("USD",)}, "$1,234.50"),
        (-123450, "USD", {"symbols": ("USD",)}, "-$1,234.50"),
        (123450, "EUR", {"symbols": ("USD",)}, "1,234.50 EUR"),
        (-500, "eur", {"symbols": ("EUR",)}, "-€5.00"),
        (500, "CHF", {"symbols": SYMBOL}, "CHF 5.00"),
        (500, "CAD", {"symbols": SYMBOL}, "CA$5.00"),
        (123456, "JPY", {"symbols": SYMBOL}, "¥123,456"),
        # places: minor counted in cents whatever the currency, or a currency not booked
        (123400, "JPY", {"places": 2}, "1,234.00 JPY"),
        (1000, "XYZ", {"places": 2}, "10.00 XYZ"),
        (1000, "XYZ", {"places": 2, "symbols": SYMBOL}, "10.00 XYZ"),
        # whole_from: whole units from that many major units up
        (420, "USD", {"whole_from": 100, "symbols": SYMBOL}, "$4.20"),
        (9999, "USD", {"whole_from": 100, "symbols": SYMBOL}, "$99.99"),
        (10000, "USD", {"whole_from": 100, "symbols": SYMBOL}, "$100"),
        (1234567, "USD", {"whole_from": 100, "symbols": SYMBOL}, "$12,346"),
        (-1234500, "USD", {"whole_from": 100, "symbols": SYMBOL}, "-$12,345"),
        (10050, "EUR", {"whole_from": 100}, "100 EUR"),  # half to even
        # code=False: the amount alone
        (-123450, "USD", {"code": False}, "-1,234.50"),
        (123450, "USD", {"code": False, "symbols": SYMBOL}, "1,234.50"),
        (123400, "JPY", {"code": False, "places": 2}, "1,234.00"),
        # plain: the bare decimal of JSON, CSV and tool results
        (-123450, "USD", {"plain": True}, "-1234.50"),
        (0, "EUR", {"plain": True}, "0.00"),
        (1234, "JPY", {"plain": True}, "1234"),
        (5, "GBP", {"plain": True, "symbols": SYMBOL}, "0.05"),
        (1000, "XYZ", {"plain": True, "places": 2}, "10.00"),
    ],
)
def test_format_money_options(
    minor: int, currency: str, options: dict[str, Any], text: str
) -> None:
    assert format_money(minor, currency, **options) == text


def test_every_booked_currency_has_a_symbol() -> None:
    assert set(SYMBOL) == set(EXPONENT)


@FAST
@given(st.integers(-MAX_MINOR, MAX_MINOR), st.sampled_from(sorted(EXPONENT)))
def test_plain_money_is_the_exact_decimal(minor: int, currency: str) -> None:
    assert format_money(minor, currency, plain=True) == str(to_decimal(minor, currency))


@FAST
@given(st.integers(-(BOUND * 100), BOUND * 100), st.sampled_from(sorted(EXPONENT)))
def test_symbols_and_codes_show_the_same_digits(minor: int, currency: str) -> None:
    with_code = format_money(minor, currency)
    with_symbol = format_money(minor, currency, symbols=SYMBOL)
    digits = format_money(minor, currency, code=False)
    assert with_code == f"{digits} {currency}"
    sign = "-" if minor < 0 else ""
    assert with_symbol == f"{sign}{SYMBOL[currency]}{digits.removeprefix('-')}"


@FAST
@given(st.integers(-(BOUND * 100), BOUND * 100), st.sampled_from(sorted(EXPONENT)))
def test_format_money_reads_back_as_the_same_amount(minor: int, currency: str) -> None:
    text = format_money(minor, currency)
    number, code = text.split(" ")
    assert code == currency
    assert to_minor(number.replace(",", ""), currency) == minor


@pytest.mark.parametrize(
    "amount", ["1000000000000000000000000000.001", "1234567890123456789012345678901"]
)
def test_amounts_beyond_decimal_precision_are_never_silently_rounded(amount: str) -> None:
    try:
        minor = to_minor(amount, "USD")
    except MoneyError:
        return
    # Fraction arithmetic is exact; Decimal arithmetic would round the same way the bug does.
    assert Fraction(minor) == Fraction(Decimal(amount)) * 100


def test_absurd_exponent_raises_money_error() -> None:
    with pytest.raises(MoneyError):
        to_minor("1e999999", "USD")


@pytest.mark.parametrize("amount", ["92233720368547758.08", "-1e30", "1" + "0" * 40])
def test_amounts_beyond_the_ledger_are_refused(amount: str) -> None:
    with pytest.raises(MoneyError, match="too large"):
        to_minor(amount, "USD")
