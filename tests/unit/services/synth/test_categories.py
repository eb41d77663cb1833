"""The generator's category tables: every merchant and bill books under what it truly is."""

from __future__ import annotations

from datetime import date

from services.spending import is_business_outgoing, is_spending
from services.synth.archetypes import (
    BILL_CATEGORY,
    BUSINESS_CATEGORIES,
    MERCHANTS,
    MONEY_MOVE_CATEGORIES,
    SPENDING_CATEGORIES,
    UTILITIES,
)
from services.synth.customer import generate_customer

AS_OF = date(2026, 3, 2)


def test_an_insurer_is_insurance_and_the_other_bills_are_utilities() -> None:
    by_merchant = {merchant: BILL_CATEGORY[kind] for merchant, kind, _ in UTILITIES}
    assert by_merchant["State Farm Insurance"] == "insurance"
    assert by_merchant["City Power & Light"] == "utilities"
    assert by_merchant["Verizon Wireless"] == "utilities"


def test_the_generator_classifies_each_category_once() -> None:
    groups = (SPENDING_CATEGORIES, BUSINESS_CATEGORIES, MONEY_MOVE_CATEGORIES)
    named = [c for group in groups for c in group]
    assert len(named) == len(set(named))
    assert set(MERCHANTS) | set(BILL_CATEGORY.values()) <= set(SPENDING_CATEGORIES)


def test_the_bank_definition_agrees_with_the_generator_on_personal_accounts() -> None:
    for category in SPENDING_CATEGORIES:
        assert is_spending(category, -100, "checking"), category
    for category in BUSINESS_CATEGORIES:
        assert is_business_outgoing(category, -100, "business_checking"), category
        assert not is_spending(category, -100, "business_checking"), category
    for category in MONEY_MOVE_CATEGORIES:
        assert not is_spending(category, -100, "checking"), category
        assert not is_business_outgoing(category, -100, "business_checking"), category


def test_generated_bills_book_an_insurer_under_insurance() -> None:
    seen: dict[str, set[str]] = {}
    for index in range(40):
        bundle = generate_customer(7, index, AS_OF)
        for entry in bundle.entries:
            if entry.merchant and entry.description.endswith(" INSURANCE"):
                seen.setdefault(entry.merchant, set()).add(entry.category)
        for series in bundle.series:
            if series["merchant"] == "State Farm Insurance":
                assert series["category"] == "insurance"
    assert seen == {"State Farm Insurance": {"insurance"}}
