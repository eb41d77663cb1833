"""Ingestion of the canonical formats: every connector, idempotence, crashes, a round trip."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import Connection, Engine, Table, func, select
from sqlmodel import Session, SQLModel
from typer.testing import CliRunner

from app.cli.data import register
from services.db import create_schema, make_engine
from services.identity.keys import hash_national_id
from services.ingest import IngestError, ingest, store
from services.models import CrmContact, DigitalEvent, LedgerEntry, Person, SourceIdentity
from services.settings import get_settings
from services.synth.export import export_bank
from services.synth.writer import seed_bank
from tests.support.ingest_files import AS_OF, counts, csv_rows, exported_bank
from tests.support.servers import fresh_engine

_T = SQLModel.metadata.tables


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small bank exported with some noise."""
    return exported_bank(tmp_path_factory.mktemp("bank"), customers=5, seed=21, noise=0.5)


def _load_all(engine: Engine, out: Path, **kwargs: Any) -> dict[str, Any]:
    return {
        "core-banking": ingest(engine, "core-banking", out / "core_banking", **kwargs),
        "crm": ingest(engine, "crm", out / "crm", **kwargs),
        "events": ingest(engine, "events", out / "digital/events.jsonl", **kwargs),
    }


def test_core_banking_loads_people_accounts_and_transactions(engine: Engine, out: Path) -> None:
    report = ingest(engine, "core-banking", out / "core_banking")
    customers = csv_rows(out / "core_banking/customers.csv")
    accounts = csv_rows(out / "core_banking/accounts.csv")
    transactions = csv_rows(out / "core_banking/transactions.csv")
    assert report.read == report.loaded == len(customers) + len(accounts) + len(transactions)
    assert report.rejected == report.skipped == 0
    assert report.files["transactions"].batches == -(-len(transactions) // 1000)
    n = counts(engine)
    assert (n["person"], n["account"], n["ledger_entry"]) == (
        len(customers),
        len(accounts),
        len(transactions),
    )
    with Session(engine) as session:
        links = session.exec(select(SourceIdentity)).scalars().all()
        assert {(s.system, s.source_key) for s in links} == {
            ("core_banking", c["customer_id"]) for c in customers
        }
        person_of = {s.source_key: s.person_id for s in links}
        for row in customers:
            person = session.get(Person, person_of[row["customer_id"]])
            assert person is not None
            assert person.national_id_hash == hash_national_id(row["national_id"])
            assert person.national_id_last4 == row["national_id"][-4:]
            assert person.phone == row["phone"]
            assert person.full_name == f"{row['first_name']} {row['last_name']}"
            assert str(person.date_of_birth) == row["date_of_birth"]
        entry = session.exec(
            select(LedgerEntry).where(LedgerEntry.source_ref == transactions[0]["transaction_id"])
        ).scalar_one()
        assert entry.booked_at.isoformat().replace("+00:00", "Z") == transactions[0]["booked_at"]
        assert (
            entry.person_id
            == person_of[
                next(
                    a["customer_id"]
                    for a in accounts
                    if a["account_number"] == transactions[0]["account_number"]
                )
            ]
        )


def test_crm_contacts_load_as_typed_and_unlinked(engine: Engine, out: Path) -> None:
    report = ingest(engine, "crm", out / "crm/contacts.json")
    contacts = json.loads((out / "crm/contacts.json").read_text())["contacts"]
    assert report.loaded == len(contacts) and report.rejected == 0
    with Session(engine) as session:
        rows = {c.contact_id: c for c in session.exec(select(CrmContact)).scalars()}
    assert set(rows) == {c["contact_id"] for c in contacts}
    for contact in contacts:
        row = rows[contact["contact_id"]]
        assert row.person_id is None
        assert row.email == (contact["email"].strip() if "email" in contact else None)
        assert row.street == contact["address"]["street"]
        assert row.notes == contact["notes"]
        assert row.core_customer_id == contact.get("core_customer_id")
        if "date_of_birth" in contact:
            dob = contact["date_of_birth"]
            assert row.date_of_birth is not None
            assert dob in (row.date_of_birth.isoformat(), row.date_of_birth.strftime("%m/%d/%Y"))


def test_events_load_and_take_a_person_only_through_a_known_login(
    engine: Engine, out: Path
) -> None:
    lines = (out / "digital/events.jsonl").read_text().splitlines()
    events = [json.loads(line) for line in lines]
    login = next(e["user_id"] for e in events if e["user_id"])
    ingest(engine, "core-banking", out / "core_banking")
    with Session(engine) as session:
        person = session.exec(select(Person.id)).scalars().first()
        assert person is not None
        session.add(SourceIdentity(person_id=person, system="digital", source_key=login))
        session.commit()
    report = ingest(engine, "events", out / "digital")  # the folder works too
    assert report.loaded == len(events) and report.rejected == 0
    with Session(engine) as session:
        rows = session.exec(select(DigitalEvent)).scalars().all()
    assert len(rows) == len(events)
    for row in rows:
        assert row.person_id == (person if row.user_id == login else None)
    assert {r.kind for r in rows} == {e["type"] for e in events}
    assert sum(r.user_id is None for r in rows) == sum(e["user_id"] is None for e in events)


def test_loading_twice_changes_nothing(engine: Engine, out: Path) -> None:
    first = _load_all(engine, out, batch_size=700)
    before = counts(engine)
    second = _load_all(engine, out, batch_size=700)
    assert counts(engine) == before
    for source, report in second.items():
        assert report.loaded == 0, source
        assert report.skipped == report.read == first[source].read


def test_a_crash_mid_batch_leaves_whole_batches_and_a_rerun_completes(
    engine: Engine, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    transactions = csv_rows(out / "core_banking/transactions.csv")
    real = store.insert_rows
    calls = 0

    def crashing(conn: Connection, target: Table, rows: list[dict[str, Any]]) -> None:
        nonlocal calls
        if target.name != "ledger_entry":
            return real(conn, target, rows)
        calls += 1
        if calls == 2:  # batch 2: some rows go in, then the process "dies"
            real(conn, target, rows[:40])
            raise RuntimeError("power cut")
        return real(conn, target, rows)

    monkeypatch.setattr(store, "insert_rows", crashing)
    with pytest.raises(RuntimeError, match="power cut"):
        ingest(engine, "core-banking", out / "core_banking", batch_size=100)
    with engine.connect() as conn:
        refs = set(conn.execute(select(_T["ledger_entry"].c.source_ref)).scalars())
    assert refs == {t["transaction_id"] for t in transactions[:100]}

    monkeypatch.setattr(store, "insert_rows", real)
    report = ingest(engine, "core-banking", out / "core_banking", batch_size=100)
    assert report.files["transactions"].skipped == 100
    assert report.files["transactions"].loaded == len(transactions) - 100
    with engine.connect() as conn:
        ledger = _T["ledger_entry"]
        total = conn.execute(select(func.count()).select_from(ledger)).scalar_one()
        distinct = conn.execute(select(func.count(ledger.c.source_ref.distinct()))).scalar_one()
    assert total == distinct == len(transactions)


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A 20-customer bank exported without noise, and its figures."""
    path = tmp_path_factory.mktemp("round")
    for source in fresh_engine("sqlite", path):
        seed_bank(source, customers=20, seed=9, as_of=AS_OF, workers=2)
        export_bank(source, path / "out", noise=0.0)
        figures = _bank_figures(source)
    return path / "out", figures


def test_round_trip_through_the_core_banking_export(
    engine: Engine, round_trip: tuple[Path, dict[str, Any]]
) -> None:
    out, figures = round_trip
    report = ingest(engine, "core-banking", out / "core_banking")
    assert report.rejected == 0
    assert _bank_figures(engine) == figures


def _bank_figures(engine: Engine) -> dict[str, Any]:
    person, account, ledger = _T["person"], _T["account"], _T["ledger_entry"]
    with engine.connect() as conn:
        balances = dict(conn.execute(select(account.c.number, account.c.balance_minor)).all())
        return {
            "people": conn.execute(select(func.count()).select_from(person)).scalar_one(),
            "accounts": len(balances),
            "entries": conn.execute(select(func.count()).select_from(ledger)).scalar_one(),
            "balances": balances,
            "sum": conn.execute(select(func.sum(ledger.c.amount_minor))).scalar_one(),
            "per_account": dict(
                conn.execute(
                    select(account.c.number, func.sum(ledger.c.amount_minor))
                    .join(ledger, ledger.c.account_id == account.c.id)
                    .group_by(account.c.number)
                ).all()
            ),
            "hashes": sorted(conn.execute(select(person.c.national_id_hash)).scalars()),
        }


def test_missing_files_and_columns_are_errors_before_anything_loads(
    engine: Engine, tmp_path: Path
) -> None:
    with pytest.raises(IngestError, match="none of the core banking files"):
        ingest(engine, "core-banking", tmp_path)
    with pytest.raises(IngestError, match="no such file"):
        ingest(engine, "crm", tmp_path)
    (tmp_path / "customers.csv").write_text("customer_id,first_name\nCB1,Ann\n")
    with pytest.raises(IngestError, match=r"missing column\(s\) last_name"):
        ingest(engine, "core-banking", tmp_path)
    assert counts(engine)["person"] == 0


def test_progress_is_reported_per_batch(engine: Engine, out: Path) -> None:
    seen: list[int] = []
    report = ingest(engine, "events", out / "digital", batch_size=500, progress=seen.append)
    assert len(seen) == report.batches and seen[-1] == report.read
    assert seen == sorted(seen)


# --- the command line ------------------------------------------------------------------------


def _app() -> typer.Typer:
    cli = typer.Typer()

    @cli.callback()
    def _root() -> None:
        """Test app."""

    register(cli)
    return cli


@pytest.fixture
def configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    url = f"sqlite:///{(tmp_path / 'cli.db').as_posix()}"
    monkeypatch.setenv("CONCIERGE_DATABASE_URL", url)
    monkeypatch.setenv("CONCIERGE_VAR_DIR", str(tmp_path))
    get_settings.cache_clear()
    eng = make_engine(url)
    create_schema(eng)
    yield eng
    eng.dispose()


def test_cli_ingest_json_prints_the_report(configured: Engine, out: Path) -> None:
    runner = CliRunner()
    args = ["ingest", "core-banking", str(out / "core_banking"), "--batch-size", "2000", "--json"]
    result = runner.invoke(_app(), args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["source"] == "core-banking"
    assert report["loaded"] == report["read"] > 0
    assert report["rejected"] == 0
    assert set(report["files"]) == {"customers", "accounts", "transactions"}
    again = runner.invoke(_app(), args)
    assert json.loads(again.stdout)["skipped"] == report["read"]
    plain = runner.invoke(_app(), ["ingest", "crm", str(out / "crm")])
    assert plain.exit_code == 0, plain.output
    assert "contacts" in plain.stdout


def test_cli_ingest_errors(configured: Engine, out: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    bad = tmp_path / "bad.yaml"
    bad.write_text("source: crm\nfields: {contacts: {nom: x}}\n")
    result = runner.invoke(_app(), ["ingest", "crm", str(out / "crm"), "--mapping", str(bad)])
    assert result.exit_code == 2
    assert "fields.contacts.nom: not a canonical field" in result.stderr
    other = tmp_path / "events.yaml"
    other.write_text("source: events\n")
    result = runner.invoke(_app(), ["ingest", "crm", str(out / "crm"), "--mapping", str(other)])
    assert result.exit_code == 2 and "for events, not crm" in result.stderr
    result = runner.invoke(_app(), ["ingest", "core-banking", str(tmp_path)])
    assert result.exit_code == 1 and "none of the core banking files" in result.stderr
    result = runner.invoke(_app(), ["ingest", "ledger", str(tmp_path)])
    assert result.exit_code == 2
    result = runner.invoke(_app(), ["ingest", "crm", str(tmp_path / "missing.json")])
    assert result.exit_code == 2
