"""Booking transactions: each entry once, balances chained in the order they happened."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, text
from sqlmodel import Session

from services.events import Event
from services.features.live import book_events
from services.models import Account, Person

AT = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _people(engine: Engine) -> tuple[int, int, int]:
    with Session(engine) as s:
        a, b = (
            Person(full_name="A A", first_name="A", last_name="A"),
            Person(full_name="B B", first_name="B", last_name="B"),
        )
        s.add_all([a, b])
        s.flush()
        mine = Account(
            person_id=a.id,
            type="checking",
            name="Main",
            number="N1",
            balance_minor=10_000,
            opened_on=date(2020, 1, 1),
        )
        theirs = Account(
            person_id=b.id,
            type="checking",
            name="Main",
            number="N2",
            balance_minor=5_000,
            opened_on=date(2020, 1, 1),
        )
        s.add_all([mine, theirs])
        s.commit()
        return int(a.id), int(mine.id), int(theirs.id)  # type: ignore[arg-type]


def _tx(pid: int, account: int, minor: int, n: int, **kw: object) -> Event:
    data = {
        "account_id": account,
        "amount_minor": minor,
        "currency": "USD",
        "category": "shopping",
        "channel": "card",
        **kw,
    }
    return Event(
        id=f"b-{n}",
        type="transaction",
        person_id=pid,
        occurred_at=AT + timedelta(minutes=n),
        data=data,
    )


def test_a_batch_books_each_entry_once_and_chains_the_balance(engine: Engine) -> None:
    pid, mine, theirs = _people(engine)
    batch = [
        _tx(pid, mine, -2_500, 3),
        _tx(pid, mine, -1_000, 1),
        _tx(pid, mine, 40_000, 2, balance_after_minor=49_000),  # core banking's own figure
        _tx(pid, mine, -1_000, 1),  # the same event twice in one batch
        _tx(pid, theirs, -100, 4),  # not this customer's account: not booked
        _tx(pid, mine, -100, 5, currency="EUR"),  # another currency: not booked
    ]
    assert book_events(engine, batch) == 3
    assert book_events(engine, batch) == 0  # delivered again: nothing moves twice
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT amount_minor, balance_after_minor FROM ledger_entry "
                "WHERE account_id = :a ORDER BY booked_at"
            ),
            {"a": mine},
        ).all()
        balances = dict(conn.execute(text("SELECT id, balance_minor FROM account")).all())
    # in the order they happened: 10,000 - 1,000 = 9,000; then set to 49,000; then - 2,500
    assert [tuple(r) for r in rows] == [(-1_000, 9_000), (40_000, 49_000), (-2_500, 46_500)]
    assert balances[mine] == 46_500 and balances[theirs] == 5_000
