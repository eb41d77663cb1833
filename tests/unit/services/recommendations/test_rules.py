"""The rule language: semantics, reasons, and precise parse errors (no eval anywhere)."""

from __future__ import annotations

import pytest

from services.recommendations.rules import ALWAYS, RuleError, parse_rule, reasons

VALUES = {
    "age": 35,
    "segment": "mass_market",
    "has.investment": False,
    "has.savings": True,
    "balance.savings_minor": 1_500_000,
    "savings.apy_bps": None,
    "insight.churn_risk": "warning",
    "spend_share.travel": 0.12,
}


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"field": "age", "gte": 35}, True),
        ({"field": "age", "gt": 35}, False),
        ({"field": "age", "lt": 36}, True),
        ({"field": "age", "lte": 34}, False),
        ({"field": "segment", "eq": "mass_market"}, True),
        ({"field": "segment", "ne": "mass_market"}, False),
        ({"field": "segment", "in": ["affluent", "mass_market"]}, True),
        ({"field": "segment", "not_in": ["affluent", "mass_market"]}, False),
        ({"field": "has.investment", "is": False}, True),
        ({"field": "has.savings", "is": False}, False),
        ({"field": "savings.apy_bps", "exists": False}, True),
        ({"field": "savings.apy_bps", "lt": 300}, False),  # missing: every comparison is false
        ({"field": "savings.apy_bps", "ne": 300}, False),
        ({"insight": "churn_risk"}, True),
        ({"insight": "home_buying"}, False),
        ({"not": {"insight": "home_buying"}}, True),
        ({"all": [{"field": "age", "gte": 18}, {"field": "has.savings", "is": True}]}, True),
        ({"all": [{"field": "age", "gte": 18}, {"field": "has.savings", "is": False}]}, False),
        ({"any": [{"field": "age", "gte": 90}, {"insight": "churn_risk"}]}, True),
        ({"any": [{"field": "age", "gte": 90}, {"insight": "home_buying"}]}, False),
        ({"field": "spend_share.groceries", "gte": 0.1}, False),  # a share not in the top
    ],
)
def test_rule_semantics(rule: dict, expected: bool) -> None:
    assert parse_rule(rule).test(VALUES) is expected


def test_booleans_are_not_numbers() -> None:
    # `is: 1` must not match True, nor `gte: 0` a boolean field.
    assert not parse_rule({"field": "has.savings", "eq": 1}).test(VALUES)
    assert not parse_rule({"field": "has.savings", "gte": 0}).test(VALUES)


def test_no_rule_is_always_true() -> None:
    assert parse_rule(None) is ALWAYS
    assert ALWAYS.test({}) and reasons(ALWAYS, {}) == []


def test_reasons_name_the_leaves_that_held() -> None:
    rule = parse_rule(
        {
            "all": [
                {"field": "has.investment", "is": False},
                {"field": "balance.savings_minor", "gte": 1_000_000},
                {"any": [{"insight": "churn_risk"}, {"field": "age", "gt": 90}]},
                {"not": {"insight": "home_buying"}},
            ]
        }
    )
    assert rule.test(VALUES)
    assert reasons(rule, VALUES) == [
        "feature:has.investment=false",
        "feature:balance.savings_minor>=1000000",
        "insight:churn_risk",  # the false branch of the `any` gives no reason
        "insight:not(home_buying)",
    ]


def test_score_fields_give_score_reasons() -> None:
    rule = parse_rule({"field": "score.churn", "gte": 0.5})
    assert reasons(rule, {"score.churn": 0.8}) == ["score:churn>=0.5"]
    assert not rule.test({})  # no score (not the predictive level): false


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            {"field": "balance.savngs_minor", "gte": 1},
            "rule.field: unknown feature 'balance.savngs_minor'",
        ),
        ({"field": "age", "gtee": 1}, "rule: unknown operator 'gtee'"),
        ({"field": "age", "gte": 1, "lt": 5}, "rule: a field test needs exactly one operator"),
        ({"field": "age"}, "rule: a field test needs exactly one operator"),
        ({"field": "age", "gte": "18"}, "rule.gte: expected a number"),
        ({"field": "age", "gte": True}, "rule.gte: expected a number"),
        ({"field": "segment", "in": "affluent"}, "rule.in: expected a non-empty list"),
        ({"field": "age", "exists": "yes"}, "rule.exists: expected true or false"),
        ({"all": []}, "rule.all: expected a non-empty list"),
        ({"all": [{"field": "age", "gte": 1}], "any": []}, "rule: 'all' takes no sibling keys"),
        (
            {"any": [{"field": "age", "gte": 1}, {"insight": "lottery_win"}]},
            "rule.any[1].insight: unknown insight type 'lottery_win'",
        ),
        ({"not": {"all": [{"field": "nope", "is": 1}]}}, "rule.not.all[0].field: unknown feature"),
        ({"lambda": "x"}, "rule: expected one of all/any/not/insight/field"),
        ("__import__('os').system('true')", "rule: a rule is a mapping"),
        ({"field": "__class__", "exists": True}, "unknown feature '__class__'"),
    ],
)
def test_parse_errors_say_where(rule: object, message: str) -> None:
    with pytest.raises(RuleError) as caught:
        parse_rule(rule, "rule")
    assert message in str(caught.value)


def test_operators_never_raise_on_odd_values() -> None:
    odd = {"age": "35", "segment": 3, "first_name": None}
    assert not parse_rule({"field": "age", "gte": 18}).test(odd)  # text is not a number
    assert not parse_rule({"field": "segment", "contains": "a"}).test(odd)  # nor a number text
    assert parse_rule({"field": "first_name", "exists": False}).test(odd)
    assert parse_rule({"field": "spend.top_category", "contains": "care"}).test(
        {"spend.top_category": "personal_care"}
    )
