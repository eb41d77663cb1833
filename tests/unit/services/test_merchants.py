"""The merchant rules: brands and keywords land in the category a customer would expect."""

from __future__ import annotations

import pytest

from services.merchants import category_of


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("State Farm Insurance", "insurance"),
        ("GEICO *AUTO POLICY", "insurance"),
        ("Lemonade Renters", "insurance"),
        ("City Power & Light", "utilities"),
        ("Verizon Wireless", "utilities"),
        ("WHOLE FOODS DEBIT 4821", "groceries"),
        ("Uber Eats", "dining"),
        ("UBER *TRIP", "transport"),
        ("Coffee Corner", "dining"),
        ("Delta Air Lines", "travel"),
        ("Enterprise Rent-A-Car", "travel"),
        ("Greystar Properties", "housing"),
        ("Gusto Payroll", "payroll"),
        ("OVERDRAFT FEE", "fees"),
    ],
)
def test_a_known_merchant_lands_in_its_category(name: str, category: str) -> None:
    assert category_of(name) == category


def test_pay_from_an_employers_payroll_is_income() -> None:
    assert category_of("Acme Corp Payroll", amount_minor=250_000) == "income"
    assert category_of("Acme Corp Payroll", amount_minor=-250_000) == "payroll"


def test_words_inside_other_words_do_not_match() -> None:
    assert category_of("Parenting Weekly") is None  # "rent" inside a word
    assert category_of("Targeted Ads Ltd") is None


def test_the_first_name_that_says_something_wins() -> None:
    assert category_of(None, "", "ZZ UNKNOWN", "Metro Water") == "utilities"
    assert category_of("Kroger", "State Farm") == "groceries"
    assert category_of(None, "ZELLE TO SAM KIM") is None
