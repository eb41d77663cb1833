"""Every insight type and catalogue action, through every customer surface, reads as a service.

On the seeded bank (where every planted situation shows up, churn signals included), each
customer's insights and offers go through what a customer can read: the dashboard's and the
routes' views, the chat tools' answers and the replies made of them, the chat cards, and the
copy of every customer channel of every action. None may carry a raw reason code, the bank's
vocabulary about the customer, or an amount in a second format; every reason code the engine
gave has words.
"""

from __future__ import annotations

import json

import pytest

from agents.offline.replies import render
from app.api.views import insight_view, recommendation_view, widget_view
from services.insights import INSIGHT_COPY, INSIGHT_TYPES, because, for_customer
from services.insights.detectors import insights_for
from services.reads.dashboard import arrange_dashboard
from services.reads.profiles import load_profile
from services.recommendations.actions import CUSTOMER_CHANNELS
from services.recommendations.catalog import load_catalog
from services.recommendations.engine import LEVELS, decide
from services.recommendations.reasons import (
    FEATURES,
    UnknownReason,
    customer_reasons,
    customer_why,
    explain,
    explain_all,
)
from services.recommendations.rules import Field, Insight, Not, Rule
from services.recommendations.vector import build_vector
from services.wording import findings, json_findings
from tests.support.bank_raw import noon

EVERY = range(1, 301, 2)  # half the seeded bank: every planted situation appears in it


def _leaves(rule: Rule | None) -> list[Rule]:
    """The comparisons of a rule, a negated one as its ``not(...)`` (how the engine names it)."""
    if rule is None:
        return []
    if isinstance(rule, (Field, Insight)):
        return [rule]
    if isinstance(rule, Not):
        return [rule] if isinstance(rule.part, (Field, Insight)) else _leaves(rule.part)
    return [leaf for part in getattr(rule, "parts", ()) for leaf in _leaves(part)]


def test_every_rule_of_the_catalogue_has_words() -> None:
    codes = set()
    for action in load_catalog():
        rules = [action.eligibility, action.applicability, action.suitability]
        for rule in rules + [c.when for c in action.context]:
            for leaf in _leaves(rule):
                named: list[str] = []
                leaf.explain({}, named)  # the code the engine gives when the leaf holds
                codes |= set(named)
    kinds = {c.split(":", 1)[0] for c in codes}
    assert {"feature", "score", "insight"} <= kinds, kinds
    assert any(":not(" in c for c in codes)
    for code in sorted(codes):
        reason = explain(code)  # raises UnknownReason for a code without words
        assert reason.text and "_" not in reason.text and ":" not in reason.text, code


def test_a_code_without_words_is_an_error_and_never_shown() -> None:
    with pytest.raises(UnknownReason):
        explain("feature:flow.brand_new_signal>=3")
    with pytest.raises(UnknownReason):
        explain("insight:not_a_type")
    with pytest.raises(UnknownReason):
        explain_all(["feature:flow.brand_new_signal>=3"], strict=True)
    assert customer_reasons(["feature:flow.brand_new_signal>=3"]) == []
    assert "flow.brand_new_signal" not in FEATURES


def test_insight_reasons_name_the_customers_own_date_and_churn_is_for_staff() -> None:
    assert because("deposit_maturing", {"maturity_date": "2026-12-12"}) == (
        "your CD matures on Dec 12"
    )
    assert because("deposit_maturing") == "your CD matures soon"
    assert explain("insight:churn_risk").audience == "advisor"
    assert customer_reasons(["insight:churn_risk", "score:churn>=0.5", "segment:affluent"]) == []
    why = customer_why(["insight:churn_risk", "feature:tenure_months>=6", "propensity:base=0.05"])
    assert why == "Because you've banked with us for 6 months or more."
    assert {t: c.audience for t, c in INSIGHT_COPY.items()}.keys() == INSIGHT_TYPES.keys()


def test_every_customer_surface_on_the_seeded_bank_reads_as_a_service(bank) -> None:
    catalog = load_catalog()
    now = noon(bank.as_of)
    seen_types: set[str] = set()
    seen_codes: set[str] = set()
    problems: list[str] = []
    with bank.engine.connect() as conn:
        for pid in EVERY:
            found = insights_for(conn, person_id=pid, now=now)
            seen_types |= {i.type for i in found}
            mine = for_customer(found)
            by_type = {i.type: i for i in mine}
            vector = build_vector(conn, person_id=pid, now=now, insights=found)
            values = vector.values()
            surfaces: dict[str, object] = {
                "insights": [insight_view(i).model_dump(mode="json") for i in mine],
                "chat insights": render(
                    "get_insights",
                    {"insights": [{"message": i.message, "type": i.type} for i in mine]},
                ),
            }
            profile = load_profile(conn, person_id=pid, now=now)
            widgets = arrange_dashboard(profile, mine, [])
            surfaces["widgets"] = [widget_view(w, insights=mine).model_dump() for w in widgets]
            for level in LEVELS:
                for channel in sorted(CUSTOMER_CHANNELS):
                    recs = decide(
                        vector, catalog=catalog, level=level, now=now, k=5, channel=channel
                    )
                    seen_codes |= {c for r in recs for c in r.reasons}
                    views = [recommendation_view(r, insights=mine).model_dump() for r in recs]
                    surfaces[f"{level}/{channel}"] = views
                    offers = [
                        {"title": v["title"], "body": v["body"], "why": v["why"]} for v in views
                    ]
                    surfaces[f"{level}/{channel} reply"] = render(
                        "get_recommendations", {"recommendations": offers}
                    )
            for action in catalog:  # every customer channel's copy, filled for this customer
                for channel, variant in action.variants.items():
                    if channel not in CUSTOMER_CHANNELS:
                        continue
                    trigger = next((by_type[t] for t in action.insights if t in by_type), None)
                    fill = {"message": trigger.message, **trigger.data} if trigger else {}
                    copy = [variant.title.render(values, fill), variant.body.render(values, fill)]
                    copy += [variant.cta or ""] + [o.label for o in variant.options]
                    problems += [f"{action.code}/{channel}: {f}" for t in copy for f in findings(t)]
            for name, value in surfaces.items():
                texts = json_findings(value) if not isinstance(value, str) else findings(value)
                problems += [f"customer {pid} {name}: {f}" for f in texts]
            json.dumps(surfaces)  # every surface is JSON the customer's token can read
    assert not problems, problems[:20]
    # the walk met every insight type (the bank-only ones too) and the engine's reason kinds
    assert seen_types == set(INSIGHT_TYPES)
    kinds = {c.split(":", 1)[0] for c in seen_codes}
    assert {"insight", "feature", "level", "propensity", "policy", "segment"} <= kinds, kinds
    for code in seen_codes:
        explain(code)  # every code the engine gave has words


def test_the_scanner_catches_what_customers_must_not_read() -> None:
    assert findings("Why: insight:churn_risk; feature:flow.days_since_income>=35")
    assert findings("Signs this customer may be leaving: salary stopped")
    assert findings("Before you go, Ann: a bonus rate")
    assert findings("You spent 1,488.44 USD on dining")
    assert findings("propensity:base=0.050")
    assert not findings("Because your CD matures on Dec 12. You spent $1,488.44 on dining.")
    assert not findings("Get pre-approved with no effect on your credit score.")
    assert json_findings({"code": "churn_risk", "title": "Thanks"}) == []
    assert json_findings({"why": "Because insight:churn_risk"})
    assert json_findings({"profile": {"segment": "x"}}) == [
        "profile.segment: bank-only key: segment"
    ]
