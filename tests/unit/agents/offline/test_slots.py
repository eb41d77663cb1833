"""Slot extraction: one table of customer phrasings and what each must yield, plus properties.

Every date is relative to TODAY, Saturday 2026-11-28. Payees, accounts, cards and merchants are
one customer's own; nothing outside them may ever come back.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import agents.offline.slots as slots
from agents.offline.slots import (
    CATEGORIES,
    FREQUENCIES,
    AccountRef,
    CardRef,
    Money,
    find_amounts,
    find_dates,
    is_correction,
    match_account,
    match_card,
    match_merchant,
    match_payee,
    match_transfer_accounts,
    parse_amount,
    parse_category,
    parse_date,
    parse_frequency,
    parse_period,
)
from agents.offline.slots.match import similarity
from agents.offline.slots.text import words_to_int

TODAY = date(2026, 11, 28)
assert TODAY.weekday() == 5  # a Saturday: the weekday cases below depend on it
BALANCE = 10_001  # $100.01: halves round down to the cent

PAYEES = [
    ("p-tom-b", "Tom Baker"),
    ("p-tom-h", "Tom Hardy"),
    ("p-elec", "City Electric"),
    ("p-mom", "Mom"),
    ("p-rob", "Robert Lee"),
    ("p-rent", "Oakwood Apartments"),
    ("p-sarah", "Sarah Connor"),
    ("p-att", "AT&T"),
]
ACCOUNTS = [
    AccountRef("a-chk", "checking", "Everyday Checking", "4821"),
    AccountRef("a-rainy", "savings", "Rainy Day Savings", "1234"),
    AccountRef("a-trip", "savings", "Vacation Fund", "5555"),
    AccountRef("a-cc", "credit_card", "Cashback Card", "9876"),
    AccountRef("a-loc", "line_of_credit", "Flex Line of Credit", "2222"),
]
CARDS = [CardRef("c-debit", "debit", "4821"), CardRef("c-cc1", "credit", "9876")]
CARDS += [CardRef("c-cc2", "credit", "1111")]
MERCHANTS = ["Whole Foods", "Trader Joe's", "Starbucks", "Shell", "Uber", "Amazon"]
MERCHANTS += ["Metro Transit", "Blue Bottle", "CVS Pharmacy", "Barnes & Noble", "McDonald's"]


def usd(amount: str, currency: str = "USD") -> Money:
    return Money(int(Decimal(amount) * 100), currency)


def d(month: int, day: int, year: int = 2026) -> date:
    return date(year, month, day)


def refs(found: list[tuple[str, float]]) -> list[str]:
    return [ref for ref, _ in found]


def extract(slot: str, text: str) -> object:
    """Run the extractor a table row names, in this customer's context."""
    if slot == "amount":
        return parse_amount(text)
    if slot == "amount+balance":
        return parse_amount(text, available_minor=BALANCE)
    if slot == "amount+eur":
        return parse_amount(text, default_currency="EUR")
    if slot == "date":
        return parse_date(text, today=TODAY)
    if slot == "date+past":
        return parse_date(text, today=TODAY, prefer="past")
    if slot == "frequency":
        return parse_frequency(text)
    if slot == "period":
        return parse_period(text, today=TODAY)
    if slot == "payee":
        return refs(match_payee(text, PAYEES))
    if slot == "account":
        return refs(match_account(text, ACCOUNTS))
    if slot == "transfer":
        source, target = match_transfer_accounts(text, ACCOUNTS)
        return refs(source), refs(target)
    if slot == "card":
        return refs(match_card(text, CARDS))
    if slot == "merchant":
        return refs(match_merchant(text, MERCHANTS))
    if slot == "category":
        return parse_category(text)
    if slot == "correction":
        return is_correction(text)
    raise AssertionError(f"no extractor for {slot}")


