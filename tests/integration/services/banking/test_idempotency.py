"""Idempotency keys as payment APIs keep them: the first result for a day at least, then purged.

The clock is fixed: every write and purge is given its ``now``.
``tests/integration/services/banking/test_writes.py`` covers replays and conflicts of every
write kind at one moment; these are
about time: a retry just inside the retention still replays, a purge takes only expired keys,
and no setting can make the retention shorter than 24 hours.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine, text
from sqlmodel import Session

from services.banking import (
    DEFAULT_RETENTION,
    MIN_RETENTION,
    IdempotencyConflict,
    WriteResult,
    pay_payee,
    purge_write_requests,
    transfer,
)
from services.models import Account, Payee, Person
from services.settings import Settings

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
SHORT = timedelta(hours=48)  # a retention a bank may configure, short enough to reason about


@pytest.fixture
def ids(engine: Engine) -> dict[str, int]:
    with Session(engine) as s:
        person = Person(full_name="Kay Keys", first_name="Kay", last_name="Keys")
        s.add(person)
        s.flush()
        assert person.id is not None
        a = Account(
            person_id=person.id,
            type="checking",
            name="Everyday",
            number="000111222333",
            balance_minor=5_000_00,
            opened_on=date(2020, 1, 1),
        )
        b = Account(
            person_id=person.id,
            type="savings",
            name="Rainy",
            number="000111222444",
            balance_minor=0,
            opened_on=date(2020, 1, 1),
        )
        payee = Payee(person_id=person.id, name="Tom Baker", kind="person", account_number="9")
        s.add_all([a, b, payee])
        s.commit()
        assert a.id and b.id and payee.id
        return {"person": person.id, "a": a.id, "b": b.id, "payee": payee.id}


def _move(engine: Engine, ids: dict[str, int], *, key: str, now: datetime, amount: int = 100_00):
    with engine.begin() as conn:
        return transfer(
            conn,
            person_id=ids["person"],
            from_account_id=ids["a"],
            to_account_id=ids["b"],
            amount_minor=amount,
            currency="USD",
            idempotency_key=key,
            now=now,
        )


def _purge(engine: Engine, now: datetime, retention: timedelta = DEFAULT_RETENTION) -> int:
    with engine.begin() as conn:
        return purge_write_requests(conn, now=now, retention=retention)


def _count(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def _keys(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return {r[0] for r in conn.execute(text("SELECT idempotency_key FROM write_request"))}


def test_a_retry_a_minute_short_of_a_day_replays_the_first_result(
    engine: Engine, ids: dict[str, int]
) -> None:
    first = _move(engine, ids, key="k1", now=T0)
    late = T0 + timedelta(hours=23, minutes=59)
    # Even the shortest retention a bank may configure keeps the key that long.
    assert _purge(engine, late, MIN_RETENTION) == 0
    again = _move(engine, ids, key="k1", now=late)
    assert isinstance(again, WriteResult) and again.replayed
    assert (again.summary, again.reference) == (first.summary, first.reference)
    assert again.ids == first.ids
    assert _count(engine, "SELECT count(*) FROM ledger_entry") == 2  # booked once
    # The same key for something else is still an error, not a second write.
    with pytest.raises(IdempotencyConflict, match="different request"):
        _move(engine, ids, key="k1", now=late, amount=100_01)
    with pytest.raises(IdempotencyConflict, match="different request"):
        with engine.begin() as conn:
            pay_payee(
                conn,
                person_id=ids["person"],
                from_account_id=ids["a"],
                payee_id=ids["payee"],
                amount_minor=100_00,
                currency="USD",
                idempotency_key="k1",
                now=late,
            )
    assert _count(engine, "SELECT count(*) FROM ledger_entry") == 2


def test_a_purge_takes_only_expired_keys(engine: Engine, ids: dict[str, int]) -> None:
    _move(engine, ids, key="old", now=T0)
    _move(engine, ids, key="edge", now=T0 + timedelta(hours=1))
    _move(engine, ids, key="new", now=T0 + timedelta(hours=30))
    entries = _count(engine, "SELECT count(*) FROM ledger_entry")
    audits = _count(engine, "SELECT count(*) FROM audit_log")

    # At exactly 48 h the oldest key is at the edge of its retention: it stays.
    assert _purge(engine, T0 + SHORT, SHORT) == 0
    assert _move(engine, ids, key="old", now=T0 + SHORT).replayed

    assert _purge(engine, T0 + SHORT + timedelta(seconds=1), SHORT) == 1
    assert _keys(engine) == {"edge", "new"}
    assert _move(engine, ids, key="edge", now=T0 + timedelta(hours=49)).replayed
    # The history stays: a purge removes replay records, never money or the audit trail.
    assert _count(engine, "SELECT count(*) FROM ledger_entry") == entries
    assert _count(engine, "SELECT count(*) FROM audit_log") == audits

    # An expired key is free again, as with payment APIs: it runs as a new request.
    reused = _move(engine, ids, key="old", now=T0 + timedelta(hours=50), amount=1_00)
    assert not reused.replayed
    assert _purge(engine, T0 + timedelta(hours=78, seconds=1), SHORT) == 2  # "edge" and "new"
    assert _keys(engine) == {"old"}


def test_by_default_a_key_replays_for_30_days(engine: Engine, ids: dict[str, int]) -> None:
    _move(engine, ids, key="k", now=T0)
    assert _purge(engine, T0 + timedelta(days=30)) == 0
    assert _move(engine, ids, key="k", now=T0 + timedelta(days=30)).replayed
    assert _purge(engine, T0 + timedelta(days=30, seconds=1)) == 1


def test_no_retention_under_a_day(engine: Engine, ids: dict[str, int]) -> None:
    _move(engine, ids, key="k", now=T0)
    with pytest.raises(ValueError, match="at least"):
        _purge(engine, T0 + timedelta(days=30), timedelta(hours=23, minutes=59))
    with pytest.raises(ValueError, match="timezone-aware"):
        _purge(engine, datetime(2026, 4, 1))
    assert _keys(engine) == {"k"}


def test_the_retention_setting_defaults_to_30_days_and_refuses_less_than_24_hours(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CONCIERGE_IDEMPOTENCY_RETENTION_HOURS", raising=False)
    settings = Settings(_env_file=None)
    # long enough for the advisor summary's 30 days of "done for the customer"
    assert timedelta(hours=settings.idempotency_retention_hours) == timedelta(days=30)
    # the purge's own default and floor are the setting's
    assert DEFAULT_RETENTION == timedelta(hours=settings.idempotency_retention_hours)
    assert MIN_RETENTION == timedelta(hours=24)
    monkeypatch.setenv("CONCIERGE_IDEMPOTENCY_RETENTION_HOURS", "23")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)
    monkeypatch.setenv("CONCIERGE_IDEMPOTENCY_RETENTION_HOURS", "72")
    assert Settings(_env_file=None).idempotency_retention_hours == 72


def test_the_app_purges_expired_keys_when_it_starts(tmp_path) -> None:
    from fastapi.testclient import TestClient

    from app.main import create_app
    from services.models import WriteRequest

    settings = Settings(
        _env_file=None,
        var_dir=tmp_path,
        database_url=f"sqlite:///{(tmp_path / 'bank.db').as_posix()}",
        idempotency_retention_hours=24,
    )
    app = create_app(settings)
    with TestClient(app):
        engine = app.state.engine
        now = datetime.now(UTC)
        with Session(engine) as session:
            person = Person(full_name="Pat Purge", first_name="Pat", last_name="Purge")
            session.add(person)
            session.flush()
            assert person.id is not None
            for key, age in (("old", timedelta(days=3)), ("new", timedelta(hours=1))):
                session.add(
                    WriteRequest(
                        person_id=person.id,
                        idempotency_key=key,
                        kind="transfer",
                        request_hash="x" * 64,
                        created_at=now - age,
                    )
                )
            session.commit()
    again = create_app(settings)
    with TestClient(again):
        assert _keys(again.state.engine) == {"new"}
