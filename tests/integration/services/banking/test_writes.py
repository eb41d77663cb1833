"""Customer writes: money moves, idempotency, ownership and the audit trail, on both backends.

The world is ``tests.support.bank_world``'s two customers: Maya (a) with accounts of every
state, and Ben (b), whose records Maya must never reach. Refusals are called in a transaction
that commits anyway, so "nothing changed" is the write's own guarantee, not a rollback's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text

from services.banking import (
    DAILY_LIMIT_MINOR,
    IdempotencyConflict,
    NotFound,
    WriteResult,
    cancel_scheduled,
    create_goal,
    create_savings_rule,
    dispute_transaction,
    freeze_card,
    open_handoff,
    pay_card_bill,
    pay_payee,
    replace_card,
    respond_to_offer,
    schedule_payment,
    sent_today,
    set_preference,
    transfer,
    unfreeze_card,
    update_goal,
)
from services.db import create_schema, schema_mismatches
from tests.support.bank_world import (
    MISSING,
    NOW,
    Customer,
    World,
    audits,
    balance,
    build_world,
    refused,
    rows,
    run,
    snapshot,
)


@pytest.fixture
def world(engine: Engine) -> World:
    return build_world(engine)


# --- transfers --------------------------------------------------------------------------------


def test_transfer_moves_money_with_two_matching_ledger_rows(engine: Engine, world: World) -> None:
    a = world.a
    result = run(
        engine,
        transfer,
        person_id=a.person,
        from_account_id=a.everyday,
        to_account_id=a.rainy,
        amount_minor=200_00,
        currency="USD",
    )
    assert result.kind == "transfer" and not result.replayed
    assert result.summary.startswith("Moved $200.00 from Everyday (…4821) to Rainy Day (…1234).")
    assert "$2,250.00" in result.summary and "$1,400.00" in result.summary
    assert (balance(engine, a.everyday), balance(engine, a.rainy)) == (2250_00, 1400_00)
    legs = rows(
        engine,
        "SELECT id, account_id, amount_minor, balance_after_minor, category, "
        "channel, source_ref, description FROM ledger_entry "
        "WHERE source_ref IS NOT NULL ORDER BY id",
    )
    assert [(r.account_id, r.amount_minor, r.balance_after_minor, r.category) for r in legs] == [
        (a.everyday, -200_00, 2250_00, "transfer"),
        (a.rainy, 200_00, 1400_00, "transfer"),
    ]
    assert result.reference and all(result.reference in r.source_ref for r in legs)
    assert all(result.reference in r.description for r in legs)
    assert result.ids == {
        "from_account_id": a.everyday,
        "to_account_id": a.rainy,
        "debit_entry_id": legs[0].id,
        "credit_entry_id": legs[1].id,
    }
    [audit] = audits(engine, a.person)
    assert (audit.action, audit.resource, audit.resource_id, audit.outcome) == (
        "transfer",
        "account",
        str(a.everyday),
        "success",
    )
    assert json.loads(audit.detail)["credit_entry_id"] == legs[1].id
    [stored] = rows(engine, "SELECT kind, request, result FROM write_request")
    assert stored.kind == "transfer"


def test_transfer_refusals_change_nothing(engine: Engine, world: World) -> None:
    a = world.a

    def attempt(**kw: Any) -> str:
        args = (
            dict(
                person_id=a.person,
                from_account_id=a.everyday,
                to_account_id=a.rainy,
                amount_minor=100_00,
                currency="USD",
            )
            | kw
        )
        return str(refused(engine, transfer, **args))

    assert "more than zero" in attempt(amount_minor=0)
    assert "more than zero" in attempt(amount_minor=-5_00)
    assert "more than zero" in attempt(amount_minor=1.5)
    assert "holds USD, not EUR" in attempt(currency="EUR")
    assert "XYZ" in attempt(currency="XYZ")
    assert "isn't enough money" in attempt(amount_minor=2450_01)
    assert "same account" in attempt(to_account_id=a.everyday)
    assert "frozen" in attempt(to_account_id=a.frozen_account)
    assert "frozen" in attempt(from_account_id=a.frozen_account)
    assert "closed" in attempt(to_account_id=a.closed_account)
    assert "not a checking or savings" in attempt(to_account_id=a.loan)
    assert "not a checking or savings" in attempt(to_account_id=a.card_account)
    assert "holds EUR, not USD" in attempt(to_account_id=a.euro)
    assert audits(engine, a.person) == []


def test_the_whole_balance_can_move_but_not_a_cent_more(engine: Engine, world: World) -> None:
    a = world.a
    run(
        engine,
        transfer,
        person_id=a.person,
        from_account_id=a.everyday,
        to_account_id=a.rainy,
        amount_minor=2450_00,
        currency="usd",
    )
    assert balance(engine, a.everyday) == 0
    refused(
        engine,
        transfer,
        person_id=a.person,
        from_account_id=a.everyday,
        to_account_id=a.rainy,
        amount_minor=1,
        currency="USD",
    )


# --- payments ---------------------------------------------------------------------------------


def test_paying_a_person_and_a_biller(engine: Engine, world: World) -> None:
    a = world.a
    to_tom = run(
        engine,
        pay_payee,
        person_id=a.person,
        from_account_id=a.everyday,
        payee_id=a.tom,
        amount_minor=45_00,
        currency="USD",
    )
    assert to_tom.kind == "payment"
    assert to_tom.summary == (
        "Paid $45.00 to Tom Baker from Everyday (…4821). Everyday balance is now $2,405.00."
    )
    to_power = run(
        engine,
        pay_payee,
        person_id=a.person,
        from_account_id=a.rainy,
        payee_id=a.power,
        amount_minor=80_00,
        currency="USD",
    )
    assert (balance(engine, a.everyday), balance(engine, a.rainy)) == (2405_00, 1120_00)
    booked = rows(
        engine,
        "SELECT id, amount_minor, balance_after_minor, category, channel, "
        "merchant, counterparty FROM ledger_entry WHERE source_ref IS NOT NULL "
        "ORDER BY id",
    )
    assert [tuple(r)[1:] for r in booked] == [
        (-45_00, 2405_00, "transfers", "p2p", "Tom Baker", "Tom Baker"),
        (-80_00, 1120_00, "utilities", "ach", "City Power", "City Power"),
    ]
    assert to_power.ids == {
        "from_account_id": a.rainy,
        "payee_id": a.power,
        "debit_entry_id": booked[1].id,
    }
    assert [r.action for r in audits(engine, a.person)] == ["payment", "payment"]


def test_payment_refusals_change_nothing(engine: Engine, world: World) -> None:
    a = world.a

    def attempt(**kw: Any) -> str:
        args = (
            dict(
                person_id=a.person,
                from_account_id=a.everyday,
                payee_id=a.tom,
                amount_minor=10_00,
                currency="USD",
            )
            | kw
        )
        return str(refused(engine, pay_payee, **args))

    assert "more than zero" in attempt(amount_minor=0)
    assert "not EUR" in attempt(currency="EUR")
    assert "isn't enough money" in attempt(amount_minor=5000_00)
    assert "frozen" in attempt(from_account_id=a.frozen_account)
    assert "closed" in attempt(from_account_id=a.closed_account)
    assert "not a checking or savings" in attempt(from_account_id=a.card_account)


def test_paying_the_card_bill(engine: Engine, world: World) -> None:
    a = world.a
    result = run(
        engine,
        pay_card_bill,
        person_id=a.person,
        from_account_id=a.everyday,
        card_account_id=a.card_account,
        amount_minor=120_00,
    )
    assert result.kind == "transfer"
    assert "Still owed on the card: $180.00" in result.summary
    assert (balance(engine, a.everyday), balance(engine, a.card_account)) == (2330_00, -180_00)
    legs = rows(
        engine,
        "SELECT account_id, amount_minor, balance_after_minor FROM ledger_entry "
        "WHERE source_ref IS NOT NULL ORDER BY id",
    )
    assert [tuple(r) for r in legs] == [
        (a.everyday, -120_00, 2330_00),
        (a.card_account, 120_00, -180_00),
    ]

    def attempt(**kw: Any) -> str:
        args = (
            dict(
                person_id=a.person,
                from_account_id=a.everyday,
                card_account_id=a.card_account,
                amount_minor=10_00,
            )
            | kw
        )
        return str(refused(engine, pay_card_bill, **args))

    assert "more than the $180.00 owed" in attempt(amount_minor=180_01)
    assert "more than zero" in attempt(amount_minor=0)
    assert "not a credit card" in attempt(card_account_id=a.rainy)
    assert "not a checking or savings" in attempt(from_account_id=a.loan)
    run(
        engine,
        pay_card_bill,
        person_id=a.person,
        from_account_id=a.rainy,
        card_account_id=a.card_account,
        amount_minor=180_00,
    )
    assert "Nothing is owed" in attempt()


# --- the daily limit --------------------------------------------------------------------------


def test_the_daily_limit_counts_todays_transfers_and_payments(engine: Engine, world: World) -> None:
    a = world.a
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE account SET balance_minor = 50000000 WHERE id = :i"), {"i": a.everyday}
        )
    assert DAILY_LIMIT_MINOR == 10_000_00
    late = NOW.replace(hour=23, minute=59)
    move = dict(
        person_id=a.person, from_account_id=a.everyday, to_account_id=a.rainy, currency="USD"
    )
    run(engine, transfer, amount_minor=6000_00, now=NOW.replace(hour=0, minute=0), **move)
    run(
        engine,
        pay_payee,
        person_id=a.person,
        from_account_id=a.everyday,
        payee_id=a.tom,
        amount_minor=3000_00,
        currency="USD",
    )
    reason = str(refused(engine, transfer, amount_minor=1000_01, now=late, **move))
    assert "daily limit of $10,000.00" in reason and "$1,000.00 more today" in reason
    run(engine, transfer, amount_minor=1000_00, now=late, **move)  # exactly at the limit
    refused(
        engine,
        pay_card_bill,
        person_id=a.person,
        from_account_id=a.everyday,
        card_account_id=a.card_account,
        amount_minor=1,
        now=late,
    )
    with engine.connect() as conn:
        used = sent_today(conn, person_id=a.person, currency="USD", now=late)
    assert used == DAILY_LIMIT_MINOR
    # Money coming in doesn't raise the limit, and tomorrow starts afresh.
    run(engine, transfer, amount_minor=9000_00, now=NOW + timedelta(days=1), **move)
    # Yesterday's limit is not reopened by writing with an earlier clock either.
    refused(engine, transfer, amount_minor=1, now=late, **move)


# --- ownership --------------------------------------------------------------------------------


def _touch_cases(w: World, other: Customer) -> list[tuple[Callable[..., WriteResult], dict]]:
    """Every write Maya might aim at ``other``'s records (or at ids nobody has)."""
    a = w.a
    usd = {"currency": "USD"}
    return [
        (
            transfer,
            dict(from_account_id=other.everyday, to_account_id=a.rainy, amount_minor=1_00, **usd),
        ),
        (
            transfer,
            dict(from_account_id=a.everyday, to_account_id=other.rainy, amount_minor=1_00, **usd),
        ),
        (pay_payee, dict(from_account_id=other.everyday, payee_id=a.tom, amount_minor=1_00, **usd)),
        (pay_payee, dict(from_account_id=a.everyday, payee_id=other.tom, amount_minor=1_00, **usd)),
        (
            pay_card_bill,
            dict(from_account_id=a.everyday, card_account_id=other.card_account, amount_minor=1_00),
        ),
        (
            pay_card_bill,
            dict(from_account_id=other.everyday, card_account_id=a.card_account, amount_minor=1_00),
        ),
        (
            schedule_payment,
            dict(
                from_account_id=other.everyday,
                payee_id=a.tom,
                amount_minor=1_00,
                cadence="once",
                first_date=NOW.date(),
                **usd,
            ),
        ),
        (
            schedule_payment,
            dict(
                from_account_id=a.everyday,
                payee_id=other.tom,
                amount_minor=1_00,
                cadence="once",
                first_date=NOW.date(),
                **usd,
            ),
        ),
        (
            schedule_payment,
            dict(
                from_account_id=a.everyday,
                to_account_id=other.rainy,
                amount_minor=1_00,
                cadence="monthly",
                first_date=NOW.date(),
                **usd,
            ),
        ),
        (
            create_savings_rule,
            dict(from_account_id=a.everyday, to_account_id=other.rainy, amount_minor=1_00, **usd),
        ),
        (cancel_scheduled, dict(scheduled_id=other.monthly)),
        (freeze_card, dict(card_id=other.debit)),
        (unfreeze_card, dict(card_id=other.debit)),
        (replace_card, dict(card_id=other.debit, reason="stolen")),
        (dispute_transaction, dict(ledger_entry_id=other.coffee, reason="not mine")),
        (update_goal, dict(goal_id=other.trip, target_minor=1_00)),
        (create_goal, dict(name="Car", target_minor=1_00, currency="USD", account_id=other.rainy)),
    ]


