"""Customer writes that move no money now: schedules, cards, disputes, goals, preferences,
offers and advisor cases. The world and helpers are ``tests.support.bank_world``'s.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from services.banking import (
    NotFound,
    Refused,
    cancel_scheduled,
    create_goal,
    create_savings_rule,
    dispute_transaction,
    freeze_card,
    open_handoff,
    replace_card,
    respond_to_offer,
    schedule_payment,
    set_preference,
    unfreeze_card,
    update_goal,
)
from tests.support.bank_world import (
    NOW,
    World,
    audits,
    build_world,
    refused,
    rows,
    run,
)


@pytest.fixture
def world(engine: Engine) -> World:
    return build_world(engine)


TODAY = NOW.date()


def _scheduled(engine: Engine, scheduled_id: int) -> Any:
    [row] = rows(engine, "SELECT * FROM scheduled_transfer WHERE id = :i", i=scheduled_id)
    return row


# --- scheduled payments and savings rules -----------------------------------------------------


def test_scheduling_payments_once_and_repeating(engine: Engine, world: World) -> None:
    a = world.a
    once = run(
        engine,
        schedule_payment,
        person_id=a.person,
        from_account_id=a.everyday,
        payee_id=a.tom,
        amount_minor=60_00,
        currency="USD",
        cadence="once",
        first_date=date(2026, 3, 5),
    )
    assert once.kind == "schedule"
    assert once.summary == (
        "Scheduled a payment: $60.00 from Everyday (…4821) to Tom Baker on Mar 5, 2026."
    )
    row = _scheduled(engine, once.ids["scheduled_id"])
    assert (
        row.kind,
        row.cadence,
        row.payee_id,
        row.to_account_id,
        row.amount_minor,
        row.active,
    ) == ("one_off", None, a.tom, None, 60_00, True)
    assert str(row.next_date) == "2026-03-05"
    monthly = run(
        engine,
        schedule_payment,
        person_id=a.person,
        from_account_id=a.everyday,
        to_account_id=a.card_account,
        amount_minor=200_00,
        currency="USD",
        cadence="monthly",
        first_date=TODAY,
    )
    assert "every month from Mar 2, 2026" in monthly.summary
    assert _scheduled(engine, monthly.ids["scheduled_id"]).kind == "recurring"
    payday = run(
        engine,
        schedule_payment,
        person_id=a.person,
        from_account_id=a.everyday,
        payee_id=a.power,
        amount_minor=80_00,
        currency="USD",
        cadence="payday",
        first_date=None,
    )
    assert "every payday from Mar 5, 2026" in payday.summary  # the salary's next date
    assert [r.action for r in audits(engine, a.person)] == ["schedule"] * 3
    # Nothing was booked: money moves when the schedule runs.
    assert rows(engine, "SELECT id FROM ledger_entry WHERE source_ref IS NOT NULL") == []


def test_schedule_refusals_change_nothing(engine: Engine, world: World) -> None:
    a, b = world.a, world.b

    def attempt(**kw: Any) -> str:
        args = (
            dict(
                person_id=a.person,
                from_account_id=a.everyday,
                payee_id=a.tom,
                amount_minor=10_00,
                currency="USD",
                cadence="monthly",
                first_date=TODAY,
            )
            | kw
        )
        return str(refused(engine, schedule_payment, **args))

    assert "more than zero" in attempt(amount_minor=0)
    assert "not EUR" in attempt(currency="EUR")
    assert "not yearly" in attempt(cadence="yearly")
    assert "one payee" in attempt(to_account_id=a.rainy)
    assert "one payee" in attempt(payee_id=None)
    assert "in the past" in attempt(first_date=TODAY - timedelta(days=1))
    assert "a year ahead" in attempt(first_date=TODAY + timedelta(days=400))
    assert "first payment" in attempt(first_date=None)
    assert "daily limit" in attempt(amount_minor=10_000_01)
    assert "frozen" in attempt(from_account_id=a.frozen_account)
    assert "closed" in attempt(payee_id=None, to_account_id=a.closed_account)
    assert "same account" in attempt(payee_id=None, to_account_id=a.everyday)
    assert "can't receive" in attempt(payee_id=None, to_account_id=a.loan)
    # Ben has no salary, so "every payday" needs a date from him.
    assert "paycheck" in str(
        refused(
            engine,
            schedule_payment,
            person_id=b.person,
            from_account_id=b.everyday,
            payee_id=b.tom,
            amount_minor=1_00,
            currency="USD",
            cadence="payday",
            first_date=None,
        )
    )


def test_savings_rules(engine: Engine, world: World) -> None:
    a = world.a
    rule = run(
        engine,
        create_savings_rule,
        person_id=a.person,
        from_account_id=a.everyday,
        to_account_id=a.rainy,
        amount_minor=150_00,
        currency="USD",
    )
    assert rule.summary == (
        "Set up a savings rule: $150.00 from Everyday (…4821) to Rainy Day "
        "(…1234) every payday from Mar 5, 2026."
    )
    row = _scheduled(engine, rule.ids["scheduled_id"])
    assert (row.kind, row.cadence, row.to_account_id) == ("savings_rule", "payday", a.rainy)
    args = dict(
        person_id=a.person,
        from_account_id=a.everyday,
        to_account_id=a.rainy,
        amount_minor=20_00,
        currency="USD",
    )
    assert "already have a savings rule" in str(refused(engine, create_savings_rule, **args))
    assert "savings account" in str(
        refused(
            engine,
            create_savings_rule,
            **args | {"from_account_id": a.rainy, "to_account_id": a.everyday},
        )
    )
    assert "not once" in str(refused(engine, create_savings_rule, **args | {"cadence": "once"}))
    run(engine, cancel_scheduled, person_id=a.person, scheduled_id=rule.ids["scheduled_id"])
    weekly = run(engine, create_savings_rule, cadence="weekly", first_date=date(2026, 3, 6), **args)
    assert "every week from Mar 6, 2026" in weekly.summary


def test_cancelling_a_scheduled_payment(engine: Engine, world: World) -> None:
    a = world.a
    done = run(engine, cancel_scheduled, person_id=a.person, scheduled_id=a.monthly)
    assert done.kind == "schedule_cancel"
    assert done.summary == (
        "Cancelled the monthly $50.00 payment from Everyday (…4821) to "
        "Tom Baker. Nothing more will be sent."
    )
    assert _scheduled(engine, a.monthly).active in (False, 0)
    assert "already cancelled" in str(
        refused(engine, cancel_scheduled, person_id=a.person, scheduled_id=a.monthly)
    )
    assert "already cancelled" in str(
        refused(engine, cancel_scheduled, person_id=a.person, scheduled_id=a.cancelled)
    )
    [audit] = audits(engine, a.person)
    assert (audit.action, audit.resource_id) == ("schedule_cancel", str(a.monthly))


# --- cards ------------------------------------------------------------------------------------


def _card(engine: Engine, card_id: int) -> Any:
    [row] = rows(engine, "SELECT * FROM card WHERE id = :i", i=card_id)
    return row


def test_freezing_and_unfreezing_a_card(engine: Engine, world: World) -> None:
    a = world.a
    frozen = run(engine, freeze_card, person_id=a.person, card_id=a.debit)
    assert frozen.kind == "card_freeze" and "debit card ending 4821" in frozen.summary
    assert _card(engine, a.debit).status == "frozen"
    assert "already frozen" in str(
        refused(engine, freeze_card, person_id=a.person, card_id=a.debit)
    )
    thawed = run(engine, unfreeze_card, person_id=a.person, card_id=a.debit)
    assert thawed.kind == "card_unfreeze" and _card(engine, a.debit).status == "active"
    assert "already active" in str(
        refused(engine, unfreeze_card, person_id=a.person, card_id=a.debit)
    )
    for fn in (freeze_card, unfreeze_card):
        reason = str(refused(engine, fn, person_id=a.person, card_id=a.lost))
        assert "reported lost" in reason and "blocked for good" in reason
    assert [(r.action, r.resource, r.resource_id) for r in audits(engine, a.person)] == [
        ("card_freeze", "card", str(a.debit)),
        ("card_unfreeze", "card", str(a.debit)),
    ]


def test_replacing_a_card_blocks_it_and_orders_a_new_one(engine: Engine, world: World) -> None:
    a = world.a
    done = run(engine, replace_card, person_id=a.person, card_id=a.debit, reason="stolen")
    assert done.kind == "card_replace"
    old, new = _card(engine, a.debit), _card(engine, done.ids["new_card_id"])
    assert (old.status, old.replaced_by_id) == ("stolen", new.id)
    assert (new.status, new.type, new.account_id, new.person_id) == (
        "active",
        "debit",
        a.everyday,
        a.person,
    )
    assert new.last4 not in {"4821", "9012", "1111"} and len(new.last4) == 4
    assert str(new.expires_on) == "2030-03-31"
    assert done.summary.startswith(
        "Blocked your debit card ending 4821 for good (reported "
        f"stolen) and ordered a new debit card ending {new.last4}"
    )
    for card in (a.debit, a.lost):
        assert "blocked for good" in str(
            refused(engine, replace_card, person_id=a.person, card_id=card, reason="lost")
        )
    assert "damaged" in str(
        refused(engine, replace_card, person_id=a.person, card_id=a.credit, reason="bored")
    )
    # A frozen card can be replaced; a damaged one is retired as replaced.
    damaged = run(engine, replace_card, person_id=a.person, card_id=a.credit, reason="damaged")
    assert _card(engine, a.credit).status == "replaced"
    assert _card(engine, damaged.ids["new_card_id"]).type == "credit"
    assert [r.action for r in audits(engine, a.person)] == ["card_replace", "card_replace"]


# --- disputes ---------------------------------------------------------------------------------


def test_disputing_a_card_payment(engine: Engine, world: World) -> None:
    a = world.a
    done = run(
        engine,
        dispute_transaction,
        person_id=a.person,
        ledger_entry_id=a.coffee,
        reason="  I was charged   twice ",
    )
    assert done.kind == "dispute"
    assert done.summary.startswith(
        f"Opened dispute #{done.ids['dispute_id']} for the $4.20 to Blue Bottle on Feb 27, 2026."
    )
    [row] = rows(engine, "SELECT * FROM dispute")
    assert (row.person_id, row.ledger_entry_id, row.amount_minor, row.reason, row.status) == (
        a.person,
        a.coffee,
        -420,
        "I was charged twice",
        "open",
    )
    assert "already disputed" in str(
        refused(
            engine,
            dispute_transaction,
            person_id=a.person,
            ledger_entry_id=a.coffee,
            reason="again",
        )
    )
    [audit] = audits(engine, a.person)
    assert (audit.action, audit.resource, audit.resource_id) == (
        "dispute",
        "ledger_entry",
        str(a.coffee),
    )


def test_dispute_refusals_change_nothing(engine: Engine, world: World) -> None:
    a = world.a

    def attempt(entry: int, reason: str = "not mine") -> str:
        return str(
            refused(
                engine,
                dispute_transaction,
                person_id=a.person,
                ledger_entry_id=entry,
                reason=reason,
            )
        )

    assert "money coming in" in attempt(a.salary)
    assert "between your own accounts" in attempt(a.own_move)
    assert "120 days" in attempt(a.old_purchase)
    assert "reason" in attempt(a.coffee, reason="   ")


# --- goals ------------------------------------------------------------------------------------


def test_creating_and_updating_goals(engine: Engine, world: World) -> None:
    a = world.a
    made = run(
        engine,
        create_goal,
        person_id=a.person,
        name="Wedding",
        target_minor=12000_00,
        currency="USD",
        target_date=date(2027, 6, 1),
        account_id=a.rainy,
    )
    assert made.kind == "goal"
    assert made.summary == "Created your goal “Wedding”: save $12,000.00 by Jun 1, 2027."
    [goal] = rows(engine, "SELECT * FROM savings_goal WHERE id = :i", i=made.ids["goal_id"])
    assert (goal.person_id, goal.account_id, goal.target_minor, goal.saved_minor) == (
        a.person,
        a.rainy,
        12000_00,
        0,
    )
    changed = run(
        engine,
        update_goal,
        person_id=a.person,
        goal_id=a.trip,
        name="Japan 2027",
        target_minor=3500_00,
    )
    assert changed.summary == (
        "Updated your goal “Japan 2027”: save $3,500.00; $800.00 saved so far."
    )
    [goal] = rows(engine, "SELECT name, target_minor FROM savings_goal WHERE id = :i", i=a.trip)
    assert tuple(goal) == ("Japan 2027", 3500_00)
    assert [r.action for r in audits(engine, a.person)] == ["goal", "goal"]


def test_goal_refusals_change_nothing(engine: Engine, world: World) -> None:
    a = world.a
    new = dict(person_id=a.person, name="Car", target_minor=1_00, currency="USD")
    assert "already have a goal" in str(
        refused(engine, create_goal, **new | {"name": "japan TRIP"})
    )
    assert "more than zero" in str(refused(engine, create_goal, **new | {"target_minor": 0}))
    assert "name" in str(refused(engine, create_goal, **new | {"name": " "}))
    assert "XYZ" in str(refused(engine, create_goal, **new | {"currency": "XYZ"}))
    assert "future" in str(refused(engine, create_goal, **new | {"target_date": TODAY}))
    assert "not EUR" in str(
        refused(engine, create_goal, **new | {"currency": "EUR", "account_id": a.rainy})
    )
    assert "not a checking" in str(refused(engine, create_goal, **new | {"account_id": a.loan}))
    edit = dict(person_id=a.person, goal_id=a.trip)
    assert "nothing to change" in str(refused(engine, update_goal, **edit))
    assert "nothing to change" in str(
        refused(engine, update_goal, **edit, target_minor=3000_00, name="Japan trip")
    )
    assert "more than zero" in str(refused(engine, update_goal, **edit, target_minor=-1))
    run(engine, create_goal, **new)
    assert "already have a goal" in str(refused(engine, update_goal, **edit, name="car"))


# --- preferences, offers, advisor cases -------------------------------------------------------


def test_contact_preferences(engine: Engine, world: World) -> None:
    a, b = world.a, world.b
    on = run(engine, set_preference, person_id=a.person, channel="sms", enabled=True)
    assert (on.kind, on.summary) == ("preference", "Turned on text messages.")
    off = run(engine, set_preference, person_id=a.person, channel="marketing", enabled=True)
    assert off.summary == "Turned on marketing offers."
    [pref] = rows(
        engine,
        "SELECT sms, push, marketing_consent FROM contact_preference WHERE person_id = :p",
        p=a.person,
    )
    assert tuple(bool(v) for v in pref) == (True, True, True)
    assert "already on" in str(
        refused(engine, set_preference, person_id=a.person, channel="sms", enabled=True)
    )
    assert "push" in str(
        refused(engine, set_preference, person_id=a.person, channel="fax", enabled=False)
    )
    # Ben has no preference row yet: one is made from the defaults.
    assert "already off" in str(
        refused(engine, set_preference, person_id=b.person, channel="sms", enabled=False)
    )
    run(engine, set_preference, person_id=b.person, channel="email", enabled=False)
    [pref] = rows(
        engine, "SELECT email, push FROM contact_preference WHERE person_id = :p", p=b.person
    )
    assert tuple(bool(v) for v in pref) == (False, True)


def test_responding_to_an_offer(engine: Engine, world: World) -> None:
    a, b = world.a, world.b
    done = run(
        engine,
        respond_to_offer,
        person_id=a.person,
        offer_code="high_yield_savings",
        response="declined",
    )
    assert done.kind == "offer_response"
    assert done.summary == "Noted: you declined the High Yield Savings offer."
    [event] = rows(
        engine,
        "SELECT id, response, responded_at FROM offer_event WHERE person_id = :p",
        p=a.person,
    )
    assert event.response == "declined" and done.ids == {"offer_event_id": event.id}
    # An offer from the catalogue never shown before gets its own row.
    run(
        engine,
        respond_to_offer,
        person_id=b.person,
        offer_code="high_yield_savings",
        response="accepted",
    )
    refused(
        engine,
        respond_to_offer,
        NotFound,
        person_id=a.person,
        offer_code="free_money",
        response="accepted",
    )
    assert "accepted" in str(
        refused(
            engine,
            respond_to_offer,
            person_id=a.person,
            offer_code="high_yield_savings",
            response="maybe",
        )
    )


def test_handing_over_to_an_advisor(engine: Engine, world: World) -> None:
    a = world.a
    done = run(
        engine,
        open_handoff,
        person_id=a.person,
        reason="mortgage advice",
        summary="Maya wants to compare fixed and variable mortgages.",
    )
    assert done.kind == "handoff"
    assert done.summary.startswith(
        f"Opened case #{done.ids['case_id']} for an advisor (mortgage advice)."
    )
    [case] = rows(engine, "SELECT person_id, reason, summary, status FROM handoff_case")
    assert tuple(case) == (
        a.person,
        "mortgage advice",
        "Maya wants to compare fixed and variable mortgages.",
        "open",
    )
    assert "reason" in str(
        refused(engine, open_handoff, person_id=a.person, reason="", summary="x")
    )
    assert "summary" in str(
        refused(engine, open_handoff, person_id=a.person, reason="r", summary=" ")
    )
    assert "too long" in str(
        refused(engine, open_handoff, person_id=a.person, reason="r", summary="x" * 2001)
    )
    assert [r.action for r in audits(engine, a.person)] == ["handoff"]


def test_refusals_are_refused_errors_with_a_reason(engine: Engine, world: World) -> None:
    err = refused(engine, freeze_card, person_id=world.a.person, card_id=world.a.credit)
    assert isinstance(err, Refused) and err.reason == str(err)