CASES: list[tuple[str, str, object]] = [
    # --- amounts: symbols, slang, words, currencies, k, shares -----------------------------
    ("amount", "$200", usd("200")),
    ("amount", "send 200 bucks to Tom", usd("200")),
    ("amount", "200 dollars", usd("200")),
    ("amount", "$1.2k", usd("1200")),
    ("amount", "2k to savings", usd("2000")),
    ("amount", "1,250.50", usd("1250.50")),
    ("amount", "pay $1,000,000", usd("1000000")),
    ("amount", "$20.50", usd("20.50")),
    ("amount", "$.99", usd("0.99")),
    ("amount", "twenty dollars", usd("20")),
    ("amount", "twenty-five", usd("25")),
    ("amount", "twenty five bucks", usd("25")),
    ("amount", "a hundred and fifty", usd("150")),
    ("amount", "send a hundred", usd("100")),
    ("amount", "two grand", usd("2000")),
    ("amount", "a grand", usd("1000")),
    ("amount", "5 grand", usd("5000")),
    ("amount", "five hundred thousand", usd("500000")),
    ("amount", "two thousand five hundred", usd("2500")),
    ("amount", "send him one fifty", usd("150")),
    ("amount", "one dollar", usd("1")),
    ("amount", "1.5 million dollars", usd("1500000")),
    ("amount", "$5m", usd("5000000")),
    ("amount", "50 cents", usd("0.50")),
    ("amount", "twenty dollars and fifty cents", usd("20.50")),
    ("amount", "€50", usd("50", "EUR")),
    ("amount", "50 EUR", usd("50", "EUR")),
    ("amount", "50 euros", usd("50", "EUR")),
    ("amount", "12,50 €", usd("12.50", "EUR")),
    ("amount", "£20", usd("20", "GBP")),
    ("amount", "5 quid", usd("5", "GBP")),
    ("amount", "¥500", Money(500, "JPY")),
    ("amount", "US$20", usd("20")),
    ("amount+eur", "send 30", usd("30", "EUR")),
    ("amount+eur", "$30", usd("30")),
    ("amount", "65", usd("65")),
    ("amount", "sorry, I meant 65", usd("65")),
    ("amount", "no, make it 80", usd("80")),
    ("amount", "send 50 to Tom on the 3rd", usd("50")),
    ("amount", "pay my credit card 200", usd("200")),
    ("amount", "pay 50 to account 1234", usd("50")),
    ("amount", "half of $400", usd("200")),
    ("amount", "half of it", None),
    ("amount", "all of it", None),
    ("amount", "everything", None),
    ("amount", "the full balance", None),
    ("amount+balance", "half of it", usd("50")),
    ("amount+balance", "send 1/2 of it", usd("50")),
    ("amount+balance", "all of it", usd("100.01")),
    ("amount+balance", "everything", usd("100.01")),
    ("amount+balance", "the full balance", usd("100.01")),
    ("amount+balance", "move all to savings", usd("100.01")),
    ("amount+balance", "10% of it", usd("10")),
    ("amount+balance", "half of it, say $30", usd("30")),
    ("amount+balance", "that's all, thanks", None),
    # --- not amounts ----------------------------------------------------------------------
    ("amount", "card ending 4821", None),
    ("amount", "freeze the card ending in 4821", None),
    ("amount", "…4821", None),
    ("amount", "x4821", None),
    ("amount", "on the 1st", None),
    ("amount", "March 3", None),
    ("amount", "3/15", None),
    ("amount", "2026-12-01", None),
    ("amount", "at 5pm", None),
    ("amount", "at 5 pm", None),
    ("amount", "at 5:30", None),
    ("amount", "10%", None),
    ("amount", "5 percent", None),
    ("amount", "account 12345678", None),
    ("amount", "in 3 days", None),
    ("amount", "every 2 weeks", None),
    ("amount", "show my last 5 transactions", None),
    ("amount", "move it to the other one", None),
    ("amount", "in 2026", None),
    ("amount", "call 1-800-555-1234", None),
    ("amount", "-50", None),
    ("amount", "minus 50", None),
    ("amount", "$0", None),
    ("amount", "5m", None),
    ("amount", "$5.999", None),
    ("amount", "send 5.000", None),
    ("amount", "move money from 4821 to 1234", None),
    ("amount", "pay 3 bills", None),
    ("amount", "a few hundred", None),
    ("amount", "send a couple hundred", usd("200")),
    ("amount", "ten k", usd("10000")),
    ("amount", "€5.000", usd("5000", "EUR")),
    ("amount", "1.250,50 €", usd("1250.50", "EUR")),
    # --- dates (today is Saturday 2026-11-28) ---------------------------------------------
    ("date", "today", d(11, 28)),
    ("date", "tomorrow", d(11, 29)),
    ("date", "the day after tomorrow", d(11, 30)),
    ("date", "next Friday", d(12, 4)),
    ("date", "this Friday", d(12, 4)),
    ("date", "Friday", d(12, 4)),
    ("date", "pay him on friday", d(12, 4)),
    ("date", "saturday", d(12, 5)),
    ("date", "this saturday", d(11, 28)),
    ("date", "next sunday", d(12, 6)),
    ("date", "last friday", d(11, 27)),
    ("date", "on the 1st", d(12, 1)),
    ("date", "the 15th", d(12, 15)),
    ("date", "on the 15", d(12, 15)),
    ("date", "on the fifteenth", d(12, 15)),
    ("date", "the 31st", d(12, 31)),
    ("date", "in two weeks", d(12, 12)),
    ("date", "in 3 days", d(12, 1)),
    ("date", "in a week", d(12, 5)),
    ("date", "in a couple of days", d(11, 30)),
    ("date", "a week from today", d(12, 5)),
    ("date", "in a month", d(12, 28)),
    ("date", "end of the month", d(11, 30)),
    ("date", "end of next month", d(12, 31)),
    ("date", "March 3", d(3, 3, 2027)),
    ("date", "the 3rd of January", d(1, 3, 2027)),
    ("date", "january 3rd, 2027", d(1, 3, 2027)),
    ("date", "nov 28", d(11, 28)),
    ("date", "3/15", d(3, 15, 2027)),
    ("date", "pay 3/15/27", d(3, 15, 2027)),
    ("date", "2026-12-01", d(12, 1)),
    ("date", "next month", d(12, 1)),
    ("date", "the 15th of next month", d(12, 15)),
    ("date", "next week", d(11, 30)),
    ("date+past", "Friday", d(11, 27)),
    ("date+past", "March 3", d(3, 3)),
    ("date+past", "3 days ago", d(11, 25)),
    ("date", "send $50", None),
    ("date", "card ending 4821", None),
    ("date", "send 1/2 of it", None),
    # --- frequencies ----------------------------------------------------------------------
    ("frequency", "every month", "monthly"),
    ("frequency", "monthly", "monthly"),
    ("frequency", "once a month", "monthly"),
    ("frequency", "on the 1st of every month", "monthly"),
    ("frequency", "every 15th", "monthly"),
    ("frequency", "every two weeks", "biweekly"),
    ("frequency", "every 2 weeks", "biweekly"),
    ("frequency", "every other Friday", "biweekly"),
    ("frequency", "bi-weekly", "biweekly"),
    ("frequency", "fortnightly", "biweekly"),
    ("frequency", "each week", "weekly"),
    ("frequency", "every Friday", "weekly"),
    ("frequency", "50 a week", "weekly"),
    ("frequency", "annually", "yearly"),
    ("frequency", "every 12 months", "yearly"),
    ("frequency", "just once", "once"),
    ("frequency", "a one-off payment", "once"),
    ("frequency", "daily", None),
    ("frequency", "twice a month", None),
    ("frequency", "every 3 weeks", None),
    ("frequency", "in a week", None),
    ("frequency", "pay Tom 50", None),
    # --- periods --------------------------------------------------------------------------
    ("period", "last month", (d(10, 1), d(10, 31))),
    ("period", "this month", (d(11, 1), d(11, 30))),
    ("period", "last week", (d(11, 16), d(11, 22))),
    ("period", "this week", (d(11, 23), d(11, 29))),
    ("period", "in October", (d(10, 1), d(10, 31))),
    ("period", "spending in December", (d(12, 1, 2025), d(12, 31, 2025))),
    ("period", "october 2025", (d(10, 1, 2025), d(10, 31, 2025))),
    ("period", "past 30 days", (d(10, 30), d(11, 28))),
    ("period", "what have I spent lately", (d(10, 29), d(11, 28))),
    ("period", "eating out recently", (d(10, 29), d(11, 28))),
    ("period", "recent transactions", None),
    ("period", "the last 3 months", (d(8, 29), d(11, 28))),
    ("period", "this year", (d(1, 1), d(12, 31))),
    ("period", "last year", (d(1, 1, 2025), d(12, 31, 2025))),
    ("period", "year to date", (d(1, 1), d(11, 28))),
    ("period", "since March", (d(3, 1), d(11, 28))),
    ("period", "last quarter", (d(7, 1), d(9, 30))),
    ("period", "between 3/1 and 3/15", (d(3, 1), d(3, 15))),
    ("period", "on the 3rd of October", (d(10, 3), d(10, 3))),
    ("period", "yesterday", (d(11, 27), d(11, 27))),
    ("period", "may I see my spending", None),
    ("period", "what did I spend", None),
    # --- payees ---------------------------------------------------------------------------
    ("payee", "pay Tom Baker 50", ["p-tom-b"]),
    ("payee", "send money to tom bakr", ["p-tom-b"]),
    ("payee", "pay 50 to Tom Hardy", ["p-tom-h"]),
    ("payee", "Tom B", ["p-tom-b"]),
    ("payee", "pay Tom", ["p-tom-b", "p-tom-h"]),
    ("payee", "the electric company", ["p-elec"]),
    ("payee", "pay the power bill", ["p-elec"]),
    ("payee", "pay the elecrtic bill", ["p-elec"]),
    ("payee", "send mom 50", ["p-mom"]),
    ("payee", "pay bob", ["p-rob"]),
    ("payee", "pay sara connor", ["p-sarah"]),
    ("payee", "pay at&t", ["p-att"]),
    ("payee", "pay my rent", ["p-rent"]),
    ("payee", "pay Jane Doe", []),
    ("payee", "send 50 to dad", []),
    ("payee", "i will pay the bill tomorrow", []),
    # --- accounts -------------------------------------------------------------------------
    ("account", "checking", ["a-chk"]),
    ("account", "current account", ["a-chk"]),
    ("account", "my savings account", ["a-rainy", "a-trip"]),
    ("account", "Rainy Day", ["a-rainy"]),
    ("account", "rainy day savings", ["a-rainy"]),
    ("account", "everyday", ["a-chk"]),
    ("account", "my vacation savings", ["a-trip"]),
    ("account", "ending 4821", ["a-chk"]),
    ("account", "…1234", ["a-rainy"]),
    ("account", "account ending 9999", []),
    ("account", "the credit card", ["a-cc"]),
    ("account", "line of credit", ["a-loc"]),
    ("account", "what's my balance", []),
    ("transfer", "move 200 from everyday to savings", (["a-chk"], ["a-rainy", "a-trip"])),
    ("transfer", "put 50 into rainy day", ([], ["a-rainy"])),
    ("transfer", "transfer 100 to my savings from checking", (["a-chk"], ["a-rainy", "a-trip"])),
    ("transfer", "move vacation to checking", (["a-trip"], ["a-chk"])),
    ("transfer", "move 30 from savings to rainy day", (["a-trip"], ["a-rainy"])),
    ("transfer", "I want to move 50 from checking to rainy day", (["a-chk"], ["a-rainy"])),
    ("transfer", "send 20 from the one ending in 4821 to vacation", (["a-chk"], ["a-trip"])),
    # --- cards ----------------------------------------------------------------------------
    ("card", "my debit card", ["c-debit"]),
    ("card", "card ending 4821", ["c-debit"]),
    ("card", "the credit card", ["c-cc1", "c-cc2"]),
    ("card", "freeze my card", ["c-debit", "c-cc1", "c-cc2"]),
    ("card", "card ending 0000", []),
    ("card", "lock it", []),
    # --- merchants and categories ---------------------------------------------------------
    ("merchant", "how much at starbucks", ["Starbucks"]),
    ("merchant", "starbux", ["Starbucks"]),
    ("merchant", "trader joes", ["Trader Joe's"]),
    ("merchant", "wholefoods", ["Whole Foods"]),
    ("merchant", "spent at mcdonalds", ["McDonald's"]),
    ("merchant", "barnes and noble", ["Barnes & Noble"]),
    ("merchant", "netflix", []),
    ("category", "groceries", "groceries"),
    ("category", "how much on restaurants", "dining"),
    ("category", "takeout last month", "dining"),
    ("category", "coffee", "dining"),
    ("category", "uber eats", "dining"),
    ("category", "uber", "transport"),
    ("category", "gas", "transport"),
    ("category", "the gas bill", "utilities"),
    ("category", "fuel", "transport"),
    ("category", "clothes shopping", "shopping"),
    ("category", "movies", "entertainment"),
    ("category", "netflix", "subscriptions"),
    ("category", "electricity", "utilities"),
    ("category", "flights", "travel"),
    ("category", "pharmacy", "health"),
    ("category", "rent", "housing"),
    ("category", "my salary", "income"),
    ("category", "resturants", "dining"),
    ("category", "send 50 to Tom", None),
    # --- corrections ----------------------------------------------------------------------
    ("correction", "sorry, I meant 65", True),
    ("correction", "no, make it 80", True),
    ("correction", "actually 50", True),
    ("correction", "I meant savings", True),
    ("correction", "change it to Friday", True),
    ("correction", "not Tom, Tim", True),
    ("correction", "no", False),
    ("correction", "yes please", False),
    ("correction", "no, not now", False),
    ("correction", "sorry, I don't understand", False),
    ("correction", "send 50 to Tom", False),
]


