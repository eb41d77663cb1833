"""Arbitration: priority = propensity x context weight x value x lever; ties; k; purity."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from copy import deepcopy
from typing import Any

import pytest

from services.recommendations.actions import Action
from services.recommendations.engine import decide
from services.recommendations.vector import FeatureVector
from tests.support.decision_kit import NOW, action, catalog, insight, vector


class Fixed:
    """A propensity that returns given numbers per action code."""

    name = "fixed"

    def __init__(self, **by_code: float) -> None:
        self.by_code = by_code

    def scores(
        self,
        vector: FeatureVector,
        actions: Sequence[Action],
        *,
        level: str,
        values: Mapping[str, Any] | None = None,
    ) -> list[float]:
        return [self.by_code.get(a.code, 0.1) for a in actions]


def _run(*actions: Action, k: int = 3, v: FeatureVector | None = None, **propensity: float):
    return decide(
        v or vector(),
        catalog=catalog(*actions),
        level="behavioral",
        now=NOW,
        k=k,
        propensity=Fixed(**propensity),
    )


def test_priority_is_the_product_of_the_four_terms() -> None:
    a = action("alpha", value_minor=20_000, lever=1.5)
    [rec] = _run(a, alpha=0.2)
    assert rec.priority == pytest.approx(0.2 * 1.0 * 20_000 * 1.5)
    assert (rec.propensity, rec.context_weight, rec.value_minor, rec.lever) == (
        0.2,
        1.0,
        20_000,
        1.5,
    )


def test_order_follows_priority_not_any_single_term() -> None:
    cheap_likely = action("cheap_likely", value_minor=1_000)  # 0.5 * 1000 = 500
    dear_unlikely = action("dear_unlikely", value_minor=100_000)  # 0.01 * 100000 = 1000
    middle = action("middle", value_minor=5_000)  # 0.15 * 5000 = 750
    found = _run(
        cheap_likely, dear_unlikely, middle, cheap_likely=0.5, dear_unlikely=0.01, middle=0.15
    )
    assert [r.code for r in found] == ["dear_unlikely", "middle", "cheap_likely"]


def test_lever_reorders() -> None:
    a, b = action("aaa", value_minor=10_000), action("bbb", value_minor=10_000, lever=2.0)
    assert [r.code for r in _run(a, b, aaa=0.15, bbb=0.1)] == ["bbb", "aaa"]


def test_context_weight_from_rules_and_insight_severity() -> None:
    plain = action("plain", value_minor=10_000)
    timely = action(
        "timely",
        value_minor=10_000,
        insights=["deposit_maturing"],
        context=[{"when": {"field": "cd.maturity_days", "lte": 7}, "weight": 1.5}],
    )
    base = vector(insights=(insight("deposit_maturing", "info"),), cd_maturity_days=20)
    assert [r.code for r in _run(plain, timely, v=base, plain=0.11, timely=0.1)] == [
        "plain",
        "timely",
    ]
    soon = vector(insights=(insight("deposit_maturing", "critical"),), cd_maturity_days=5)
    found = _run(plain, timely, v=soon, plain=0.11, timely=0.1)
    assert [r.code for r in found] == ["timely", "plain"]
    assert found[0].context_weight == pytest.approx(2.0 * 1.5)
    assert "context:insight_critical(x2)" in found[0].reasons
    assert "context:feature:cd.maturity_days<=7(x1.5)" in found[0].reasons


def test_ties_are_broken_by_code_whatever_the_catalogue_order() -> None:
    actions = [action(code) for code in ("zeta", "alpha", "mid")]
    assert [r.code for r in _run(*actions)] == ["alpha", "mid", "zeta"]
    assert [r.code for r in _run(*reversed(actions))] == ["alpha", "mid", "zeta"]


def test_k_limits_and_is_bounded() -> None:
    actions = [action(f"a{i}") for i in range(10)]
    assert len(_run(*actions, k=1)) == 1
    assert len(_run(*actions)) == 3
    assert len(_run(*actions, k=25)) == 10
    for bad in (0, 26):
        with pytest.raises(ValueError, match="k must be"):
            _run(*actions, k=bad)


def test_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown level"):
        decide(vector(), catalog=catalog(action("a1")), level="psychic", now=NOW)


def test_decide_is_pure_and_repeatable() -> None:
    v = vector(insights=(insight("churn_risk"),))
    before = deepcopy(v)
    actions = catalog(*[action(f"a{i}") for i in range(6)])
    for level in ("segment", "behavioral", "predictive", "random"):
        first = decide(v, catalog=actions, level=level, now=NOW)
        assert decide(v, catalog=actions, level=level, now=NOW) == first
    assert v == before


def test_random_level_is_a_fixed_shuffle_per_person_and_day() -> None:
    actions = catalog(*[action(f"a{i:02d}") for i in range(20)])
    orders = {
        tuple(r.code for r in decide(vector(person_id=p), catalog=actions, level="random", now=NOW))
        for p in range(1, 30)
    }
    assert len(orders) > 20  # people get different draws


def test_default_propensity_is_the_catalogue_base_rate() -> None:
    [rec] = decide(
        vector(), catalog=catalog(action("a1", base_propensity=0.3)), level="behavioral", now=NOW
    )
    assert rec.propensity == pytest.approx(0.3)
    assert "propensity:base=0.300" in rec.reasons