def test_no_customer_can_touch_anothers_records(engine: Engine, world: World) -> None:
    nobody = Customer(*([MISSING] * 20))
    theirs = _touch_cases(world, world.b)
    missing = _touch_cases(world, nobody)
    for (fn, foreign), (_, absent) in zip(theirs, missing, strict=True):
        err_foreign = refused(engine, fn, NotFound, person_id=world.a.person, **foreign)
        err_absent = refused(engine, fn, NotFound, person_id=world.a.person, **absent)
        assert str(err_foreign) == str(err_absent), fn.__name__
        assert "Ben" not in str(err_foreign) and str(MISSING) not in str(err_absent)
    # Ids the model might garble are simply not found, with the same words.
    bad = refused(engine, freeze_card, NotFound, person_id=world.a.person, card_id="1")
    assert str(bad) == str(
        refused(engine, freeze_card, NotFound, person_id=world.a.person, card_id=MISSING)
    )
    # And the other way round.
    refused(
        engine,
        transfer,
        NotFound,
        person_id=world.b.person,
        from_account_id=world.a.rainy,
        to_account_id=world.b.everyday,
        amount_minor=1_00,
        currency="USD",
    )
    refused(engine, freeze_card, NotFound, person_id=MISSING, card_id=world.a.debit)


# --- idempotency ------------------------------------------------------------------------------


