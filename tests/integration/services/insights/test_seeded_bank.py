"""Insight detectors on the seeded bank, on both backends: they find the planted situations.

The detectors read each customer's own rows through ``load_history``; only the evaluation reads
the ground truth. Every planted type is asserted on its own (the smallest supports here are
about ten customers, where one miss still leaves 0.9), and on the pooled figures too.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from evals.insights import evaluate_insights
from services.insights import PLANTED_SITUATION
from services.insights.detectors import detect_all, insights_for
from services.insights.history import LOOKBACK_DAYS, History, load_history
from tests.support.bank_raw import as_of, noon, rows

GOAL = 0.9


@pytest.fixture(scope="module")
def report(bank):
    return evaluate_insights(bank.engine, now=noon(as_of(bank.engine)))


@pytest.mark.parametrize("kind", sorted(PLANTED_SITUATION))
def test_each_detector_finds_its_planted_situation(report, kind: str) -> None:
    scores = report[kind]
    assert scores["support"] > 0, f"no customer has {PLANTED_SITUATION[kind]}"
    assert scores["precision"] >= GOAL and scores["recall"] >= GOAL, (kind, scores)


def test_pooled_precision_and_recall(report) -> None:
    twins = [report[k] for k in PLANTED_SITUATION]
    support = sum(s["support"] for s in twins)
    found = sum(round(s["recall"] * s["support"]) for s in twins)
    assert found / support >= GOAL
    # every insight type is scored against a twin now, upcoming bills included
    assert all(report[kind]["precision"] is not None for kind in PLANTED_SITUATION)
    assert report["upcoming_bills"]["fired"] > 0


def _ids(bank, table: str, person: int, when: str = "") -> set[int]:
    sql = f"SELECT id FROM {table} WHERE person_id = :p {when}"
    return {r[0] for r in rows(bank.engine, sql, p=person)}


@pytest.mark.parametrize("person", [1, 57, 150, 299])
def test_load_history_returns_only_that_persons_rows(bank, person: int) -> None:
    now = noon(as_of(bank.engine))
    with bank.engine.connect() as conn:
        history = load_history(conn, person_id=person, now=now)
    assert history.person_id == person and history.entries and history.accounts
    accounts = _ids(bank, "account", person)
    assert {a.id for a in history.accounts} == accounts
    assert all(e.account_id in accounts for e in history.entries)
    assert {e.id for e in history.entries} <= _ids(bank, "ledger_entry", person)
    assert {s.id for s in history.series} == _ids(bank, "recurring_series", person)
    assert {t.id for t in history.transfers} == _ids(bank, "scheduled_transfer", person)
    assert {e.id for e in history.events} <= _ids(bank, "digital_event", person)
    held = {r[0] for r in rows(bank.engine, "SELECT account_id FROM holding")} & accounts
    assert {h.account_id for h in history.holdings} == held
    since = now - timedelta(days=LOOKBACK_DAYS)
    assert all(since <= e.booked_at <= now for e in history.entries)
    assert all(since <= e.occurred_at <= now for e in history.events)
    times = [e.booked_at for e in history.entries]
    assert times == sorted(times) and all(t.tzinfo is not None for t in times)


def test_an_unknown_person_has_an_empty_history(bank) -> None:
    with bank.engine.connect() as conn:
        history = load_history(conn, person_id=10**9, now=noon(as_of(bank.engine)))
    assert history == History(person_id=10**9)


def test_insights_for_loads_and_detects(bank) -> None:
    # A customer planted with situations whose detectors find every one of them in the seeded
    # bank: insights_for must report each, and exactly what the detectors find in the history.
    always_found = {"price_increase", "duplicate_charge", "free_trial_ending", "churn_risk"}
    now = noon(as_of(bank.engine))
    planted: dict[int, set[str]] = {}
    for person, label in rows(
        bank.engine, "SELECT person_id, label FROM ground_truth WHERE kind = 'situation'"
    ):
        kinds = {k for k, v in PLANTED_SITUATION.items() if v == label} & always_found
        planted.setdefault(int(person), set()).update(kinds)
    person, expected = max(planted.items(), key=lambda item: (len(item[1]), -item[0]))
    assert len(expected) >= 2, planted
    with bank.engine.connect() as conn:
        found = insights_for(conn, person_id=person, now=now)
        assert found == detect_all(load_history(conn, person_id=person, now=now), now)
    assert expected <= {i.type for i in found}, (person, expected, found)
    assert all(i.message and i.evidence for i in found if i.type in expected)
