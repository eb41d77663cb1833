"""Every recommendation says why: the level, the features and insights, weights and policy."""

from __future__ import annotations

from services.recommendations.catalog import load_catalog
from services.recommendations.control import ControlGroup
from services.recommendations.engine import LEVELS, decide
from tests.support.decision_kit import NOW, action, catalog, insight, vector

INVEST = action(
    "investment_account",
    eligibility={"field": "has.investment", "is": False},
    applicability={
        "all": [
            {"field": "balance.savings_minor", "gte": 1_000_000},
            {"field": "savings.growth_6m", "gte": 1.25},
        ]
    },
    suitability={"not": {"insight": "low_balance_forecast"}},
    segments=["mass_market"],
    variants={
        "in_app_card": {
            "title": "Your savings grew {savings.growth_6m|growth}",
            "body": "{first_name}, {balance.savings_minor|money} could work harder.",
        },
        "push": {"title": "Hi", "body": "Hi"},
    },
)


def test_behavioural_reasons_name_features_and_policy() -> None:
    [rec] = decide(
        vector(savings_growth_6m=1.4), catalog=catalog(INVEST), level="behavioral", now=NOW
    )
    assert rec.reasons[0] == "level:behavioral"
    for reason in (
        "feature:balance.savings_minor>=1000000",
        "feature:savings.growth_6m>=1.25",
        "feature:has.investment=false",
        "insight:not(low_balance_forecast)",
        "propensity:base=0.050",
        "policy:consent_ok",
        "policy:frequency_ok(0/2)",
    ):
        assert reason in rec.reasons
    assert (rec.title, rec.body) == ("Your savings grew 40%", "Maya, $12,000 could work harder.")


def test_insight_reasons_and_copy_from_the_insight() -> None:
    dispute = action(
        "dispute_charge",
        kind="insight_followup",
        insights=["duplicate_charge"],
        contact={"marketing": False},
        variants={
            "in_app_card": {
                "title": "Charged twice at {trigger.merchant?a shop}?",
                "body": "{trigger.message}",
            },
            "push": {"title": "x", "body": "y"},
        },
    )
    customer = vector(insights=(insight("duplicate_charge", "critical", merchant="Kroger"),))
    [rec] = decide(customer, catalog=catalog(dispute), level="behavioral", now=NOW)
    assert rec.insight == "duplicate_charge"
    assert "insight:duplicate_charge" in rec.reasons
    assert "context:insight_critical(x2)" in rec.reasons
    assert rec.title == "Charged twice at Kroger?" and rec.body == "duplicate_charge message."


def test_segment_and_random_levels_say_so() -> None:
    [seg] = decide(vector(), catalog=catalog(INVEST), level="segment", now=NOW)
    assert seg.reasons[:2] == ("level:segment", "segment:mass_market")
    [rnd] = decide(vector(), catalog=catalog(INVEST), level="random", now=NOW)
    assert rnd.reasons[:2] == ("level:random", "random:draw")


def test_control_group_members_are_marked() -> None:
    everyone = ControlGroup(share=1.0)
    [rec] = decide(
        vector(savings_minor=10),
        catalog=catalog(INVEST),
        level="predictive",
        now=NOW,
        control=everyone,
    )
    assert rec.level == "random" and "control:random" in rec.reasons


def test_shipped_catalogue_gives_reasons_at_every_level() -> None:
    shipped = load_catalog()
    customer = vector(
        segment="affluent",
        savings_minor=3_000_000,
        savings_apy_bps=150,
        savings_growth_6m=1.3,
        cd_maturity_days=9,
        products=("checking", "savings", "term_deposit", "credit_card"),
        card_spend_annual_minor=4_000_000,
        insights=(insight("deposit_maturing"),),
        scores={"churn": 0.1, "home_buying": 0.05},
    )
    for level in LEVELS:
        found = decide(customer, catalog=shipped, level=level, now=NOW)
        assert 1 <= len(found) <= 3, level
        for rec in found:
            assert rec.reasons[0] == f"level:{level}"
            assert any(r.startswith("policy:") for r in rec.reasons)
            assert rec.title and rec.body and "{" not in rec.body
    behavioural = {r.code for r in decide(customer, catalog=shipped, level="behavioral", now=NOW)}
    assert "cd_renewal" in behavioural and "high_yield_savings" in behavioural
