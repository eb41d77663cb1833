"""Online learning: posteriors move with responses and change the ranking; the control group."""

from __future__ import annotations

import pytest

from services.recommendations.control import ControlGroup
from services.recommendations.engine import decide
from services.recommendations.learning import OnlineLearner, OnlinePropensity
from services.recommendations.propensity import BasePropensity, SegmentPriors
from tests.support.decision_kit import NOW, action, catalog, vector

RICH = action("rich_offer", value_minor=30_000, base_propensity=0.1)  # 0.1 * 30000 = 3000
MODEST = action("modest_offer", value_minor=20_000, base_propensity=0.1)  # 2000


def test_posterior_moves_with_outcomes_only() -> None:
    learner = OnlineLearner(SegmentPriors(by_action={"rich_offer": 0.1}))
    assert learner.mean("mass_market", RICH) == pytest.approx(0.1)
    for response in ("shown", "clicked"):
        assert learner.observe(segment="mass_market", code="rich_offer", response=response) is False
    assert learner.mean("mass_market", RICH) == pytest.approx(0.1)
    learner.observe(segment="mass_market", code="rich_offer", response="accepted")
    up = learner.mean("mass_market", RICH)
    assert up == pytest.approx((2 + 1) / (20 + 1))
    learner.observe(segment="mass_market", code="rich_offer", response="declined")
    learner.observe(segment="mass_market", code="rich_offer", response="dismissed")
    assert learner.mean("mass_market", RICH) < up
    assert learner.counts() == {("mass_market", "rich_offer"): (1, 2)}
    assert learner.mean("affluent", RICH) == pytest.approx(0.1)  # other segments untouched


def test_learning_changes_the_ranking_without_retraining() -> None:
    learner = OnlineLearner()  # priors: each action's base propensity
    propensity = OnlinePropensity(BasePropensity(), learner)
    offers = catalog(RICH, MODEST)

    def order() -> list[str]:
        found = decide(vector(), catalog=offers, level="behavioral", now=NOW, propensity=propensity)
        return [r.code for r in found]

    assert order() == ["rich_offer", "modest_offer"]
    for _ in range(10):
        learner.observe(segment="mass_market", code="modest_offer", response="accepted")
        learner.observe(segment="mass_market", code="rich_offer", response="declined")
    assert order() == ["modest_offer", "rich_offer"]
    # Another segment has seen nothing and keeps the original order.
    found = decide(
        vector(segment="affluent"),
        catalog=offers,
        level="behavioral",
        now=NOW,
        propensity=propensity,
    )
    assert [r.code for r in found] == ["rich_offer", "modest_offer"]
    assert "propensity:base+online=" in " ".join(found[0].reasons)


def test_online_evidence_scales_a_models_score() -> None:
    class Model:
        name = "model"

        def scores(self, vector, actions, *, level, values=None):
            return [0.3 for _ in actions]

    learner = OnlineLearner(SegmentPriors(by_action={"rich_offer": 0.1}))
    blended = OnlinePropensity(Model(), learner)
    assert blended.scores(vector(), [RICH], level="predictive") == [pytest.approx(0.3)]
    for _ in range(20):
        learner.observe(segment="mass_market", code="rich_offer", response="declined")
    [low] = blended.scores(vector(), [RICH], level="predictive")
    assert low == pytest.approx(0.3 * (2 / 40) / 0.1)


def test_thompson_sampling_explores_but_repeats_for_the_same_vector() -> None:
    learner = OnlineLearner()
    sampler = OnlinePropensity(BasePropensity(), learner, thompson=True)
    first = sampler.scores(vector(), [RICH, MODEST], level="behavioral")
    assert sampler.scores(vector(), [RICH, MODEST], level="behavioral") == first
    draws = {sampler.scores(vector(person_id=p), [RICH], level="behavioral")[0] for p in range(50)}
    assert len(draws) == 50 and all(0 < d < 1 for d in draws)


def test_control_group_is_deterministic_and_sized_right() -> None:
    group = ControlGroup(share=0.05)
    members = [p for p in range(1, 40_001) if group.contains(p)]
    assert 0.045 < len(members) / 40_000 < 0.055
    assert members == [p for p in range(1, 40_001) if ControlGroup(share=0.05).contains(p)]
    other = ControlGroup(share=0.05, salt="another-test")
    assert {p for p in range(1, 40_001) if other.contains(p)} != set(members)
    bigger = ControlGroup(share=0.10)
    assert set(members) <= {p for p in range(1, 40_001) if bigger.contains(p)}  # nested
    assert not any(ControlGroup(share=0.0).contains(p) for p in range(1000))
    assert all(ControlGroup(share=1.0).contains(p) for p in range(1000))
    with pytest.raises(ValueError):
        ControlGroup(share=1.5)


def test_control_without_offers_still_gets_service_messages() -> None:
    service = action("turn_on_alerts", kind="service", contact={"marketing": False})
    held_out = ControlGroup(share=1.0, mode="none")
    found = decide(
        vector(), catalog=catalog(RICH, service), level="predictive", now=NOW, control=held_out
    )
    assert [r.code for r in found] == ["turn_on_alerts"]
    assert "control:none" in found[0].reasons
    treated = decide(
        vector(),
        catalog=catalog(RICH, service),
        level="predictive",
        now=NOW,
        control=ControlGroup(share=0.0),
    )
    assert {r.code for r in treated} == {"rich_offer", "turn_on_alerts"}
