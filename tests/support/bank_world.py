"""Maya (a) and Ben (b): a small bank built straight from the models, with its helpers.

Maya has accounts of every state; Ben's records Maya must never reach. The banking, tool, agency,
audit and access tests all write against this world. ``refused`` calls a write in a transaction
that commits anyway, so "nothing changed" is the write's own guarantee, not a rollback's.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlmodel import Session, SQLModel

from services.banking import (
    BankingError,
    Refused,
    WriteResult,
)
from services.models import (
    Account,
    Card,
    ContactPreference,
    LedgerEntry,
    OfferEvent,
    Payee,
    Person,
    RecurringSeries,
    SavingsGoal,
    ScheduledTransfer,
)

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
MISSING = 987_654


@dataclass
class Customer:
    """Ids of one customer's records (zero where the customer has none)."""

    person: int
    everyday: int
    rainy: int
    card_account: int = 0
    frozen_account: int = 0
    closed_account: int = 0
    euro: int = 0
    loan: int = 0
    tom: int = 0
    power: int = 0
    debit: int = 0
    credit: int = 0
    lost: int = 0
    coffee: int = 0
    salary: int = 0
    own_move: int = 0
    old_purchase: int = 0
    trip: int = 0
    monthly: int = 0
    cancelled: int = 0


@dataclass
class World:
    """Maya (a) and Ben (b)."""

    a: Customer
    b: Customer


def _add(session: Session, row: SQLModel) -> int:
    session.add(row)
    session.flush()
    assert row.id is not None  # type: ignore[attr-defined]
    return int(row.id)  # type: ignore[attr-defined]


def _account(
    session: Session, person: int, kind: str, name: str, number: str, balance: int, **extra: Any
) -> int:
    return _add(
        session,
        Account(
            person_id=person,
            type=kind,
            name=name,
            number=number,
            balance_minor=balance,
            opened_on=date(2020, 1, 1),
            **extra,
        ),
    )


def _entry(
    session: Session,
    person: int,
    account: int,
    days_ago: int,
    amount: int,
    category: str,
    merchant: str | None = None,
) -> int:
    return _add(
        session,
        LedgerEntry(
            account_id=account,
            person_id=person,
            booked_at=NOW - timedelta(days=days_ago),
            amount_minor=amount,
            category=category,
            channel="card",
            merchant=merchant,
        ),
    )


def build_world(engine: Engine) -> World:
    """Maya with one of everything, Ben with a little of everything."""
    with Session(engine) as s:
        maya = _add(s, Person(full_name="Maya Patel", first_name="Maya", last_name="Patel"))
        a = Customer(
            person=maya,
            everyday=_account(s, maya, "checking", "Everyday", "100000004821", 2450_00),
            rainy=_account(s, maya, "savings", "Rainy Day", "200000001234", 1200_00),
        )
        a.card_account = _account(
            s,
            maya,
            "credit_card",
            "Cashback Card",
            "300000005555",
            -300_00,
            credit_limit_minor=5000_00,
        )
        a.frozen_account = _account(
            s, maya, "savings", "Holiday Fund", "400000007777", 500_00, status="frozen"
        )
        a.closed_account = _account(
            s, maya, "checking", "Old Checking", "500000008888", 0, status="closed"
        )
        a.euro = _account(
            s, maya, "savings", "Euro Savings", "600000009999", 100_00, currency="EUR"
        )
        a.loan = _account(s, maya, "personal_loan", "Car Loan", "700000006666", -5000_00)
        a.tom = _add(
            s, Payee(person_id=maya, name="Tom Baker", kind="person", account_number="11112222")
        )
        a.power = _add(
            s, Payee(person_id=maya, name="City Power", kind="biller", account_number="33334444")
        )
        for kind, merchant, category, amount, nxt in (
            ("salary", "Acme Corp", "income", 3000_00, NOW.date() + timedelta(days=3)),
            ("bill", "City Power", "utilities", -80_00, NOW.date() + timedelta(days=10)),
        ):
            s.add(
                RecurringSeries(
                    person_id=maya,
                    account_id=a.everyday,
                    kind=kind,
                    merchant=merchant,
                    category=category,
                    amount_minor=amount,
                    cadence="monthly",
                    started_on=date(2024, 1, 1),
                    next_date=nxt,
                )
            )
        expiry = date(2028, 5, 31)
        a.debit = _add(
            s,
            Card(
                person_id=maya, account_id=a.everyday, type="debit", last4="4821", expires_on=expiry
            ),
        )
        a.credit = _add(
            s,
            Card(
                person_id=maya,
                account_id=a.card_account,
                type="credit",
                last4="9012",
                status="frozen",
                expires_on=expiry,
            ),
        )
        a.lost = _add(
            s,
            Card(
                person_id=maya,
                account_id=a.everyday,
                type="debit",
                last4="1111",
                status="lost",
                expires_on=expiry,
                replaced_by_id=a.debit,
            ),
        )
        a.coffee = _entry(s, maya, a.everyday, 3, -420, "dining", "Blue Bottle")
        a.salary = _entry(s, maya, a.everyday, 5, 3000_00, "income", "Acme Corp")
        a.own_move = _entry(s, maya, a.everyday, 6, -100_00, "transfer")
        a.old_purchase = _entry(s, maya, a.everyday, 200, -50_00, "shopping", "Best Buy")
        a.trip = _add(
            s,
            SavingsGoal(
                person_id=maya, name="Japan trip", target_minor=3000_00, saved_minor=800_00
            ),
        )
        a.monthly = _add(
            s,
            ScheduledTransfer(
                person_id=maya,
                from_account_id=a.everyday,
                payee_id=a.tom,
                amount_minor=50_00,
                kind="recurring",
                cadence="monthly",
                next_date=NOW.date() + timedelta(days=5),
            ),
        )
        a.cancelled = _add(
            s,
            ScheduledTransfer(
                person_id=maya,
                from_account_id=a.everyday,
                to_account_id=a.rainy,
                amount_minor=25_00,
                kind="recurring",
                cadence="weekly",
                active=False,
            ),
        )
        s.add(ContactPreference(person_id=maya))
        s.add(
            OfferEvent(
                person_id=maya,
                offer_code="high_yield_savings",
                channel="chat",
                shown_at=NOW - timedelta(days=1),
                response="ignored",
            )
        )

        ben = _add(s, Person(full_name="Ben Ortiz", first_name="Ben", last_name="Ortiz"))
        b = Customer(
            person=ben,
            everyday=_account(s, ben, "checking", "Main", "800000001000", 5000_00),
            rainy=_account(s, ben, "savings", "Nest Egg", "800000002000", 9000_00),
        )
        b.card_account = _account(s, ben, "credit_card", "Ben's Card", "800000003000", -200_00)
        b.tom = _add(
            s, Payee(person_id=ben, name="Ana Ruiz", kind="person", account_number="55556666")
        )
        b.debit = _add(
            s,
            Card(
                person_id=ben, account_id=b.everyday, type="debit", last4="2222", expires_on=expiry
            ),
        )
        b.coffee = _entry(s, ben, b.everyday, 2, -15_00, "dining", "Cafe Ben")
        b.trip = _add(s, SavingsGoal(person_id=ben, name="Boat", target_minor=900_00))
        b.monthly = _add(
            s,
            ScheduledTransfer(
                person_id=ben,
                from_account_id=b.everyday,
                payee_id=b.tom,
                amount_minor=10_00,
                kind="one_off",
                next_date=NOW.date() + timedelta(days=4),
            ),
        )
        s.commit()
    return World(a, b)


