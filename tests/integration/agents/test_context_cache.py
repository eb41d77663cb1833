"""The conversation context kept between turns: reused while nothing changed, never stale after."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from agents.customer import ContextCache, customer_context
from services import banking
from services.insights.cache import InsightCache
from services.synth.writer import seed_bank
from tools.bank import Bank
from tools.refs import parse_ref
from tools.runtime import ChatContext

NOW = datetime(2026, 11, 28, 15, tzinfo=UTC)


@pytest.fixture
def bank(engine) -> Bank:
    seed_bank(engine, customers=4, seed=5, as_of=NOW.date())
    return Bank(engine, insights=InsightCache(), contexts=ContextCache())


def _ctx(bank: Bank, person: int, now: datetime = NOW):
    return customer_context(ChatContext(person_id=person, bank=bank, now=now))


def test_an_unchanged_customer_is_served_from_memory(bank: Bank) -> None:
    first = _ctx(bank, 1)
    again = _ctx(bank, 1, NOW + timedelta(seconds=30))
    assert again == first  # today is the same day; nothing changed
    assert (bank.contexts.hits, bank.contexts.misses) == (1, 1)
    _ctx(bank, 2)  # another customer has their own entry
    assert bank.contexts.misses == 2


def test_a_frozen_card_shows_in_the_very_next_turn(bank: Bank) -> None:
    before = _ctx(bank, 1)
    card = next(c for c in before.cards if c.status == "active")
    with bank.write() as conn:
        banking.freeze_card(
            conn,
            person_id=1,
            card_id=parse_ref(card.ref, "card"),
            idempotency_key="t:1",
            now=NOW,
        )
    after = _ctx(bank, 1)
    assert next(c for c in after.cards if c.ref == card.ref).status == "frozen"
    assert bank.contexts.hits == 0


def test_a_transfer_shows_in_the_balances_of_the_next_turn(bank: Bank) -> None:
    before = _ctx(bank, 1)
    pair = [a for a in before.accounts if a.type in ("checking", "savings")][:2]
    assert len(pair) == 2, "the seeded customer needs two accounts to move money between"
    with bank.write() as conn:
        banking.transfer(
            conn,
            person_id=1,
            from_account_id=parse_ref(pair[0].ref, "acc"),
            to_account_id=parse_ref(pair[1].ref, "acc"),
            amount_minor=1_00,
            currency=pair[0].currency,
            idempotency_key="t:2",
            now=NOW,
        )
    after = {a.ref: a.balance_minor for a in _ctx(bank, 1).accounts}
    assert after[pair[0].ref] == pair[0].balance_minor - 100
    assert after[pair[1].ref] == pair[1].balance_minor + 100


def test_a_change_that_books_nothing_shows_once_the_entry_ages_out(bank: Bank) -> None:
    before = _ctx(bank, 1)
    with bank.write() as conn:  # the core system renames the customer: no booking, no write
        conn.execute(text("UPDATE person SET first_name = 'Renamed' WHERE id = 1"))
    assert _ctx(bank, 1, NOW + timedelta(seconds=10)).first_name == before.first_name
    later = NOW + timedelta(seconds=bank.contexts.max_age_s + 1)
    assert _ctx(bank, 1, later).first_name == "Renamed"


def test_a_new_day_reads_afresh(bank: Bank) -> None:
    late = datetime(2026, 11, 28, 23, 59, 50, tzinfo=UTC)
    _ctx(bank, 1, late)
    tomorrow = _ctx(bank, 1, late + timedelta(seconds=20))
    assert tomorrow.today == (late + timedelta(seconds=20)).date()
    assert bank.contexts.hits == 0


def test_an_erased_customer_with_no_records_is_not_served_from_memory(bank: Bank) -> None:
    with bank.write() as conn:
        conn.execute(
            text(
                "INSERT INTO person (id, full_name, first_name, last_name, country, segment, "
                "is_business, created_at) VALUES (900, 'New Person', 'New', 'Person', 'US', "
                "'retail', false, :at)"
            ),
            {"at": NOW.replace(tzinfo=None)},
        )
    assert _ctx(bank, 900).first_name == "New"  # nothing booked, written or seen yet
    with bank.write() as conn:
        conn.execute(text("DELETE FROM person WHERE id = 900"))
    with pytest.raises(LookupError, match="no longer exists"):
        _ctx(bank, 900, NOW + timedelta(seconds=5))