def test_the_table_is_big_and_has_no_duplicate_rows() -> None:
    assert len(CASES) >= 130
    assert len({(slot, text) for slot, text, _ in CASES}) == len(CASES)


@pytest.mark.parametrize(("slot", "text", "expected"), CASES, ids=[f"{s}:{t}" for s, t, _ in CASES])
def test_table(slot: str, text: str, expected: object) -> None:
    assert extract(slot, text) == expected


# --- properties and contracts -------------------------------------------------------------

FAST = settings(max_examples=200, deadline=None)
names = st.text(alphabet="abcdefghijklmnop rstuvwxyz&'-", min_size=1, max_size=20)


@FAST
@given(st.integers(min_value=1, max_value=10**11))
def test_dollar_amounts_round_trip(cents: int) -> None:
    assert parse_amount(f"${cents / 100:.2f}") == Money(cents)
    assert parse_amount(f"send ${cents // 100:,}.{cents % 100:02d} to Tom") == Money(cents)


@FAST
@given(st.lists(st.tuples(st.uuids().map(str), names), max_size=8), st.text(max_size=60))
def test_match_payee_returns_only_given_refs_with_scores_in_range(
    payees: list[tuple[str, str]], text: str
) -> None:
    found = match_payee(text, payees)
    assert {ref for ref, _ in found} <= {ref for ref, _ in payees}
    assert all(0.0 <= score <= 1.0 for _, score in found)
    assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)