def run(engine: Engine, fn: Callable[..., WriteResult], **kwargs: Any) -> WriteResult:
    """Call a write in its own committed transaction (fresh key and the test clock by default)."""
    kwargs.setdefault("idempotency_key", uuid.uuid4().hex)
    kwargs.setdefault("now", NOW)
    with engine.begin() as conn:
        return fn(conn, **kwargs)


def snapshot(engine: Engine) -> dict[str, list[tuple[str, ...]]]:
    """Every row of every table: compared before and after to prove nothing changed."""
    with engine.connect() as conn:
        return {
            t.name: sorted(tuple(map(str, r)) for r in conn.execute(select(t)))
            for t in SQLModel.metadata.sorted_tables
        }


def refused(
    engine: Engine,
    fn: Callable[..., WriteResult],
    error: type[BankingError] = Refused,
    **kwargs: Any,
) -> BankingError:
    """Expect ``error``, commit the transaction anyway, and check that nothing changed."""
    kwargs.setdefault("idempotency_key", uuid.uuid4().hex)
    kwargs.setdefault("now", NOW)
    before = snapshot(engine)
    with engine.begin() as conn, pytest.raises(error) as caught:
        fn(conn, **kwargs)
    assert snapshot(engine) == before, f"{fn.__name__} changed something while refusing"
    return caught.value


def balance(engine: Engine, account_id: int) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT balance_minor FROM account WHERE id = :i"), {"i": account_id}
            ).scalar_one()
        )


def rows(engine: Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(sql), params).all())


def audits(engine: Engine, person: int) -> list[Any]:
    return rows(
        engine,
        "SELECT action, resource, resource_id, outcome, detail FROM audit_log "
        "WHERE actor = :a ORDER BY id",
        a=f"customer:{person}",
    )


Args = Callable[[Any], dict[str, Any]]
FIRST = (NOW + timedelta(days=7)).date().isoformat()

# Every write tool -> its arguments for one customer's records (Maya's for her own, Ben's for a
# stranger's): the write-tool and access tests drive each tool with them.
CASES: dict[str, Args] = {
    "transfer": lambda c: {
        "from_account": f"acc-{c.everyday}",
        "to_account": f"acc-{c.rainy}",
        "amount": "10.00",
    },
    "pay_payee": lambda c: {
        "payee": f"payee-{c.tom}",
        "amount": "10.00",
        "from_account": f"acc-{c.everyday}",
    },
    "pay_card_bill": lambda c: {
        "from_account": f"acc-{c.everyday}",
        "card_account": f"acc-{c.card_account}",
        "amount": "10.00",
    },
    "schedule_payment": lambda c: {
        "amount": "10.00",
        "from_account": f"acc-{c.everyday}",
        "first_date": FIRST,
        "frequency": "monthly",
        "payee": f"payee-{c.tom}",
    },
    "create_savings_rule": lambda c: {
        "amount": "25.00",
        "from_account": f"acc-{c.everyday}",
        "to_account": f"acc-{c.rainy}",
        "frequency": "payday",
    },
    "cancel_scheduled_payment": lambda c: {"schedule": f"sched-{c.monthly}"},
    "freeze_card": lambda c: {"card": f"card-{c.debit}"},
    "replace_card": lambda c: {"card": f"card-{c.debit}", "reason": "stolen"},
    "dispute_transaction": lambda c: {"transaction": f"txn-{c.coffee}"},
    "create_goal": lambda c: {"name": "New car", "target": "5000.00"},
    "update_goal": lambda c: {"goal": f"goal-{c.trip}", "target": "4000.00"},
    "set_preferences": lambda c: {"channel": "sms", "enabled": True},
    "respond_to_offer": lambda c: {"offer": "high_yield_savings", "response": "accepted"},
    "handoff": lambda c: {"reason": "I want to talk to someone"},
}