def _one_of_each(w: World) -> list[tuple[Callable[..., WriteResult], dict]]:
    """A successful call of every write, in an order where each one succeeds."""
    a = w.a
    usd = {"currency": "USD"}
    return [
        (
            transfer,
            dict(from_account_id=a.everyday, to_account_id=a.rainy, amount_minor=10_00, **usd),
        ),
        (pay_payee, dict(from_account_id=a.everyday, payee_id=a.tom, amount_minor=10_00, **usd)),
        (
            pay_card_bill,
            dict(from_account_id=a.everyday, card_account_id=a.card_account, amount_minor=10_00),
        ),
        (
            schedule_payment,
            dict(
                from_account_id=a.everyday,
                payee_id=a.power,
                amount_minor=80_00,
                cadence="monthly",
                first_date=date(2026, 3, 10),
                **usd,
            ),
        ),
        (
            create_savings_rule,
            dict(from_account_id=a.everyday, to_account_id=a.rainy, amount_minor=100_00, **usd),
        ),
        (cancel_scheduled, dict(scheduled_id=a.monthly)),
        (freeze_card, dict(card_id=a.debit)),
        (unfreeze_card, dict(card_id=a.credit)),
        (replace_card, dict(card_id=a.debit, reason="lost")),
        (dispute_transaction, dict(ledger_entry_id=a.coffee, reason="charged twice")),
        (create_goal, dict(name="New car", target_minor=8000_00, currency="USD")),
        (update_goal, dict(goal_id=a.trip, target_minor=3500_00)),
        (set_preference, dict(channel="sms", enabled=True)),
        (respond_to_offer, dict(offer_code="high_yield_savings", response="accepted")),
        (open_handoff, dict(summary="Wants a mortgage quote.", reason="mortgage advice")),
    ]


