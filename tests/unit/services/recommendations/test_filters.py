"""Each filter on its own: eligibility, applicability (per level), suitability."""

from __future__ import annotations

from services.recommendations.engine import decide
from tests.support.decision_kit import NOW, action, catalog, insight, vector

INVEST = action(
    "investment_account",
    eligibility={"field": "has.investment", "is": False},
    applicability={"field": "balance.savings_minor", "gte": 1_000_000},
    suitability={"field": "balance.checking_minor", "gte": 0},
    segments=["affluent"],
)


def _codes(v, level: str = "behavioral", *actions) -> list[str]:
    found = decide(v, catalog=catalog(*(actions or (INVEST,))), level=level, now=NOW, k=5)
    return [r.code for r in found]


def test_eligibility_alone() -> None:
    assert _codes(vector()) == ["investment_account"]
    assert _codes(vector(products=("checking", "savings", "investment"))) == []
    # Eligibility holds at every level, the random baseline included.
    for level in ("segment", "random", "predictive"):
        held = vector(segment="affluent", products=("checking", "investment"))
        assert _codes(held, level) == []


def test_applicability_alone() -> None:
    assert _codes(vector(savings_minor=999_999)) == []
    assert _codes(vector(savings_minor=1_000_000)) == ["investment_account"]


def test_an_insight_makes_an_action_applicable() -> None:
    cd = action(
        "cd_renewal",
        insights=["deposit_maturing"],
        applicability={"field": "cd.maturity_days", "lte": 30},
    )
    assert _codes(vector(), "behavioral", cd) == []
    assert _codes(vector(cd_maturity_days=20), "behavioral", cd) == ["cd_renewal"]
    found = vector(insights=(insight("deposit_maturing"),))
    assert _codes(found, "behavioral", cd) == ["cd_renewal"]


def test_insight_only_action_needs_its_insight() -> None:
    dispute = action("dispute_charge", kind="insight_followup", insights=["duplicate_charge"])
    assert _codes(vector(), "behavioral", dispute) == []
    assert _codes(vector(insights=(insight("duplicate_charge"),)), "behavioral", dispute) == [
        "dispute_charge"
    ]


def test_suitability_alone() -> None:
    overdrawn = vector(checking_minor=-5_000)  # eligible and applicable, but not suitable
    assert _codes(overdrawn) == []
    assert _codes(overdrawn, "random") == []


def test_segment_level_uses_segment_targeting_not_behaviour() -> None:
    small_saver = vector(segment="affluent", savings_minor=10)
    assert _codes(small_saver, "segment") == ["investment_account"]  # marketed to affluent
    assert _codes(small_saver, "behavioral") == []
    assert _codes(vector(segment="mass_market"), "segment") == []


def test_random_level_ignores_applicability() -> None:
    assert _codes(vector(savings_minor=10), "random") == ["investment_account"]


def test_model_scores_are_for_the_predictive_level_only() -> None:
    retention = action("loyalty_bonus", applicability={"field": "score.churn", "gte": 0.5})
    churner = vector(scores={"churn": 0.8})
    assert _codes(churner, "predictive", retention) == ["loyalty_bonus"]
    assert _codes(churner, "behavioral", retention) == []
    assert _codes(vector(scores={"churn": 0.2}), "predictive", retention) == []
