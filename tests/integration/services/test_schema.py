"""The system of record behaves the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session, select

from services.db import bank_state, is_seeded
from services.models import Account, AuditLog, LedgerEntry, Person, SourceIdentity
from services.synth.writer import seed_bank
from tests.support.servers import fresh_engine


def _person(session: Session, name: str = "Maya Patel") -> Person:
    first, last = name.split()
    person = Person(full_name=name, first_name=first, last_name=last)
    session.add(person)
    session.commit()
    session.refresh(person)
    return person


def test_money_is_exact_integer_minor_units(engine: Engine) -> None:
    huge = 9_000_000_000_000_000  # beyond 32 bits and beyond a float's exact integers
    with Session(engine) as session:
        person = _person(session)
        account = Account(
            person_id=person.id,
            type="checking",
            name="Everyday",
            number="1",
            opened_on=date(2020, 1, 1),
            balance_minor=huge + 1,
        )
        session.add(account)
        session.commit()
        session.refresh(account)
        assert account.balance_minor == huge + 1
        assert isinstance(account.balance_minor, int)


def test_times_come_back_as_the_same_utc_instant(engine: Engine) -> None:
    booked = datetime(2026, 3, 2, 10, 0, tzinfo=timezone(timedelta(hours=-5)))
    with Session(engine) as session:
        person = _person(session)
        account = Account(
            person_id=person.id, type="checking", name="E", number="1", opened_on=date(2020, 1, 1)
        )
        session.add(account)
        session.commit()
        entry = LedgerEntry(
            account_id=account.id,
            person_id=person.id,
            booked_at=booked,
            amount_minor=-420,
            category="dining",
            channel="card",
        )
        session.add(entry)
        session.commit()
        stored = session.exec(select(LedgerEntry)).one()
        assert stored.booked_at == booked
        assert stored.booked_at.utcoffset() == timedelta(0)


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(
            LedgerEntry(
                account_id=999,
                person_id=999,
                booked_at=datetime.now(UTC),
                amount_minor=1,
                category="x",
                channel="card",
            )
        )
        with pytest.raises(IntegrityError):
            session.commit()


def test_a_source_key_belongs_to_one_person(engine: Engine) -> None:
    with Session(engine) as session:
        a, b = _person(session, "Ann Lee"), _person(session, "Bob Ray")
        session.add(SourceIdentity(person_id=a.id, system="crm", source_key="C-1"))
        session.commit()
        session.add(SourceIdentity(person_id=b.id, system="crm", source_key="C-1"))
        with pytest.raises(IntegrityError):
            session.commit()


def test_the_audit_log_is_append_only(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(
            AuditLog(actor="customer:1", action="sign_in", resource="session", outcome="success")
        )
        session.commit()
    for statement in ("UPDATE audit_log SET outcome = 'failure'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT outcome FROM audit_log")).scalars().all() == ["success"]


def test_a_seeded_bank_accepts_new_rows_after_its_own(engine: Engine) -> None:
    assert bank_state(engine) == "empty"
    seed_bank(engine, customers=3, seed=1, as_of=date(2026, 11, 28), workers=1)
    assert bank_state(engine) == "complete" and is_seeded(engine)
    with Session(engine) as session:
        person = _person(session, "New Customer")
        assert person.id == 4
        account = Account(
            person_id=person.id, type="savings", name="S", number="2", opened_on=date(2026, 11, 28)
        )
        session.add(account)
        session.commit()
        assert account.id is not None


def test_seeding_refuses_nonsense(engine: Engine) -> None:
    with pytest.raises(ValueError, match="customers"):
        seed_bank(engine, customers=0, seed=1, as_of=date(2026, 11, 28))
    with pytest.raises(ValueError, match="workers"):
        seed_bank(engine, customers=2, seed=1, as_of=date(2026, 11, 28), workers=0)
    assert bank_state(engine) == "empty"


def test_an_index_declared_after_a_table_was_made_is_added_when_the_schema_is_opened(
    engine: Engine,
) -> None:
    from sqlalchemy import inspect

    from services.db import create_schema

    def names() -> set[str]:
        return {i["name"] for i in inspect(engine).get_indexes("digital_event")}

    assert "ix_event_person_id" in names()
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_event_person_id"))  # a database made before it
    assert "ix_event_person_id" not in names()
    create_schema(engine)
    assert "ix_event_person_id" in names()
    create_schema(engine)  # idempotent


def test_a_customers_newest_event_is_found_without_walking_their_events(tmp_path: Path) -> None:
    # read with SQLite's EXPLAIN QUERY PLAN (before the index, it walked the time index)
    from services.db import create_schema

    for engine in fresh_engine("sqlite", tmp_path):
        create_schema(engine)
        with engine.connect() as conn:
            plan = " ".join(
                str(row[-1])
                for row in conn.execute(
                    text("EXPLAIN QUERY PLAN SELECT max(id) FROM digital_event WHERE person_id = 1")
                )
            )
        assert "ix_event_person_id" in plan, plan
