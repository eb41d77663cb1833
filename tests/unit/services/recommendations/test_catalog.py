"""The shipped catalogue and the loader's checks: precise errors with file, action and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from services.insights import INSIGHT_TYPES
from services.recommendations.actions import CHANNELS
from services.recommendations.catalog import FOLDER, CatalogError, default_catalog, load_catalog
from services.synth.offers import OFFERS
from tests.support.decision_kit import insight, vector

GOOD = {
    "code": "demo_offer",
    "kind": "product",
    "title": "Demo",
    "value_minor": 1000,
    "eligibility": {"field": "age", "gte": 18},
    "contact": {"channels": ["in_app_card"], "marketing": True},
    "variants": {"in_app_card": {"title": "Hi {first_name}", "body": "Try it."}},
}


def _write(folder: Path, name: str, actions: list[dict] | object) -> None:
    body = {"actions": actions} if isinstance(actions, list) else actions
    (folder / name).write_text(yaml.safe_dump(body, sort_keys=False))


def _problems(folder: Path) -> list[str]:
    with pytest.raises(CatalogError) as caught:
        load_catalog(folder, require_insight_actions=False)
    return caught.value.problems


def _with(**changes: object) -> dict:
    return {**GOOD, **changes}


def test_shipped_catalogue_covers_offers_and_insights() -> None:
    catalog = load_catalog()
    assert len(catalog) >= 25
    codes = set(catalog.by_code)
    assert set(OFFERS) <= codes
    assert set(INSIGHT_TYPES.values()) <= codes
    assert {a.kind for a in catalog} == {"product", "service", "retention", "insight_followup"}
    for insight_type, code in INSIGHT_TYPES.items():
        # A paycheck suggests a savings rule, but only as timing (a context weight): having
        # been paid is no reason on its own; with a rule already, savings_boost follows it up.
        assert insight_type in catalog[code].insights or code == "savings_rule", insight_type
    assert "paycheck_landed" in catalog["savings_boost"].insights
    assert default_catalog() is default_catalog()  # loaded once


def test_every_variant_renders_without_leftover_placeholders() -> None:
    catalog = load_catalog()
    customer = vector(
        savings_growth_6m=1.31,
        cd_maturity_days=12,
        card_spend_annual_minor=3_100_000,
        insights=(insight("duplicate_charge", merchant="Kroger"),),
    )
    values = customer.values()
    for action in catalog:
        assert set(action.contact.channels) <= set(action.variants)
        for channel, variant in action.variants.items():
            assert channel in CHANNELS
            for template in (variant.title, variant.body):
                text = template.render(values, {"message": "Something happened."})
                assert text and "{" not in text and "}" not in text, (action.code, channel)


def test_catalogue_is_package_data_next_to_the_loader() -> None:
    assert sorted(p.name for p in FOLDER.glob("*.yaml")) == [
        "insight_followups.yaml",
        "products.yaml",
        "retention.yaml",
        "services.yaml",
    ]


def test_a_custom_folder_loads(tmp_path: Path) -> None:
    _write(tmp_path, "mine.yaml", [GOOD])
    catalog = load_catalog(tmp_path, require_insight_actions=False)
    assert [a.code for a in catalog] == ["demo_offer"] and "demo_offer" in catalog


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (
            _with(
                applicability={
                    "all": [{"field": "age", "gte": 1}, {"field": "balance.savngs", "gte": 1}]
                }
            ),
            "bad.yaml: action 'demo_offer': applicability: all[1].field: "
            "unknown feature 'balance.savngs'",
        ),
        (_with(eligibility={"field": "age", "gtee": 1}), "eligibility: unknown operator 'gtee'"),
        (_with(kind="upsell"), "action 'demo_offer': kind: Input should be 'product'"),
        (_with(value_minor=-5), "value_minor: Input should be greater than or equal to 0"),
        (_with(code="Bad Code"), "action 'Bad Code': code: String should match pattern"),
        (_with(insights=["lottery_win"]), "insights: unknown insight type 'lottery_win'"),
        (_with(segments=["vip"]), "segments: unknown segment 'vip'"),
        (
            _with(contact={"channels": ["in_app_card", "push"], "marketing": True}),
            "variants: no copy for allowed channel 'push'",
        ),
        (
            _with(variants={"in_app_card": {"title": "Hi {first_name.__class__}", "body": "x"}}),
            "variants.in_app_card.title: unknown field 'first_name.__class__'",
        ),
        (
            _with(variants={"in_app_card": {"title": "Hi {first_name|shout}", "body": "x"}}),
            "unknown filter 'shout'",
        ),
        (
            _with(variants={"in_app_card": {"title": "Hi {0}", "body": "x"}}),
            "malformed placeholder",
        ),
        (_with(surprise=1), "surprise: Extra inputs are not permitted"),
        (
            _with(contact={"channels": ["fax"], "marketing": True}),
            "contact.channels[0]: Input should be",
        ),
        ({k: v for k, v in GOOD.items() if k != "contact"}, "contact: Field required"),
    ],
)
def test_validation_errors_name_file_action_and_field(
    tmp_path: Path, action: dict, expected: str
) -> None:
    _write(tmp_path, "bad.yaml", [action])
    problems = _problems(tmp_path)
    assert any(expected in p for p in problems), problems
    assert all(p.startswith("bad.yaml: ") for p in problems)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", [GOOD, _with(code="second", kind="nope")])
    _write(tmp_path, "b.yaml", [GOOD, _with(code="third", value_minor="lots")])
    problems = _problems(tmp_path)
    assert len(problems) == 3
    assert problems[0].startswith("a.yaml: action 'second': kind: ")
    assert "b.yaml: action 'demo_offer': code: duplicate (also in a.yaml)" in problems
    assert any(p.startswith("b.yaml: action 'third': value_minor: ") for p in problems)


def test_file_level_errors(tmp_path: Path) -> None:
    assert "no *.yaml catalogue files" in _problems(tmp_path)[0]
    (tmp_path / "broken.yaml").write_text("actions: [unclosed\n")
    assert "broken.yaml: not valid YAML" in _problems(tmp_path)[0]
    (tmp_path / "broken.yaml").unlink()
    _write(tmp_path, "flat.yaml", {"offers": []})
    assert _problems(tmp_path) == ["flat.yaml: expected a mapping with an 'actions' list"]


def test_missing_insight_actions_are_reported(tmp_path: Path) -> None:
    _write(tmp_path, "mine.yaml", [GOOD])
    with pytest.raises(CatalogError) as caught:
        load_catalog(tmp_path)
    assert "no action 'dispute_charge' (suggested by 'duplicate_charge')" in str(caught.value)