@FAST
@given(st.sampled_from(PAYEES), st.sampled_from(["pay ", "send 20 to ", ""]))
def test_every_payee_is_found_by_its_full_name(payee: tuple[str, str], verb: str) -> None:
    assert match_payee(verb + payee[1], PAYEES)[0] == (payee[0], 1.0)


@FAST
@given(st.text(max_size=60))
def test_account_and_card_matches_come_from_the_lists(text: str) -> None:
    assert set(refs(match_account(text, ACCOUNTS))) <= {a.ref for a in ACCOUNTS}
    source, target = match_transfer_accounts(text, ACCOUNTS)
    assert set(refs(source)) | set(refs(target)) <= {a.ref for a in ACCOUNTS}
    assert set(refs(match_card(text, CARDS))) <= {c.ref for c in CARDS}
    assert set(refs(match_merchant(text, MERCHANTS))) <= set(MERCHANTS)


def _spell(n: int) -> str:
    """English words for 1..999,999 (the test's own, independent speller)."""
    small = "zero one two three four five six seven eight nine ten eleven twelve thirteen"
    small += " fourteen fifteen sixteen seventeen eighteen nineteen"
    units = small.split()
    tens = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()

    def below_thousand(k: int) -> list[str]:
        out: list[str] = []
        if k >= 100:
            out += [units[k // 100], "hundred"]
            k %= 100
            if k:
                out.append("and")
        if k >= 20:
            out.append(tens[k // 10] + (f"-{units[k % 10]}" if k % 10 else ""))
        elif k:
            out.append(units[k])
        return out

    words = below_thousand(n // 1000) + ["thousand"] if n >= 1000 else []
    return " ".join(words + below_thousand(n % 1000))


@FAST
@given(st.integers(min_value=2, max_value=999_999))
def test_amounts_in_words_round_trip(n: int) -> None:
    assert parse_amount(f"{_spell(n)} dollars") == Money(n * 100)
    found = words_to_int(_spell(n).replace("-", " ").split())
    assert found is not None and found[0] == n


@FAST
@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
    st.integers(min_value=1, max_value=400),
)
def test_in_n_days_is_n_days_after_today(today: date, n: int) -> None:
    assert parse_date(f"in {n} days", today=today) == today + timedelta(days=n)


@FAST
@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)))
def test_relative_dates_land_where_they_should(today: date) -> None:
    friday = parse_date("next friday", today=today)
    assert friday is not None and friday.weekday() == 4
    assert 3 <= (friday - today).days <= 11  # the Friday of next week
    coming = parse_date("friday", today=today)
    assert coming is not None and coming.weekday() == 4 and 1 <= (coming - today).days <= 7
    first = parse_date("on the 1st", today=today)
    assert first is not None and first.day == 1 and 0 <= (first - today).days <= 31
    end = parse_date("end of the month", today=today)
    assert end is not None and (end + timedelta(days=1)).day == 1 and end >= today


@FAST
@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
    st.sampled_from(
        [
            "last month",
            "this month",
            "last week",
            "this year",
            "past 30 days",
            "in October",
            "year to date",
            "last quarter",
            "the last 2 months",
            "last weekend",
        ]
    ),
)
def test_periods_are_ordered_and_have_begun(today: date, text: str) -> None:
    period = parse_period(text, today=today)
    assert period is not None
    start, end = period
    assert start <= end and start <= today
    if text.startswith(("last", "past", "the last", "year")):
        assert end <= today


