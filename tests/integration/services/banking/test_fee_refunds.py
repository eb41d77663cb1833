"""A fee refunded on an advisor's decision: once per fee, only fees, only the customer's own."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from services.banking import NotFound, Refused
from services.banking.refunds import refund_fee
from tests.support.bank_world import NOW, World, balance, build_world, refused, rows, run


@pytest.fixture
def world(engine: Engine) -> World:
    return build_world(engine)


def _charge_fee(engine: Engine, person: int, account: int, amount: int) -> int:
    """Book a fee as the core system would: the ledger row and the balance together."""
    with engine.begin() as conn:
        after = conn.execute(
            text(
                "UPDATE account SET balance_minor = balance_minor - :a WHERE id = :i "
                "RETURNING balance_minor"
            ),
            {"a": amount, "i": account},
        ).scalar_one()
        return int(
            conn.execute(
                text(
                    "INSERT INTO ledger_entry (account_id, person_id, booked_at, amount_minor, "
                    "currency, category, channel, description, balance_after_minor) VALUES "
                    "(:acc, :p, :at, :amt, 'USD', 'fees', 'fee', 'OVERDRAFT FEE', :after) "
                    "RETURNING id"
                ),
                {"acc": account, "p": person, "at": NOW, "amt": -amount, "after": after},
            ).scalar_one()
        )


def test_a_fee_is_refunded_once_to_its_account_and_the_advisor_is_audited(
    engine: Engine, world: World
) -> None:
    a = world.a
    fee = _charge_fee(engine, a.person, a.everyday, 35_00)
    before = balance(engine, a.everyday)
    done = run(engine, refund_fee, person_id=a.person, entry_id=fee, advisor_id=7)
    assert done.kind == "fee_refund" and "$35.00" in done.summary
    assert balance(engine, a.everyday) == before + 35_00
    [audit] = rows(
        engine, "SELECT action, outcome FROM audit_log WHERE actor = 'advisor:7' ORDER BY id"
    )
    assert tuple(audit) == ("fee_refund", "success")
    error = refused(engine, refund_fee, person_id=a.person, entry_id=fee, advisor_id=8)
    assert "already refunded" in str(error)
    assert balance(engine, a.everyday) == before + 35_00


def test_only_fees_are_refunded(engine: Engine, world: World) -> None:
    a = world.a
    error = refused(engine, refund_fee, person_id=a.person, entry_id=a.coffee, advisor_id=7)
    assert isinstance(error, Refused) and "fee" in str(error)


def test_another_customers_fee_is_not_found(engine: Engine, world: World) -> None:
    fee = _charge_fee(engine, world.b.person, world.b.everyday, 10_00)
    refused(engine, refund_fee, NotFound, person_id=world.a.person, entry_id=fee, advisor_id=7)
