"""Hostile input to the parsers: amounts, dates and refs, whatever a customer (or attacker) types.

The customer's words reach ``parse_amount``/``find_amounts`` and ``parse_date``/``find_dates``;
the model's tool arguments reach ``to_minor`` and ``parse_ref``. None of them may raise anything
but its own documented error, and what they return must be usable as it stands: a positive,
bounded amount in a currency the bank books in; a date; a positive id of the right kind.
``tests/unit/services/test_money.py`` and ``tests/unit/agents/offline/test_slots.py`` hold the
round trips of ``to_minor`` and the everyday phrasings; these are the properties on top.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from agents.offline.slots import Money, find_amounts, find_dates, parse_amount, parse_date
from services.banking.rules import money
from services.money import EXPONENT, MAX_MINOR, MoneyError, format_money, to_minor
from tools.refs import KINDS, RefError, parse_ref, ref

FAST = settings(max_examples=300, deadline=None)
CURRENCIES = sorted(EXPONENT)
# Text a customer could type, weighted towards what the parsers look for.
PIECES = st.sampled_from(
    [
        "$",
        "€",
        "£",
        "¥",
        "usd",
        "eur",
        "k",
        "grand",
        "million",
        "cents",
        "dollars",
        "half of",
        "all of it",
        "%",
        "-",
        "minus",
        ".",
        ",",
        " ",
        "1",
        "0",
        "9",
        "00",
        "999",
        "1e9",
        "in",
        "days",
        "weeks",
        "ago",
        "next",
        "friday",
        "the",
        "31st",
        "of",
        "february",
        "2/30",
        "9999-12-31",
        "0000-01-01",
        "from now",
        "tomorrow",
        "year",
        "month",
        "end of",
        "\u0661\u0662",
        "\U0001d7cf",
        "\u00bd",
        "\u2007",
        "\x00",
        "NaN",
        "Infinity",
    ]  # fmt: skip
)
hostile_text = st.one_of(
    st.text(max_size=80),
    st.lists(PIECES, max_size=12).map(" ".join),
    st.lists(PIECES, max_size=12).map("".join),
)


def _valid(found: Money) -> bool:
    return (
        isinstance(found.amount_minor, int)
        and not isinstance(found.amount_minor, bool)
        and 0 < found.amount_minor <= MAX_MINOR
        and found.currency in EXPONENT
    )


# --- amounts in the customer's words ------------------------------------------------------------


@FAST
@given(
    hostile_text,
    st.sampled_from(CURRENCIES),
    st.one_of(st.none(), st.integers(min_value=-(10**15), max_value=MAX_MINOR)),
)
@example("$1" + "0" * 40, "USD", None)
@example("half of it", "USD", MAX_MINOR)
@example("100% of $92233720368547758.07", "USD", None)
@example("\u0661\u0662\u0663 dollars", "USD", None)
def test_any_text_gives_a_positive_bounded_amount_or_none(
    text: str, currency: str, available: int | None
) -> None:
    found = parse_amount(text, default_currency=currency, available_minor=available)
    assert found is None or _valid(found)
    assert all(_valid(m) for m in find_amounts(text, default_currency=currency))


@FAST
@given(st.integers(min_value=1, max_value=10**15), st.sampled_from(CURRENCIES))
def test_formatted_amounts_read_back_as_themselves(minor: int, currency: str) -> None:
    # What the bank writes ("1,234.50 EUR", "$1,234.50") is what the customer may copy back.
    for shown in (format_money(minor, currency), money(minor, currency)):
        assert parse_amount(f"send {shown} please", default_currency=currency) == Money(
            minor, currency
        )


@FAST
@given(
    st.integers(min_value=1, max_value=10**12),
    st.sampled_from(["-", "minus ", "negative ", "- "]),
    st.sampled_from(["${}", "{} dollars", "{}", "€{}", "{} usd"]),
)
def test_negative_amounts_are_never_read_as_positive(cents: int, sign: str, template: str) -> None:
    amount = template.format(f"{cents // 100}.{cents % 100:02d}")
    assert parse_amount(f"send {sign}{amount}") is None
    assert find_amounts(f"send {sign}{amount}") == []


@FAST
@given(st.integers(min_value=MAX_MINOR // 100 + 1, max_value=10**40))
def test_amounts_beyond_the_ledger_are_no_amount(dollars: int) -> None:
    for text in (f"${dollars}", f"{dollars:,} dollars", f"${dollars}k", f"{dollars} eur"):
        assert parse_amount(text) is None
        assert find_amounts(text) == []


# --- amounts the model passes to the bank -------------------------------------------------------


@FAST
@given(
    st.one_of(
        hostile_text,
        st.decimals(allow_nan=True, allow_infinity=True),
        st.integers(min_value=-(10**30), max_value=10**30),
    ),
    st.sampled_from(CURRENCIES),
)
@example("1e999999999999999999", "USD")
@example("-0", "USD")
@example("  12.50\n", "USD")
def test_to_minor_gives_a_bounded_int_or_a_money_error(
    amount: str | Decimal | int, currency: str
) -> None:
    try:
        minor = to_minor(amount, currency)
    except MoneyError as exc:
        assert str(exc)  # a clear message, never an empty one
        return
    assert type(minor) is int and abs(minor) <= MAX_MINOR
    assert Decimal(minor).scaleb(-EXPONENT[currency]) == Decimal(str(amount).strip())


@FAST
@given(st.text(max_size=60).filter(lambda t: not any(c.isdigit() for c in t)))
def test_text_without_digits_is_refused_clearly(text: str) -> None:
    assume(text.strip().lower().lstrip("+-") not in ("inf", "infinity", "nan", "snan"))
    with pytest.raises(MoneyError, match="not an amount"):
        to_minor(text)


# --- dates ---------------------------------------------------------------------------------------

any_today = st.dates()  # including date.min and date.max: arithmetic must not overflow


@FAST
@given(hostile_text, any_today, st.sampled_from(["future", "past"]))
@example("tomorrow", date.max, "future")
@example("next year", date.max, "future")
@example("yesterday", date.min, "past")
@example("in 1000 years", date(9990, 1, 1), "future")
@example("1000 months ago", date(1, 6, 1), "past")
@example("next friday", date.max, "future")
@example("end of next month", date(9999, 12, 1), "future")
def test_any_text_gives_a_date_or_none_and_never_raises(
    text: str, today: date, prefer: str
) -> None:
    found = parse_date(text, today=today, prefer=prefer)  # type: ignore[arg-type]
    assert found is None or type(found) is date
    every = find_dates(text, today=today, prefer=prefer)  # type: ignore[arg-type]
    assert all(type(d) is date for _, d in every)
    assert found == (every[0][1] if every else None)
    assert [at for at, _ in every] == sorted(at for at, _ in every)


realistic_today = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))


@FAST
@given(realistic_today, st.integers(min_value=1, max_value=1000))
def test_counted_shifts_are_exact(today: date, n: int) -> None:
    assert parse_date(f"{n} days ago", today=today) == today - timedelta(days=n)
    assert parse_date(f"{n} days from now", today=today) == today + timedelta(days=n)
    assert parse_date(f"in {n} weeks", today=today) == today + timedelta(weeks=n)
    assert parse_date(f"within {n} days", today=today) == today + timedelta(days=n)


@FAST
@given(realistic_today, st.integers(min_value=1001, max_value=10**30))
def test_absurd_counts_are_no_date(today: date, n: int) -> None:
    for unit in ("days", "weeks", "months", "years"):
        assert parse_date(f"in {n} {unit}", today=today) is None


@FAST
@given(any_today)
def test_a_date_beyond_the_calendar_is_no_date(today: date) -> None:
    if today == date.max:
        assert parse_date("tomorrow", today=today) is None
    if today == date.min:
        assert parse_date("yesterday", today=today) is None
    assert parse_date("2026-02-30", today=today) is None
    assert parse_date("on 13/45", today=today) is None


# --- refs ----------------------------------------------------------------------------------------

ids = st.integers(min_value=1, max_value=10**18 - 1)


@FAST
@given(st.sampled_from(sorted(KINDS)), ids)
def test_refs_round_trip_only_under_their_own_kind(kind: str, record_id: int) -> None:
    text = ref(kind, record_id)
    assert parse_ref(text, kind) == record_id
    assert parse_ref(f"  {text}\n", kind) == record_id
    for other in sorted(set(KINDS) - {kind}):
        with pytest.raises(RefError):
            parse_ref(text, other)


@FAST
@given(
    st.one_of(
        hostile_text,
        st.from_regex(r"[a-z]{1,8}-[0-9]{0,25}", fullmatch=True),
        st.from_regex(r"(acc|payee|card|txn|sched|goal)[-_ :]?-?[0-9\u0661]{0,22}", fullmatch=True),
        st.integers(),
        st.none(),
        st.binary(max_size=10),
    ),
    st.sampled_from(sorted(KINDS) + ["", "nope", "ACC"]),
)
@example("acc-0", "acc")
@example("acc-01", "acc")
@example("acc--1", "acc")
@example("acc-1\n2", "acc")
@example("acc-\u0661", "acc")
@example("acc-" + "9" * 19, "acc")
@example("ACC-1", "acc")
@example("nope-1", "nope")
@example(12, "acc")
def test_anything_else_is_a_ref_error(value: object, kind: str) -> None:
    try:
        found = parse_ref(value, kind)  # type: ignore[arg-type]
    except RefError as exc:
        assert str(exc).startswith("I couldn't find that")
        return
    # Accepted only as exactly "<kind>-<positive id without leading zeros>" of a known kind.
    assert kind in KINDS
    assert isinstance(value, str) and value.strip() == f"{kind}-{found}"
    assert 0 < found < 10**18 <= MAX_MINOR
