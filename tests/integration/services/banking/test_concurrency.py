"""Money under concurrency, on SQLite and PostgreSQL: dozens of writers on the same accounts.

Many threads, each in its own transaction with its own idempotency key, move money A→B and B→A
and pay a payee from both, all released at once by a barrier; a second customer does the same
on their own accounts meanwhile. Whatever the interleaving:

- money is conserved: each customer's total falls by exactly the payments that succeeded;
- no account goes below zero (a chat never lends the arranged overdraft, so zero is the floor);
- each success booked its legs exactly once (two rows per transfer, one per payment, with one
  reference per write) and each account's running balance chains without a gap;
- the day's outgoing total never passes the daily limit;
- every failure is a clear refusal (not enough money, or the daily limit), never a database
  error ("database is locked", a serialization failure or a deadlock);
- every success replays, later, as itself and books nothing more.

The figures (threads, writes attempted and succeeded, seconds) are printed for the record.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, text
from sqlmodel import Session

from services.banking import (
    DAILY_LIMIT_MINOR,
    BankingError,
    Refused,
    WriteResult,
    pay_payee,
    sent_today,
    transfer,
)
from services.models import Account, Payee, Person

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
THREADS = {"busy": 40, "other": 8}  # writers per customer, all released at once
ROUNDS = 4
OPENING = {"a": 6_000_00, "b": 4_000_00}
OVERDRAFT = 500_00  # arranged on checking, but never lent by these writes


@dataclass
class Customer:
    person: int
    a: int
    b: int
    payee: int


@dataclass
class Attempt:
    customer: Customer
    call: dict[str, Any]
    outcome: WriteResult | BaseException | None = None


@dataclass
class Figures:
    attempted: int = 0
    succeeded: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)


def _customer(engine: Engine, name: str) -> Customer:
    with Session(engine) as s:
        person = Person(full_name=f"{name} Race", first_name=name, last_name="Race")
        s.add(person)
        s.flush()
        assert person.id is not None
        rows = [
            Account(
                person_id=person.id,
                type=kind,
                name=f"{name} {kind}",
                number=uuid.uuid4().hex[:12],
                balance_minor=OPENING[ref],
                overdraft_limit_minor=OVERDRAFT if kind == "checking" else 0,
                opened_on=date(2020, 1, 1),
            )
            for ref, kind in (("a", "checking"), ("b", "savings"))
        ]
        payee = Payee(
            person_id=person.id, name=f"{name} Landlord", kind="biller", account_number="1"
        )
        s.add_all([*rows, payee])
        s.commit()
        ids = [int(r.id) for r in rows if r.id is not None]
        assert payee.id is not None
        return Customer(person.id, ids[0], ids[1], payee.id)


def _calls(who: Customer, count: int, seed: int) -> list[Attempt]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        amount = rng.randrange(150_00, 950_01, 25)
        base = {"person_id": who.person, "amount_minor": amount, "currency": "USD"}
        key = {"idempotency_key": f"race-{seed}-{i}-{uuid.uuid4().hex[:8]}", "now": NOW}
        if i % 4 == 0:
            call = {"fn": transfer, "from_account_id": who.a, "to_account_id": who.b}
        elif i % 4 == 1:
            call = {"fn": transfer, "from_account_id": who.b, "to_account_id": who.a}
        else:  # payments from both accounts at once: only the customer's lock orders them
            source = who.a if i % 4 == 2 else who.b
            call = {"fn": pay_payee, "from_account_id": source, "payee_id": who.payee}
        out.append(Attempt(who, {**call, **base, **key}))
    return out


def _write(engine: Engine, call: dict[str, Any]) -> WriteResult:
    args = dict(call)
    fn = args.pop("fn")
    with engine.begin() as conn:
        result: WriteResult = fn(conn, **args)
        return result


def _race(engine: Engine, attempts: list[Attempt]) -> float:
    gate = threading.Barrier(len(attempts))

    def worker(attempt: Attempt) -> None:
        gate.wait()
        try:
            attempt.outcome = _write(engine, attempt.call)
        except BaseException as exc:  # noqa: BLE001 - every outcome is judged below
            attempt.outcome = exc

    threads = [threading.Thread(target=worker, args=(a,)) for a in attempts]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a writer hung"
    return time.perf_counter() - started


def _rows(engine: Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(sql), params))


def _balance(engine: Engine, account: int) -> int:
    return int(_rows(engine, "SELECT balance_minor FROM account WHERE id = :i", i=account)[0][0])


def _check_customer(engine: Engine, who: Customer, attempts: list[Attempt], f: Figures) -> None:
    done = [a for a in attempts if isinstance(a.outcome, WriteResult)]
    for a in attempts:
        if isinstance(a.outcome, Refused):
            reason = "funds" if "isn't enough money" in a.outcome.reason else "limit"
            assert reason == "funds" or "daily limit" in a.outcome.reason, a.outcome.reason
            f.refused[reason] += 1
        else:
            # Not a database error, not an unexpected exception: a result or a clear refusal.
            assert isinstance(a.outcome, WriteResult), repr(a.outcome)
            assert not a.outcome.replayed
    paid = sum(a.call["amount_minor"] for a in done if a.call["fn"] is pay_payee)
    transfers = sum(1 for a in done if a.call["fn"] is transfer)
    payments = len(done) - transfers
    f.succeeded["transfer"] += transfers
    f.succeeded["payment"] += payments

    a_now, b_now = _balance(engine, who.a), _balance(engine, who.b)
    assert a_now + b_now == sum(OPENING.values()) - paid  # nothing created or destroyed
    assert a_now >= 0 and b_now >= 0  # never into the overdraft, let alone beyond it

    entries = _rows(
        engine,
        "SELECT account_id, amount_minor, balance_after_minor, source_ref FROM ledger_entry "
        "WHERE person_id = :p ORDER BY id",
        p=who.person,
    )
    assert len(entries) == 2 * transfers + payments
    legs = Counter(str(ref).rsplit(":", 1)[0] for *_, ref in entries)
    assert sorted(legs.values()) == sorted(
        2 if a.call["fn"] is transfer else 1 for a in done
    )  # one reference per write: both legs of a transfer, the single leg of a payment
    assert set(legs) == {f"concierge:{a.outcome.reference}" for a in done}  # type: ignore[union-attr]
    running = {who.a: OPENING["a"], who.b: OPENING["b"]}
    for account, amount, after, _ in entries:
        running[account] += amount
        assert after == running[account], "a lost update: the running balance does not chain"
    assert running == {who.a: a_now, who.b: b_now}

    with engine.connect() as conn:
        sent = sent_today(conn, person_id=who.person, currency="USD", now=NOW)
    outgoing = sum(a.call["amount_minor"] for a in done)
    assert sent == outgoing <= DAILY_LIMIT_MINOR
    claims = _rows(engine, "SELECT count(*) FROM write_request WHERE person_id = :p", p=who.person)
    assert claims[0][0] == len(done)  # refused writes withdrew their idempotency claims


def test_racing_writers_conserve_money_and_respect_every_limit(engine: Engine) -> None:
    figures, seconds, everyone = Figures(), 0.0, []
    for race in range(ROUNDS):  # fresh customers each round: more interleavings, same checks
        busy, other = _customer(engine, f"Busy{race}"), _customer(engine, f"Other{race}")
        attempts = _calls(busy, THREADS["busy"], seed=10 * race + 1)
        attempts += _calls(other, THREADS["other"], seed=10 * race + 2)
        random.Random(race).shuffle(attempts)
        seconds += _race(engine, attempts)
        figures.attempted += len(attempts)
        for who in (busy, other):
            _check_customer(engine, who, [a for a in attempts if a.customer is who], figures)
        everyone += attempts
    # The race must have been a real one: limits were reached, and work got done.
    assert figures.succeeded["transfer"] > 0 and figures.succeeded["payment"] > 0
    assert figures.refused["limit"] > 0

    # Every success replays as itself, books nothing more and moves no money.
    before = _rows(engine, "SELECT count(*) FROM ledger_entry")[0][0]
    balances = _rows(engine, "SELECT id, balance_minor FROM account ORDER BY id")
    for a in everyone:
        if isinstance(a.outcome, WriteResult):
            again = _write(engine, a.call)
            assert again.replayed and again.summary == a.outcome.summary
    assert _rows(engine, "SELECT count(*) FROM ledger_entry")[0][0] == before
    assert _rows(engine, "SELECT id, balance_minor FROM account ORDER BY id") == balances

    print(  # noqa: T201 - the figures are the report
        f"\nconcurrency [{engine.dialect.name}]: {ROUNDS} rounds of {sum(THREADS.values())} "
        f"threads, {figures.attempted} writes attempted, {sum(figures.succeeded.values())} "
        f"succeeded ({dict(figures.succeeded)}), refused {dict(figures.refused)}, "
        f"{seconds:.2f} s racing"
    )


def test_a_storm_of_one_request_runs_it_once(engine: Engine) -> None:
    # The same key from many threads at once (a client retrying hard): one run, the rest replay.
    who = _customer(engine, "Retry")
    call = {
        "fn": transfer,
        "person_id": who.person,
        "from_account_id": who.a,
        "to_account_id": who.b,
        "amount_minor": 250_00,
        "currency": "USD",
        "idempotency_key": "storm",
        "now": NOW,
    }
    attempts = [Attempt(who, dict(call)) for _ in range(24)]
    _race(engine, attempts)
    outcomes = [a.outcome for a in attempts]
    results = [o for o in outcomes if isinstance(o, WriteResult)]
    # A replay can only answer once the first run committed; until then the key is busy.
    busy = [o for o in outcomes if isinstance(o, BankingError) and "still being" in str(o)]
    assert len(results) + len(busy) == len(attempts), [repr(o) for o in outcomes]
    assert sum(not r.replayed for r in results) == 1
    assert len({r.summary for r in results}) == 1
    assert _balance(engine, who.a) == OPENING["a"] - 250_00
    assert _balance(engine, who.b) == OPENING["b"] + 250_00


def _fund(engine: Engine, who: Customer, a: int, b: int) -> None:
    with engine.begin() as conn:
        for account, amount in ((who.a, a), (who.b, b)):
            conn.execute(
                text("UPDATE account SET balance_minor = :m WHERE id = :i"),
                {"m": amount, "i": account},
            )


def test_the_last_of_the_daily_limit_is_spent_once(engine: Engine) -> None:
    # 9,000.00 already sent today; 32 payments of 100.00-400.00 race for the last 1,000.00.
    who = _customer(engine, "Limit")
    _fund(engine, who, 50_000_00, 50_000_00)
    _write(
        engine,
        {
            "fn": transfer,
            "person_id": who.person,
            "from_account_id": who.a,
            "to_account_id": who.b,
            "amount_minor": 9_000_00,
            "currency": "USD",
            "idempotency_key": "earlier",
            "now": NOW,
        },
    )
    rng = random.Random(7)
    attempts = [
        Attempt(
            who,
            {
                "fn": pay_payee,
                "person_id": who.person,
                "from_account_id": who.a if i % 2 else who.b,
                "payee_id": who.payee,
                "amount_minor": rng.randrange(100_00, 400_01, 100),
                "currency": "USD",
                "idempotency_key": f"limit-{i}",
                "now": NOW,
            },
        )
        for i in range(32)
    ]
    _race(engine, attempts)
    assert all(isinstance(a.outcome, WriteResult | Refused) for a in attempts)
    paid = sum(a.call["amount_minor"] for a in attempts if isinstance(a.outcome, WriteResult))
    with engine.connect() as conn:
        sent = sent_today(conn, person_id=who.person, currency="USD", now=NOW)
    assert sent == 9_000_00 + paid <= DAILY_LIMIT_MINOR
    assert _balance(engine, who.a) + _balance(engine, who.b) == 100_000_00 - paid


def test_the_last_of_a_balance_is_spent_once(engine: Engine) -> None:
    # 1,000.00 in checking; 24 transfers and payments of 300.00 each race for it.
    who = _customer(engine, "Funds")
    _fund(engine, who, 1_000_00, 0)
    attempts = [
        Attempt(
            who,
            {"fn": transfer, "to_account_id": who.b}
            if i % 2
            else {"fn": pay_payee, "payee_id": who.payee},
        )
        for i in range(24)
    ]
    for i, a in enumerate(attempts):
        a.call |= {
            "person_id": who.person,
            "from_account_id": who.a,
            "amount_minor": 300_00,
            "currency": "USD",
            "idempotency_key": f"funds-{i}",
            "now": NOW,
        }
    _race(engine, attempts)
    assert all(isinstance(a.outcome, WriteResult | Refused) for a in attempts)
    done = [a for a in attempts if isinstance(a.outcome, WriteResult)]
    assert len(done) == 3  # 3 x 300.00 fit in 1,000.00; a fourth would overdraw
    assert _balance(engine, who.a) == 1_000_00 - 900_00
    paid = sum(a.call["amount_minor"] for a in done if a.call["fn"] is pay_payee)
    assert _balance(engine, who.b) == 900_00 - paid