def test_past_30_days_is_thirty_days_long() -> None:
    period = parse_period("past 30 days", today=TODAY)
    assert period is not None and (period[1] - period[0]).days + 1 == 30


def test_find_amounts_lists_every_amount_in_order() -> None:
    assert find_amounts("pay Tom 50 and Ann €30 on the 1st") == [usd("50"), usd("30", "EUR")]
    assert find_amounts("card ending 4821 at 5pm") == []


def test_find_dates_prefers_the_longer_reading() -> None:
    assert find_dates("on the 3rd of January", today=TODAY) == [(0, d(1, 3, 2027))]


def test_frequency_values_and_categories_are_the_declared_ones() -> None:
    texts = ["monthly", "every two weeks", "each week", "annually", "just once"]
    assert {parse_frequency(t) for t in texts} == set(FREQUENCIES)
    category_rows = [row for row in CASES if row[0] == "category" and row[2] is not None]
    assert {row[2] for row in category_rows} <= set(CATEGORIES)


def test_similarity_needs_short_words_to_be_equal() -> None:
    assert similarity("tom", "tim") == 0.0
    assert similarity("tom", "tom") == 1.0
    assert 0.7 < similarity("starbux", "starbucks") < 1.0


def test_everyday_words_do_not_name_people() -> None:
    # Four-letter words must match exactly (or with two letters swapped): "card" is not "Care".
    people = [("1", "Sunny Day Care"), ("2", "Mary Lark"), ("3", "Bill Jones")]
    for text in ["pay my credit card bill", "mark it as paid", "i will pay the bill"]:
        assert match_payee(text, people) == [], text
    assert refs(match_payee("please pay Bill Jones", people)) == ["3"]
    assert refs(match_payee("send it to mray", people)) == ["2"]


