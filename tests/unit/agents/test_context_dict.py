"""The customer context's JSON form, written into the conversation's state every turn."""

from __future__ import annotations

import dataclasses
import json
from datetime import date

from agents.context import Account, Card, CustomerContext, Named


def _full() -> CustomerContext:
    return CustomerContext(
        first_name="Ann",
        today=date(2026, 1, 2),
        accounts=(
            Account("acc-1", "checking", "Main", "1234", 100),
            Account("acc-2", "savings", "Rainy", "5678", 5, "EUR"),
        ),
        payees=(Named("payee-1", "Bob"),),
        cards=(Card("card-1", "debit", "9999", "frozen"),),
        scheduled=(Named("sched-1", "$5.00 to Bob from Main (monthly)"),),
        goals=(Named("goal-1", "Trip"),),
        closed=(Named("acc-3", "Old"),),
        merchants=("Costco", "Shell"),
        currency="EUR",
        notes=("note",),
        offer={"code": "a", "title": "b", "body": "c", "why": "d"},
        insight={"type": "t", "message": "m"},
    )


def test_the_json_form_is_what_asdict_gives_with_the_date_as_text() -> None:
    context = _full()
    expected = dataclasses.asdict(context) | {"today": "2026-01-02"}
    assert context.to_dict() == expected
    assert json.dumps(context.to_dict()) == json.dumps(expected)
    empty = CustomerContext(first_name="Bo", today=date(2026, 1, 2))
    assert empty.to_dict() == dataclasses.asdict(empty) | {"today": "2026-01-02"}


def test_the_json_form_round_trips_and_is_a_copy() -> None:
    context = _full()
    data = context.to_dict()
    assert CustomerContext.from_dict(json.loads(json.dumps(data))) == context
    data["offer"]["title"] = "changed"
    data["accounts"][0]["name"] = "changed"
    assert context.offer is not None and context.offer["title"] == "b"
    assert context.accounts[0].name == "Main"