def test_every_write_replays_its_result_and_runs_once(engine: Engine, world: World) -> None:
    person = world.a.person
    for fn, kwargs in _one_of_each(world):
        key = f"key-{fn.__name__}"
        first = run(engine, fn, person_id=person, idempotency_key=key, **kwargs)
        assert first.summary and first.ids and not first.replayed, fn.__name__
        after_first = snapshot(engine)
        again = run(
            engine,
            fn,
            person_id=person,
            idempotency_key=key,
            now=NOW + timedelta(minutes=5),
            **kwargs,
        )
        assert again.replayed and again == WriteResult(**{**first.__dict__, "replayed": True})
        assert snapshot(engine) == after_first, f"{fn.__name__} ran twice"
    kinds = [r.action for r in audits(engine, person)]
    assert kinds == [
        "transfer",
        "payment",
        "transfer",
        "schedule",
        "schedule",
        "schedule_cancel",
        "card_freeze",
        "card_unfreeze",
        "card_replace",
        "dispute",
        "goal",
        "goal",
        "preference",
        "offer_response",
        "handoff",
    ]
    assert len(rows(engine, "SELECT id FROM write_request")) == len(kinds)


def test_a_replay_returns_the_stored_result_even_when_it_could_not_run_now(
    engine: Engine, world: World
) -> None:
    a = world.a
    move = dict(
        person_id=a.person,
        from_account_id=a.everyday,
        to_account_id=a.rainy,
        amount_minor=2000_00,
        currency="USD",
        idempotency_key="retry-me",
    )
    first = run(engine, transfer, **move)
    assert balance(engine, a.everyday) == 450_00  # a second run would be refused
    assert run(engine, transfer, **move).summary == first.summary
    assert balance(engine, a.everyday) == 450_00
    assert len(rows(engine, "SELECT id FROM ledger_entry WHERE source_ref IS NOT NULL")) == 2