def test_empty_contexts_give_nothing() -> None:
    assert match_payee("pay Tom", []) == []
    assert match_account("savings", []) == []
    assert match_card("my debit card", []) == []
    assert match_merchant("starbucks", []) == []
    assert parse_amount("") is None and parse_date("", today=TODAY) is None


def test_a_share_of_nothing_is_no_amount() -> None:
    assert parse_amount("half of it", available_minor=1) is None
    assert parse_amount("all of it", available_minor=0) is None


def test_money_is_immutable() -> None:
    money = usd("1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        money.amount_minor = 5  # type: ignore[misc]


def test_the_public_api_is_all_exported() -> None:
    for name in slots.__all__:
        assert hasattr(slots, name), name


def test_task_slots_skip_cards_already_lost_and_read_plural_channels() -> None:
    from dataclasses import replace

    from agents.context import Card
    from agents.offline.tasks import Frame, defaults, fill, nothing_to_choose
    from tests.support.chat_kit import CTX

    ctx = replace(
        CTX, cards=(Card("card-debit", "debit", "4821"), Card("card-old", "credit", "9876", "lost"))
    )
    frame = Frame("replace_card")
    fill(frame, "I lost my card", ctx)
    defaults(frame, ctx)
    assert frame.slots["card"] == "card-debit"
    alerts = Frame("set_alerts")
    fill(alerts, "turn off marketing emails", ctx)
    assert alerts.slots == {"channel": "marketing", "enabled": False}  # consent, not e-mail
    mails = Frame("set_alerts")
    fill(mails, "stop all emails please", ctx)
    assert mails.slots == {"channel": "email", "enabled": False}
    none = replace(CTX, cards=(Card("card-old", "credit", "9876", "lost"),), scheduled=())
    assert "don't have a card" in (nothing_to_choose("card", none) or "")
    assert "don't have any scheduled" in (nothing_to_choose("schedule", none) or "")
    assert nothing_to_choose("card", ctx) is None


def test_a_transfer_for_someone_with_one_account_is_explained_not_asked() -> None:
    from dataclasses import replace

    from agents.offline.tasks import Frame, nothing_to_choose
    from tests.support.chat_kit import CTX

    single = replace(CTX, accounts=CTX.accounts[:1])
    frame = Frame("transfer_money", {"from_account": CTX.accounts[0].ref})
    assert "only one account" in (nothing_to_choose("to_account", single, frame) or "")
    assert nothing_to_choose("to_account", CTX, frame) is None
