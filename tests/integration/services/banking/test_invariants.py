"""Money never appears or disappears, whatever the sequence of transfers and however they race."""

from __future__ import annotations

import threading
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session

from services.banking import BankingError, Refused, WriteResult, pay_payee, transfer
from services.models import Account, Person
from tests.support.bank_world import (
    NOW,
    World,
    balance,
    build_world,
    rows,
    run,
)


@pytest.fixture
def world(engine: Engine) -> World:
    return build_world(engine)


STEP = st.tuples(
    st.integers(0, 2),  # from
    st.integers(0, 2),  # to (the same account is refused)
    st.integers(-100, 600_000),  # amount in cents (non-positive ones are refused)
    st.integers(0, 600),  # minutes since the previous step (the daily limit resets at midnight)
)


def _customer(engine: Engine, openings: list[int]) -> tuple[int, list[int]]:
    with Session(engine) as s:
        person = Person(full_name="Prop Erty", first_name="Prop", last_name="Erty")
        s.add(person)
        s.flush()
        assert person.id is not None
        accounts = [
            Account(
                person_id=person.id,
                type=kind,
                name=f"Acct {i}",
                number=uuid.uuid4().hex[:12],
                balance_minor=opening,
                opened_on=date(2020, 1, 1),
            )
            for i, (kind, opening) in enumerate(
                zip(("checking", "savings", "savings"), openings, strict=True)
            )
        ]
        s.add_all(accounts)
        s.commit()
        return person.id, [int(a.id) for a in accounts if a.id is not None]


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    openings=st.lists(st.integers(0, 1_500_000), min_size=3, max_size=3),
    steps=st.lists(STEP, max_size=8),
)
def test_transfers_conserve_money(
    engine: Engine, openings: list[int], steps: list[tuple[int, int, int, int]]
) -> None:
    person, ids = _customer(engine, openings)
    now, done = NOW, 0
    for src, dst, amount, minutes in steps:
        now += timedelta(minutes=minutes)
        try:
            run(
                engine,
                transfer,
                person_id=person,
                from_account_id=ids[src],
                to_account_id=ids[dst],
                amount_minor=amount,
                currency="USD",
                now=now,
            )
            done += 1
        except Refused:
            pass
    balances = [balance(engine, i) for i in ids]
    assert sum(balances) == sum(openings)
    assert all(b >= 0 for b in balances)
    entries = rows(
        engine,
        "SELECT account_id, amount_minor, balance_after_minor FROM "
        "ledger_entry WHERE person_id = :p ORDER BY id",
        p=person,
    )
    assert len(entries) == 2 * done
    running = dict(zip(ids, openings, strict=True))
    for account, amount, after in entries:
        running[account] += amount
        assert after == running[account]
    assert [running[i] for i in ids] == balances


def _race(engine: Engine, calls: list[dict[str, Any]]) -> list[WriteResult | BankingError]:
    """Run the calls at once, each in its own thread and transaction."""
    gate = threading.Barrier(len(calls))
    out: list[WriteResult | BankingError] = [Refused("not run")] * len(calls)

    def worker(i: int) -> None:
        gate.wait()
        try:
            out[i] = run(engine, **calls[i])
        except BankingError as exc:
            out[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return out


def test_racing_debits_never_overdraw(engine: Engine, world: World) -> None:
    a = world.a
    calls = [
        dict(
            fn=transfer,
            person_id=a.person,
            from_account_id=a.everyday,
            to_account_id=a.rainy,
            amount_minor=1000_00,
            currency="USD",
        ),
        dict(
            fn=pay_payee,
            person_id=a.person,
            from_account_id=a.everyday,
            payee_id=a.tom,
            amount_minor=1000_00,
            currency="USD",
        ),
        dict(
            fn=transfer,
            person_id=a.person,
            from_account_id=a.rainy,
            to_account_id=a.everyday,
            amount_minor=100_00,
            currency="USD",
        ),
        dict(
            fn=transfer,
            person_id=a.person,
            from_account_id=a.everyday,
            to_account_id=a.rainy,
            amount_minor=1000_00,
            currency="USD",
        ),
    ]
    results = _race(engine, calls)
    succeeded = [c for c, r in zip(calls, results, strict=True) if isinstance(r, WriteResult)]
    refusals = [r for r in results if isinstance(r, Refused)]
    assert all("isn't enough money" in str(r) for r in refusals)
    out = sum(c["amount_minor"] for c in succeeded if c["from_account_id"] == a.everyday)
    back = sum(c["amount_minor"] for c in succeeded if c["from_account_id"] == a.rainy)
    assert balance(engine, a.everyday) == 2450_00 - out + back >= 0
    to_rainy = sum(c["amount_minor"] for c in succeeded if c.get("to_account_id") == a.rainy)
    assert balance(engine, a.rainy) == 1200_00 + to_rainy - back
    for account in (a.everyday, a.rainy):
        entries = rows(
            engine,
            "SELECT amount_minor, balance_after_minor FROM ledger_entry "
            "WHERE account_id = :a AND source_ref IS NOT NULL ORDER BY id",
            a=account,
        )
        assert entries[-1][1] == balance(engine, account)


def test_racing_retries_of_one_request_run_it_once(engine: Engine, world: World) -> None:
    a = world.a
    call = dict(
        fn=transfer,
        person_id=a.person,
        from_account_id=a.everyday,
        to_account_id=a.rainy,
        amount_minor=300_00,
        currency="USD",
        idempotency_key="double-click",
    )
    results = _race(engine, [call, dict(call), dict(call)])
    assert all(isinstance(r, WriteResult) for r in results)
    assert sorted(r.replayed for r in results if isinstance(r, WriteResult)) == [False, True, True]
    assert len({r.summary for r in results if isinstance(r, WriteResult)}) == 1
    assert balance(engine, a.everyday) == 2150_00
    assert len(rows(engine, "SELECT id FROM ledger_entry WHERE source_ref IS NOT NULL")) == 2
