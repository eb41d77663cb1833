"""Malformed rows go to ingest_reject (source, file, line, reason, raw) while good rows load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session

from services.ingest import ingest
from services.models import Account, CrmContact, DigitalEvent, IngestReject, LedgerEntry, Person
from tests.support.ingest_files import counts, write_csv

CUSTOMERS = (
    "customer_id first_name last_name date_of_birth national_id email phone address_line city "
    "postal_code country segment customer_since is_business"
).split()
ACCOUNTS = (
    "account_number customer_id type name currency balance status opened_on credit_limit "
    "overdraft_limit interest_rate_bps maturity_date term_months risk_tolerance"
).split()
TRANSACTIONS = (
    "transaction_id account_number booked_at amount currency merchant category channel "
    "counterparty description balance_after"
).split()


def _customer(cid: str, first: str, last: str, dob: str = "1985-12-10", nid: str = "") -> list[str]:
    row = dict.fromkeys(CUSTOMERS, "")
    row |= {"customer_id": cid, "first_name": first, "last_name": last, "date_of_birth": dob}
    row |= {"national_id": nid, "phone": "(202) 555-0101", "country": "US", "is_business": "false"}
    return [row[c] for c in CUSTOMERS]


def _account(number: str, cid: str, kind: str, currency: str, balance: str) -> list[str]:
    row = dict.fromkeys(ACCOUNTS, "")
    row |= {"account_number": number, "customer_id": cid, "type": kind, "currency": currency}
    row |= {"balance": balance, "opened_on": "2020-01-01"}
    return [row[c] for c in ACCOUNTS]


def _txn(tid: str, number: str, at: str, amount: str, currency: str = "USD") -> list[str]:
    row = dict.fromkeys(TRANSACTIONS, "")
    row |= {"transaction_id": tid, "account_number": number, "booked_at": at, "amount": amount}
    row |= {"currency": currency, "category": "dining", "channel": "card", "balance_after": "0"}
    return [row[c] for c in TRANSACTIONS]


AT = "2026-03-02T10:00:00Z"


@pytest.fixture
def bad_core(tmp_path: Path) -> Path:
    folder = tmp_path / "core"
    write_csv(
        folder / "customers.csv",
        CUSTOMERS,
        [
            _customer("CB1", "Ada", "Lovelace", nid="123-45-6789"),  # line 2
            _customer("CB2", "Bad", "Date", dob="1985-13-40"),  # line 3
            _customer("", "No", "Key"),  # line 4
            _customer("CB3", "Alan", "Turing"),  # line 5
            _customer("CB4", "Bad", "Id", nid="12-34"),  # line 6
            _customer("CB1", "Ada", "Again"),  # line 7
        ],
    )
    with (folder / "customers.csv").open("a", encoding="utf-8") as f:
        f.write("CB5,Short,Row\n")  # line 8
    write_csv(
        folder / "accounts.csv",
        ACCOUNTS,
        [
            _account("A1", "CB1", "checking", "USD", "1234.50"),  # line 2
            _account("A2", "CB9", "savings", "USD", "10.00"),  # line 3: unknown customer
            _account("A3", "CB1", "savings", "USD", "ten"),  # line 4
            _account("A4", "CB3", "checking", "XYZ", "1.00"),  # line 5
            _account("A5", "CB3", "savings", "USD", "1.005"),  # line 6
            _account("A6", "CB3", "vault", "USD", "1.00"),  # line 7
            _account("A7", "CB2", "checking", "USD", "1.00"),  # line 8: its customer was rejected
            _account("A8", "CB3", "savings", "usd", "-0.50"),  # line 9: fine
        ],
    )
    write_csv(
        folder / "transactions.csv",
        TRANSACTIONS,
        [
            _txn("T1", "A1", AT, "-4.20"),  # line 2
            _txn("T2", "A9", AT, "-1.00"),  # line 3
            _txn("T3", "A1", "yesterday", "-1.00"),  # line 4
            _txn("T4", "A1", AT, "abc"),  # line 5
            _txn("T1", "A1", AT, "-4.20"),  # line 6: duplicate
            _txn("T5", "A1", AT, "-2.00", currency="EUR"),  # line 7
            _txn("T6", "A1", "2026-03-02T11:00:00+01:00", "-2.00", currency=""),  # line 8: fine
            _txn("", "A1", AT, "-2.00"),  # line 9
        ],
    )
    return folder


def _rejects(engine: Engine, source: str) -> dict[tuple[str, int], str]:
    with Session(engine) as session:
        rows = session.exec(select(IngestReject).where(IngestReject.source == source)).scalars()
        return {(Path(r.file).name, r.line): r.reason for r in rows}


def test_core_banking_rejects_with_file_line_and_reason(engine: Engine, bad_core: Path) -> None:
    report = ingest(engine, "core-banking", bad_core)
    rejects = _rejects(engine, "core-banking")
    expected = {
        ("customers.csv", 3): "date_of_birth: '1985-13-40' is not a date",
        ("customers.csv", 4): "missing customer_id",
        ("customers.csv", 6): "national_id: expected nine digits",
        ("customers.csv", 7): "duplicate customer_id 'CB1' (first on line 2)",
        ("customers.csv", 8): "expected 14 fields, got 3",
        ("accounts.csv", 3): "unknown customer_id 'CB9'",
        ("accounts.csv", 4): "balance: 'ten' is not an amount",
        ("accounts.csv", 5): "currency: unknown currency 'XYZ'",
        ("accounts.csv", 6): "balance: '1.005' has more decimals than USD allows",
        ("accounts.csv", 7): "type: 'vault' is not an account type",
        ("accounts.csv", 8): "unknown customer_id 'CB2'",
        ("transactions.csv", 3): "unknown account_number 'A9'",
        ("transactions.csv", 4): "booked_at: 'yesterday' is not a timestamp",
        ("transactions.csv", 5): "amount: 'abc' is not an amount",
        ("transactions.csv", 6): "duplicate transaction_id 'T1' (first on line 2)",
        ("transactions.csv", 7): "currency: EUR differs from account A1's USD",
        ("transactions.csv", 9): "missing transaction_id",
    }
    assert set(rejects) == set(expected)
    for where, reason in expected.items():
        assert rejects[where].startswith(reason), (where, rejects[where])
    assert report.rejected == len(expected)
    assert (report.loaded, report.read) == (2 + 2 + 2, 7 + 8 + 8)
    with Session(engine) as session:
        assert sorted(session.exec(select(Person.last_name)).scalars()) == ["Lovelace", "Turing"]
        accounts = {a.number: a for a in session.exec(select(Account)).scalars()}
        assert {n: a.balance_minor for n, a in accounts.items()} == {"A1": 123450, "A8": -50}
        assert accounts["A8"].currency == "USD"
        entries = {e.source_ref: e for e in session.exec(select(LedgerEntry)).scalars()}
        assert set(entries) == {"T1", "T6"}
        assert entries["T6"].currency == "USD" and entries["T6"].amount_minor == -200
        raw = session.exec(select(IngestReject.raw).where(IngestReject.line == 8)).scalars().all()
        assert "CB5,Short,Row" in raw


def test_reloading_a_bad_file_adds_no_reject_twice(engine: Engine, bad_core: Path) -> None:
    ingest(engine, "core-banking", bad_core)
    before = counts(engine)
    again = ingest(engine, "core-banking", bad_core)
    assert counts(engine) == before
    assert again.loaded == 0 and again.rejected == before["ingest_reject"]
    assert again.skipped == 6


def test_a_key_repeated_in_a_later_batch_is_already_loaded(engine: Engine, bad_core: Path) -> None:
    report = ingest(engine, "core-banking", bad_core, batch_size=3)
    # Customer CB1 (lines 2 and 7) and transaction T1 (lines 2 and 6) fall in different batches.
    assert report.files["customers"].skipped == 1
    assert report.files["transactions"].skipped == 1
    rejects = _rejects(engine, "core-banking")
    assert ("customers.csv", 7) not in rejects and ("transactions.csv", 6) not in rejects
    with Session(engine) as session:
        names = session.exec(select(Person.last_name).order_by(Person.last_name)).scalars().all()
    assert names == ["Lovelace", "Turing"]  # the first CB1 stands


def test_broken_events_and_contacts_are_rejected_and_the_rest_load(
    engine: Engine, tmp_path: Path
) -> None:
    good = {
        "device_id": "D1",
        "session_id": "S1",
        "occurred_at": AT,
        "channel": "web",
        "type": "page_view",
        "page": "/",
        "detail": None,
        "user_id": None,
    }
    lines = [
        json.dumps({"event_id": "E1", **good}),
        '{"event_id": "E2", "device_id": ',  # broken JSON
        json.dumps({"event_id": "E3", **good, "occurred_at": "soon"}),
        json.dumps({**good}),  # no event id
        json.dumps({"event_id": "E5", **good, "detail": {"offer": "x"}}),  # structured detail
        json.dumps({"event_id": "E6", **good, "page": "/" + "p" * 200}),  # too long
    ]
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = ingest(engine, "events", events)
    assert (report.read, report.loaded, report.rejected) == (6, 2, 4)
    rejects = _rejects(engine, "events")
    assert rejects[("events.jsonl", 2)].startswith("broken JSON")
    assert rejects[("events.jsonl", 3)].startswith("occurred_at: 'soon' is not a timestamp")
    assert rejects[("events.jsonl", 4)] == "missing event_id"
    assert rejects[("events.jsonl", 6)] == "page: longer than 100 characters"
    with Session(engine) as session:
        detail = session.exec(
            select(DigitalEvent.detail).where(DigitalEvent.source_ref == "E5")
        ).scalar_one()
    assert detail == '{"offer":"x"}'

    contacts = tmp_path / "contacts.json"
    contacts.write_text(
        '{"exported_at": "2026-11-28T00:00:00Z", "contacts": [\n'
        '{"contact_id": "C1", "first_name": " Kate ", "date_of_birth": "04/02/1986"},\n'
        '{"contact_id": "C2", "first_name": "Bro\n'
        '{"contact_id": "C3", "date_of_birth": "31/12/1986"},\n'
        '{"contact_id": "C4", "national_id_last4": "67890"},\n'
        '{"contact_id": "C5", "notes": "one note", "address": {"street": "1 Elm St"}}\n'
        "]}\n",
        encoding="utf-8",
    )
    report = ingest(engine, "crm", tmp_path)  # the folder holding contacts.json
    assert (report.read, report.loaded, report.rejected) == (5, 2, 3)
    rejects = _rejects(engine, "crm")
    assert rejects[("contacts.json", 3)].startswith("broken JSON")
    assert rejects[("contacts.json", 4)].startswith("date_of_birth: '31/12/1986' is not a date")
    assert rejects[("contacts.json", 5)] == "national_id_last4: '67890' is not four digits"
    with Session(engine) as session:
        rows = {c.contact_id: c for c in session.exec(select(CrmContact)).scalars()}
    assert rows["C1"].first_name == "Kate" and str(rows["C1"].date_of_birth) == "1986-04-02"
    assert rows["C5"].notes == ["one note"] and rows["C5"].street == "1 Elm St"
    before = counts(engine)
    ingest(engine, "crm", tmp_path)
    ingest(engine, "events", events)
    assert counts(engine) == before
