"""`export_bank` writes the seeded bank in the canonical formats, repeatably, with its truth."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import Engine, func, select
from sqlmodel import Session
from typer.testing import CliRunner

from app.cli.data import register
from services.db import create_schema, make_engine
from services.identity.keys import hash_national_id, normalise_phone
from services.models import Account, DigitalEvent, LedgerEntry, Person
from services.money import to_minor
from services.settings import get_settings
from services.synth.export import (
    ACCOUNT_COLUMNS,
    CUSTOMER_COLUMNS,
    FILES,
    TRANSACTION_COLUMNS,
    NoBankError,
    export_bank,
)
from services.synth.writer import seed_bank
from tests.support.servers import fresh_engine

AS_OF = date(2026, 11, 28)
SMALL, SEED = 6, 21


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as f:
        return next(csv.reader(f))


def _contacts(out: Path) -> list[dict[str, Any]]:
    return json.loads((out / "crm/contacts.json").read_text(encoding="utf-8"))["contacts"]


def _events(out: Path) -> list[dict[str, Any]]:
    with (out / "digital/events.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def _truth(out: Path) -> dict[str, Any]:
    return json.loads((out / "truth.json").read_text(encoding="utf-8"))


def _files(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in FILES}


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    seed_bank(engine, customers=SMALL, seed=SEED, as_of=AS_OF, workers=1)
    return engine


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory) -> dict[float, Path]:
    """A bigger bank (SQLite only) exported at three noise levels, for shares of records."""
    path = tmp_path_factory.mktemp("wide")
    for eng in fresh_engine("sqlite", path):
        seed_bank(eng, customers=40, seed=4, as_of=AS_OF, workers=2)
        for level in (0.0, 0.3, 1.0):
            export_bank(eng, path / str(level), noise=level)
    return {level: path / str(level) for level in (0.0, 0.3, 1.0)}


def test_core_banking_files_are_the_bank_in_canonical_form(seeded: Engine, tmp_path: Path) -> None:
    stats = export_bank(seeded, tmp_path, noise=0.3)
    assert stats.files == list(FILES)
    customers = _csv(tmp_path / "core_banking/customers.csv")
    accounts = _csv(tmp_path / "core_banking/accounts.csv")
    transactions = _csv(tmp_path / "core_banking/transactions.csv")
    assert _header(tmp_path / "core_banking/customers.csv") == CUSTOMER_COLUMNS
    assert _header(tmp_path / "core_banking/accounts.csv") == ACCOUNT_COLUMNS
    assert _header(tmp_path / "core_banking/transactions.csv") == TRANSACTION_COLUMNS
    with Session(seeded) as session:
        people = {p.id: p for p in session.exec(select(Person)).scalars()}
        numbers = {a.number: a for a in session.exec(select(Account)).scalars()}
        ledger = session.exec(select(func.count()).select_from(LedgerEntry)).scalar_one()
        events = session.exec(select(func.count()).select_from(DigitalEvent)).scalar_one()
    assert stats.rows["core_banking/customers.csv"] == len(customers) == len(people)
    assert stats.rows["core_banking/accounts.csv"] == len(accounts) == len(numbers)
    assert stats.rows["core_banking/transactions.csv"] == len(transactions) == ledger
    assert stats.rows["digital/events.jsonl"] == len(_events(tmp_path)) == events
    for row in customers:
        person = people[int(row["customer_id"][2:])]
        assert row["customer_id"] == f"CB{person.id:08d}"
        assert hash_national_id(row["national_id"]) == person.national_id_hash
        assert row["national_id"].endswith(person.national_id_last4 or "?")
        assert normalise_phone(row["phone"]) == row["phone"] == person.phone
        assert row["date_of_birth"] == str(person.date_of_birth)
        assert row["is_business"] in ("true", "false")
    for row in accounts:
        account = numbers[row["account_number"]]
        assert to_minor(row["balance"], row["currency"]) == account.balance_minor
        assert row["customer_id"] == f"CB{account.person_id:08d}"
    first = transactions[0]
    assert first["transaction_id"] == "T000000000001"
    assert first["booked_at"].endswith("Z") and "T" in first["booked_at"]
    assert "." in first["amount"] and first["account_number"] in numbers


def test_events_carry_the_login_only_after_sign_in(seeded: Engine, tmp_path: Path) -> None:
    export_bank(seeded, tmp_path, noise=0.3)
    events = _events(tmp_path)
    with Session(seeded) as session:
        person_of = dict(session.exec(select(DigitalEvent.id, DigitalEvent.person_id)).all())
    truth = _truth(tmp_path)["records"]
    assert events[0]["event_id"] == "E000000000001"
    for event in events:
        person = person_of[int(event["event_id"][1:])]
        if person is None:
            assert event["user_id"] is None
        else:
            assert truth[f"digital:{event['user_id']}"] == person
        assert event["occurred_at"].endswith("Z")
        assert set(event) == {
            "event_id",
            "device_id",
            "session_id",
            "occurred_at",
            "channel",
            "type",
            "page",
            "detail",
            "user_id",
        }
    assert any(e["user_id"] is None for e in events)


def test_same_bank_and_noise_give_identical_files(seeded: Engine, tmp_path: Path) -> None:
    export_bank(seeded, tmp_path / "a", noise=0.6)
    export_bank(seeded, tmp_path / "b", noise=0.6)
    export_bank(seeded, tmp_path / "c", noise=0.0)
    a, b, c = _files(tmp_path / "a"), _files(tmp_path / "b"), _files(tmp_path / "c")
    assert a == b
    assert {name for name in a if a[name] != c[name]} >= {"crm/contacts.json", "truth.json"}
    assert a["core_banking/transactions.csv"] == c["core_banking/transactions.csv"]


def test_sqlite_and_postgres_export_the_same_files(tmp_path: Path) -> None:
    exported = []
    for backend in ("sqlite", "postgres"):
        for eng in fresh_engine(backend, tmp_path / backend):
            seed_bank(eng, customers=SMALL, seed=SEED, as_of=AS_OF, workers=1)
            export_bank(eng, tmp_path / f"out-{backend}", noise=0.5)
            exported.append(_files(tmp_path / f"out-{backend}"))
    assert exported[0] == exported[1]


def test_truth_names_every_record_and_agrees_with_cross_references(
    wide: dict[float, Path],
) -> None:
    tmp_path = wide[1.0]
    truth = _truth(tmp_path)
    assert truth["noise"] == 1.0 and truth["seed"] == 4
    records = truth["records"]
    customers = _csv(tmp_path / "core_banking/customers.csv")
    contacts = _contacts(tmp_path)
    logins = {e["user_id"] for e in _events(tmp_path) if e["user_id"]}
    expected = (
        {f"core:{c['customer_id']}" for c in customers}
        | {f"crm:{c['contact_id']}" for c in contacts}
        | {f"digital:{u}" for u in logins}
    )
    assert set(records) == expected
    assert len({c["contact_id"] for c in contacts}) == len(contacts)
    email = {int(c["customer_id"][2:]): c["email"] for c in customers}
    prospects = [c for c in contacts if isinstance(records[f"crm:{c['contact_id']}"], str)]
    assert prospects and all("core_customer_id" not in c for c in prospects)
    assert sorted(records[f"crm:{c['contact_id']}"] for c in prospects) == [
        f"prospect-{n}" for n in range(1, len(prospects) + 1)
    ]
    for contact in contacts:
        if "core_customer_id" in contact:
            assert (
                records[f"core:{contact['core_customer_id']}"]
                == records[f"crm:{contact['contact_id']}"]
            )
    older = 0
    for login in logins:
        person = records[f"digital:{login}"]
        if login != email[person]:
            older += 1  # an older address: the CRM is the only other place it may appear
    assert older > 0
    per_person: dict[Any, int] = {}
    for contact in contacts:
        who = records[f"crm:{contact['contact_id']}"]
        per_person[who] = per_person.get(who, 0) + 1
    assert max(per_person.values()) == 2  # some duplicates
    assert len([p for p in per_person if isinstance(p, int)]) == len(customers)


def test_without_noise_the_crm_matches_core_on_names_email_and_birth(
    wide: dict[float, Path],
) -> None:
    tmp_path = wide[0.0]
    customers = {c["customer_id"]: c for c in _csv(tmp_path / "core_banking/customers.csv")}
    records = _truth(tmp_path)["records"]
    contacts = [
        c for c in _contacts(tmp_path) if isinstance(records[f"crm:{c['contact_id']}"], int)
    ]
    assert len(contacts) == len(customers)  # no duplicates
    linked = 0
    for contact in contacts:
        who = records["crm:" + contact["contact_id"]]
        core = customers[f"CB{who:08d}"]
        assert (contact["first_name"], contact["last_name"]) == (
            core["first_name"],
            core["last_name"],
        )
        assert contact["email"] == core["email"]
        assert normalise_phone(contact["phone"]) == core["phone"]
        dob = contact["date_of_birth"]
        assert (
            dob == core["date_of_birth"]
            or dob[6:] + "-" + dob[:2] + "-" + dob[3:5] == core["date_of_birth"]
        )
        linked += "core_customer_id" in contact
    assert 0.35 * len(contacts) < linked < 0.85 * len(contacts)  # about 60 %
    logins = {e["user_id"] for e in _events(tmp_path) if e["user_id"]}
    assert logins <= {c["email"] for c in customers.values()}


def test_more_noise_more_disagreement(wide: dict[float, Path]) -> None:
    def disagreements(level: float) -> int:
        out = wide[level]
        customers = {c["customer_id"]: c for c in _csv(out / "core_banking/customers.csv")}
        records = _truth(out)["records"]
        count = 0
        for contact in _contacts(out):
            who = records[f"crm:{contact['contact_id']}"]
            if isinstance(who, int):
                core = customers[f"CB{who:08d}"]
                count += contact["first_name"] != core["first_name"]
                count += contact["last_name"] != core["last_name"]
                count += contact.get("email") != core["email"]
        return count

    assert disagreements(0.0) == 0 < disagreements(0.3) < disagreements(1.0)


def test_export_refuses_a_database_without_a_bank(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(NoBankError):
        export_bank(engine, tmp_path)
    with pytest.raises(ValueError, match="noise"):
        export_bank(engine, tmp_path, noise=1.5)


def test_progress_reaches_the_total(seeded: Engine, tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    export_bank(seeded, tmp_path, progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1][0] == calls[-1][1]
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


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
    url = f"sqlite:///{(tmp_path / 'bank.db').as_posix()}"
    monkeypatch.setenv("CONCIERGE_DATABASE_URL", url)
    monkeypatch.setenv("CONCIERGE_VAR_DIR", str(tmp_path))
    get_settings.cache_clear()
    eng = make_engine(url)
    create_schema(eng)
    yield eng
    eng.dispose()


def test_cli_export_json(configured: Engine, tmp_path: Path) -> None:
    seed_bank(configured, customers=3, seed=2, as_of=AS_OF, workers=1)
    out = tmp_path / "out"
    result = CliRunner().invoke(_app(), ["export", "--out", str(out), "--noise", "0.2", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["noise"] == 0.2 and summary["out"] == str(out)
    assert summary["rows"]["core_banking/customers.csv"] == 3
    assert summary["total_rows"] == sum(summary["rows"].values())
    assert (out / "truth.json").is_file()


def test_cli_export_without_a_bank_fails_clearly(configured: Engine, tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(), ["export", "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "holds no bank" in result.stderr and "concierge seed" in result.stderr
    bad = CliRunner().invoke(_app(), ["export", "--out", str(tmp_path), "--noise", "2"])
    assert bad.exit_code == 2
