"""Spending means spending: on the seeded bank, the spending figures match what the generator
booked as spending, and money that only moves, or is a business's, stays out of them."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select
from sqlmodel import SQLModel

from services.reads.profiles import load_profile
from services.reads.records import spending_summary
from services.synth.archetypes import (
    BUSINESS_CATEGORIES,
    MONEY_MOVE_CATEGORIES,
    SPENDING_CATEGORIES,
)
from tests.support.bank_raw import noon, rows, truth

WINDOW_DAYS = 90


def _debits_by_category(
    bank, since: datetime, until: datetime, person: int | None = None
) -> dict[int, dict[str, int]]:
    """What each person paid out per category in ``[since, until)``, straight from the ledger."""
    e = SQLModel.metadata.tables["ledger_entry"]
    query = (
        select(e.c.person_id, e.c.category, func.sum(-e.c.amount_minor))
        .where(e.c.amount_minor < 0, e.c.booked_at >= since, e.c.booked_at < until)
        .group_by(e.c.person_id, e.c.category)
    )
    if person is not None:
        query = query.where(e.c.person_id == person)
    out: dict[int, dict[str, int]] = defaultdict(dict)
    with bank.engine.connect() as conn:
        for who, category, paid in conn.execute(query):
            out[who][category] = int(paid)
    return out


def _summaries(bank):
    end = bank.as_of - timedelta(days=1)
    start = end - timedelta(days=WINDOW_DAYS - 1)
    people = [p for (p,) in rows(bank.engine, "SELECT id FROM person ORDER BY id")]
    with bank.engine.connect() as conn:
        found = {p: spending_summary(conn, person_id=p, start=start, end=end) for p in people}
    since = datetime.combine(start, time.min, tzinfo=UTC)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
    return found, _debits_by_category(bank, since, until)


def test_the_generator_books_only_categories_it_has_classified(bank) -> None:
    booked = {c for (c,) in rows(bank.engine, "SELECT DISTINCT category FROM ledger_entry")}
    groups = [set(SPENDING_CATEGORIES), set(BUSINESS_CATEGORIES), set(MONEY_MOVE_CATEGORIES)]
    assert booked <= set().union(*groups)
    assert sum(len(g) for g in groups) == len(set().union(*groups)), "a category in two groups"


def test_spending_is_what_the_generator_booked_as_spending(bank) -> None:
    summaries, debits = _summaries(bank)
    for person, summary in summaries.items():
        paid = debits.get(person, {})
        expected = {c: v for c, v in paid.items() if c in SPENDING_CATEGORIES}
        assert {r["category"]: int(r["spent"]) for r in summary["by_category"]} == expected
        assert summary["total_minor"] == sum(expected.values())


def test_money_moves_and_business_costs_are_not_spending(bank) -> None:
    summaries, debits = _summaries(bank)
    left_out = set(MONEY_MOVE_CATEGORIES) | set(BUSINESS_CATEGORIES)
    for summary in summaries.values():
        assert not {r["category"] for r in summary["by_category"]} & left_out
    # The bank holds every kind of move in the window, so the check above is not vacuous.
    moved = {c for paid in debits.values() for c in paid if c in left_out}
    assert {"transfer", "transfer_out", "payroll", "supplies"} <= moved
    card_bills = rows(
        bank.engine,
        "SELECT COUNT(*) FROM ledger_entry e JOIN account a ON a.id = e.account_id "
        "WHERE a.type = 'credit_card' AND e.category = 'transfer' AND e.amount_minor > 0",
    )[0][0]
    savings_moves = rows(
        bank.engine,
        "SELECT COUNT(*) FROM ledger_entry e JOIN account a ON a.id = e.account_id "
        "WHERE a.type = 'savings' AND e.category = 'transfer' AND e.amount_minor > 0",
    )[0][0]
    assert card_bills and savings_moves


def test_a_business_owners_payroll_and_suppliers_are_business_outgoings(bank) -> None:
    summaries, debits = _summaries(bank)
    owners = truth(bank.engine, "archetype", "small_business_owner")
    assert owners
    for person in owners:
        paid = debits.get(person, {})
        business = summaries[person]["business_outgoings"]
        expected = {c: v for c, v in paid.items() if c in BUSINESS_CATEGORIES}
        assert {r["category"]: int(r["spent"]) for r in business["by_category"]} == expected
        assert business["total_minor"] == sum(expected.values())
        assert "payroll" in expected and "supplies" in expected
    others = set(summaries) - set(owners)
    assert all(summaries[p]["business_outgoings"]["by_category"] == [] for p in others)


def test_the_profile_counts_the_same_spending(bank) -> None:
    owners = sorted(truth(bank.engine, "archetype", "small_business_owner"))[:3]
    people = [p for (p,) in rows(bank.engine, "SELECT id FROM person ORDER BY id LIMIT 5")]
    now = noon(bank.as_of)
    since = now - timedelta(days=WINDOW_DAYS)
    for person in [*people, *owners]:
        paid = _debits_by_category(bank, since, now + timedelta(days=365), person)[person]
        with bank.engine.connect() as conn:
            profile = load_profile(conn, person_id=person, now=now)
        spending = {c: v for c, v in paid.items() if c in SPENDING_CATEGORIES}
        business = {c: v for c, v in paid.items() if c in BUSINESS_CATEGORIES}
        assert profile.spending_by_category_minor["90d"] == spending
        assert profile.spending_minor["90d"] == sum(spending.values())
        assert profile.business_outgoings_minor["90d"] == business
        assert profile.transfers_out_minor["90d"] == paid.get("transfer_out", 0)


def test_an_insurer_is_insurance_not_a_utility(bank) -> None:
    booked = rows(
        bank.engine,
        "SELECT DISTINCT category FROM ledger_entry WHERE merchant LIKE '%Insurance%'",
    )
    series = rows(
        bank.engine,
        "SELECT DISTINCT category FROM recurring_series WHERE merchant LIKE '%Insurance%'",
    )
    assert booked == [("insurance",)]
    assert series == [("insurance",)]
