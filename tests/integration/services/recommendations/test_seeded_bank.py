"""Feature vectors, decisions and models on the seeded bank (both backends)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from services.insights import Insight
from services.reads.profiles import ProfileNotFound, load_profile
from services.recommendations.catalog import load_catalog
from services.recommendations.engine import LEVELS, decide
from services.recommendations.propensity import PropensityModel
from services.recommendations.risk import RiskModels, churn_labels, home_buying_labels
from services.recommendations.trainer import train_all
from services.recommendations.vector import build_vector, from_bytes, to_bytes
from services.synth.offers import OFFERS
from tests.support.bank_raw import noon, rows, truth

SAMPLE = (1, 2, 57, 123, 300)


@pytest.fixture(scope="module")
def trained(bank, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"models-{bank.backend}")
    now = noon(bank.as_of)
    with bank.engine.connect() as conn:
        result = train_all(conn, now=now, catalog=load_catalog(), folder=folder)
        labels = {
            "churn": churn_labels(conn, now=now),
            "home_buying": home_buying_labels(conn, now=now),
        }
    return folder, labels, result


@pytest.fixture(scope="module")
def vectors(trained):
    return trained[2].vectors


@pytest.mark.parametrize("person_id", SAMPLE)
def test_vector_agrees_with_the_profile_and_raw_tables(bank, vectors, person_id: int) -> None:
    v = vectors[person_id]
    with bank.engine.connect() as conn:
        profile = load_profile(conn, person_id=person_id, now=noon(bank.as_of))
    assert v.segment == profile.segment and v.deposits_minor == profile.deposit_balance_minor
    assert v.income_90d_minor == profile.income_minor["90d"]
    [(first,)] = rows(bank.engine, "SELECT first_name FROM person WHERE id = :p", p=person_id)
    assert v.first_name == first
    held = rows(
        bank.engine,
        "SELECT DISTINCT type FROM account WHERE person_id = :p AND status = 'open'",
        p=person_id,
    )
    assert set(v.products) == {t for (t,) in held}
    savings = rows(
        bank.engine,
        "SELECT COALESCE(SUM(balance_minor), 0) FROM account WHERE "
        "person_id = :p AND type = 'savings'",
        p=person_id,
    )[0][0]
    assert v.savings_minor == savings
    shown = rows(
        bank.engine,
        "SELECT offer_code, shown_at FROM offer_event WHERE person_id = :p",
        p=person_id,
    )
    month_ago = noon(bank.as_of) - timedelta(days=30)
    recent = Counter(code for code, at in shown if _utc(at) >= month_ago)
    assert {c: s.shown_30d for c, s in v.offers.items() if s.shown_30d} == dict(recent)
    assert set(v.channels) <= {"push", "email", "sms", "in_app"}


def _utc(value):
    from tests.support.bank_raw import utc

    return utc(value)


def test_every_vector_round_trips_in_under_4_kb(vectors) -> None:
    sizes = []
    for v in vectors.values():
        data = to_bytes(v)
        sizes.append(len(data))
        assert from_bytes(data) == v
    assert max(sizes) <= 4096
    with pytest.raises(ValueError):
        from_bytes(b"[99]")


def test_vectors_carry_trimmed_insights(bank) -> None:
    found = Insight(
        type="duplicate_charge",
        severity="warning",
        message="You were charged twice at Kroger. " * 20,
        suggested_action="dispute_charge",
        evidence=("ledger:1", "ledger:2"),
        data={"merchant": "Kroger", "amount_minor": 4210, "entries": [1, 2]},
    )
    with bank.engine.connect() as conn:
        v = build_vector(conn, person_id=1, now=noon(bank.as_of), insights=[found])
    [brief] = v.insights
    assert brief.data == {"merchant": "Kroger", "amount_minor": 4210}
    assert len(brief.message) <= 200 and v.values()["insight.duplicate_charge"] == "warning"
    assert len(to_bytes(v)) <= 4096


def test_unknown_person(bank) -> None:
    with bank.engine.connect() as conn, pytest.raises(ProfileNotFound):
        build_vector(conn, person_id=10**9, now=noon(bank.as_of))


def test_decisions_on_real_vectors_at_every_level(bank, vectors, trained) -> None:
    catalog = load_catalog()
    model = PropensityModel.load(trained[0])
    risk = RiskModels.load(trained[0])
    now = noon(bank.as_of)
    for person_id in SAMPLE:
        v = vectors[person_id]
        v.scores = risk.score(v)
        for level in LEVELS:
            found = decide(v, catalog=catalog, level=level, now=now, propensity=model)
            assert len(found) <= 3
            for rec in found:
                assert rec.reasons[0] == f"level:{level}" and len(rec.reasons) >= 3
                assert rec.code in catalog and rec.title and rec.body
    levels_with_results = {
        level
        for level in LEVELS
        for v in vectors.values()
        if decide(v, catalog=catalog, level=level, now=now, propensity=model)
    }
    assert levels_with_results == set(LEVELS)


def test_levels_differ_in_how_well_they_find_real_needs(bank, vectors, trained) -> None:
    # An evaluation in miniature (tests may read the ground truth; decisions never do).
    catalog = load_catalog()
    model, risk = PropensityModel.load(trained[0]), RiskModels.load(trained[0])
    needs: dict[int, set[str]] = {}
    for person_id, label in rows(
        bank.engine, "SELECT person_id, label FROM ground_truth WHERE kind = 'need'"
    ):
        needs.setdefault(person_id, set()).add(label)
    offers = [a for a in catalog if a.code in OFFERS]
    from services.recommendations.actions import Catalog

    sub = Catalog(offers)
    precision = {}
    for level in LEVELS:
        hits = shown = 0
        for person_id, v in vectors.items():
            v.scores = risk.score(v)
            found = decide(
                v,
                catalog=sub,
                level=level,
                now=noon(bank.as_of),
                propensity=model,
                apply_policy=False,
            )
            shown += len(found)
            hits += sum(r.code in needs.get(person_id, set()) for r in found)
        precision[level] = hits / shown
    assert precision["predictive"] > 0.8 and precision["behavioral"] > 0.8
    assert precision["predictive"] > precision["segment"] > precision["random"]


def test_models_save_and_load_as_plain_arrays(trained, vectors) -> None:
    folder: Path = trained[0]
    assert sorted(p.name for p in folder.iterdir()) == [
        "propensity.json",
        "propensity.npz",
        "risk.json",
        "risk.npz",
    ]
    with np.load(folder / "propensity.npz", allow_pickle=False) as arrays:
        assert set(arrays.files) == {"mean", "scale", "coef", "intercept", "flag_coef"}
    model = PropensityModel.load(folder)
    original = trained[2].propensity  # the model as trained, never saved
    catalog = list(load_catalog())
    people = sorted(vectors)[:25]
    for level in ("predictive", "behavioral", "segment"):
        for person in people:
            loaded = model.scores(vectors[person], catalog, level=level)
            assert loaded == pytest.approx(
                original.scores(vectors[person], catalog, level=level), abs=1e-12
            ), (level, person)
    scores = model.scores(vectors[people[0]], catalog, level="predictive")
    assert all(0 < s < 1 for s in scores)
    assert len({round(s, 6) for s in scores}) > 1  # scores, not one constant
    assert model.scores(vectors[people[0]], catalog, level="segment") == [
        a.base_propensity for a in catalog
    ]


def test_risk_labels_from_raw_behaviour_find_the_planted_people(bank, vectors, trained) -> None:
    _, labels, _ = trained
    risk = RiskModels.load(trained[0])
    for label, situation in (("churn", "churn_risk"), ("home_buying", "home_buying")):
        planted = set(truth(bank.engine, "situation", situation))
        flagged = {p for p, yes in labels[label].items() if yes}
        assert planted and len(flagged & planted) >= 0.9 * len(planted)
        assert len(flagged - planted) <= 0.1 * len(planted) + 1
        scored = {p: risk.score(vectors[p])[label] for p in vectors}
        inside = np.mean([scored[p] for p in planted])
        outside = np.mean([s for p, s in scored.items() if p not in planted])
        assert inside > 0.5 > outside