def test_a_key_reused_for_a_different_request_is_a_conflict(engine: Engine, world: World) -> None:
    a = world.a
    move = dict(
        person_id=a.person,
        from_account_id=a.everyday,
        to_account_id=a.rainy,
        currency="USD",
        idempotency_key="k1",
    )
    run(engine, transfer, amount_minor=10_00, **move)
    refused(engine, transfer, IdempotencyConflict, amount_minor=11_00, **move)
    refused(
        engine,
        freeze_card,
        IdempotencyConflict,
        person_id=a.person,
        card_id=a.debit,
        idempotency_key="k1",
    )


def test_keys_belong_to_one_customer(engine: Engine, world: World) -> None:
    a, b = world.a, world.b
    mine = run(
        engine,
        transfer,
        person_id=a.person,
        from_account_id=a.everyday,
        to_account_id=a.rainy,
        amount_minor=10_00,
        currency="USD",
        idempotency_key="k",
    )
    # Asking for Maya's exact request under her key gives Ben nothing of hers...
    refused(
        engine,
        transfer,
        NotFound,
        person_id=b.person,
        from_account_id=a.everyday,
        to_account_id=a.rainy,
        amount_minor=10_00,
        currency="USD",
        idempotency_key="k",
    )
    # ...and the same key is his own: it runs his request and never returns Maya's result.
    his = run(
        engine,
        transfer,
        person_id=b.person,
        from_account_id=b.everyday,
        to_account_id=b.rainy,
        amount_minor=10_00,
        currency="USD",
        idempotency_key="k",
    )
    assert not his.replayed and his.ids["from_account_id"] == b.everyday
    assert mine.ids["from_account_id"] == a.everyday
    assert "Main" in his.summary and "Everyday" not in his.summary


def test_a_refused_request_can_be_retried_under_the_same_key(engine: Engine, world: World) -> None:
    a = world.a
    move = dict(
        person_id=a.person,
        from_account_id=a.everyday,
        to_account_id=a.rainy,
        amount_minor=3000_00,
        currency="USD",
        idempotency_key="payday",
    )
    refused(engine, transfer, **move)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE account SET balance_minor = 500000 WHERE id = :i"), {"i": a.everyday}
        )
    assert not run(engine, transfer, **move).replayed


def test_caller_errors_and_unknown_customers(engine: Engine, world: World) -> None:
    a = world.a
    args = dict(person_id=a.person, card_id=a.debit)
    with pytest.raises(ValueError, match="timezone-aware"):
        run(engine, freeze_card, now=datetime(2026, 3, 2, 10), **args)
    with pytest.raises(ValueError, match="idempotency_key"):
        run(engine, freeze_card, idempotency_key="", **args)
    with pytest.raises(ValueError, match="idempotency_key"):
        run(engine, freeze_card, idempotency_key="x" * 101, **args)
    refused(engine, open_handoff, NotFound, person_id=MISSING, summary="s", reason="r")


def test_the_schema_with_the_new_tables_is_accepted_again(engine: Engine, world: World) -> None:
    assert schema_mismatches(engine) == []
    create_schema(engine)  # verifies and re-creates idempotently on a database in use
    run(engine, freeze_card, person_id=world.a.person, card_id=world.a.debit)
