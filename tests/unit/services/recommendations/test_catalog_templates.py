"""Copy templates: a tiny, safe language over vector fields and the triggering insight."""

from __future__ import annotations

import pytest

from services.recommendations.template import TemplateError, money, parse_template

VALUES = {
    "first_name": "Maya",
    "balance.savings_minor": 1_234_567,
    "savings.growth_6m": 1.31,
    "savings.rate": 0.125,
    "cd.maturity_days": 1,
    "spend.top_category": "personal_care",
    "flow.bills_due_5d_minor": 0,
    "portfolio.risk_tolerance": None,
}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{first_name}, hi", "Maya, hi"),
        ("{balance.savings_minor|money}", "$12,346"),
        ("grew {savings.growth_6m|growth}", "grew 31%"),
        ("you save {savings.rate|pct}", "you save 12%"),
        ("in {cd.maturity_days|days}", "in 1 day"),
        ("{spend.top_category|title}", "Personal Care"),
        ("{portfolio.risk_tolerance?your chosen} plan", "your chosen plan"),
        ("bills of {flow.bills_due_5d_minor|money?some size}", "bills of some size"),
        ("bills of {flow.bills_due_5d_minor|money}", "bills of $0.00"),
        ("{trigger.merchant?a shop} charged twice", "Kroger charged twice"),
        ("{trigger.missing} tidy   spaces", "tidy spaces"),
    ],
)
def test_render(source: str, expected: str) -> None:
    assert parse_template(source).render(VALUES, {"merchant": "Kroger"}) == expected


def test_money_formats() -> None:
    assert money(420) == "$4.20"
    assert money(-1_234_500) == "-$12,345"
    assert money(500, "EUR") == "€5.00"
    assert money(123_456, "JPY") == "¥123,456"
    assert money(1000, "XYZ") == "XYZ\u00a010.00"  # a currency without a symbol: its code first


@pytest.mark.parametrize(
    "source",
    [
        "{first_name.__class__}",
        "{nope}",
        "{first_name|upper}",
        "{0}",
        "{first_name",
        "oops}",
        "{balance.savings_minor[0]}",
        "{trigger.}",
    ],
)
def test_unsafe_or_unknown_placeholders_are_rejected(source: str) -> None:
    with pytest.raises(TemplateError):
        parse_template(source)
