"""A bank's own file names, column names and formats load through a mapping file."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session

from services.identity.keys import hash_national_id
from services.ingest import ingest, load_mapping
from services.models import Account, CrmContact, DigitalEvent, LedgerEntry, Person
from services.money import to_minor
from tests.support.ingest_files import csv_rows, exported_bank, write_csv

CORE_MAPPING = """
source: core-banking
files: {customers: clients.csv, accounts: accts.csv, transactions: txns.csv}
fields:
  customers: {customer_id: CLIENT_NO, first_name: GIVEN, last_name: FAMILY, date_of_birth: BORN,
              national_id: SSN, email: MAIL, phone: TEL}
  accounts: {account_number: ACCT_NO, customer_id: CLIENT_NO, type: KIND, currency: CCY,
             balance: BAL, opened_on: OPENED, name: LABEL}
  transactions: {transaction_id: TXN_REF, account_number: ACCT_NO, booked_at: POSTED,
                 amount: AMT, currency: CCY, category: CAT, channel: CHAN}
formats:
  date: "%d/%m/%Y"
  datetime: "%d/%m/%Y %H:%M:%S"
  decimal_comma: true
"""


def _comma(amount: str) -> str:
    """``-1234.50`` as a continental bank writes it: ``-1.234,50``."""
    sign, digits = ("-", amount[1:]) if amount.startswith("-") else ("", amount)
    whole, _, cents = digits.partition(".")
    grouped = f"{int(whole):,}".replace(",", ".")
    return f"{sign}{grouped},{cents}" if cents else sign + grouped


def _day(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d/%m/%Y") if iso else ""


@pytest.fixture(scope="module")
def canonical(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return exported_bank(tmp_path_factory.mktemp("bank"), customers=3, seed=5, noise=0.3)


@pytest.fixture(scope="module")
def bank_files(canonical: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The canonical core banking export rewritten the way another bank names things."""
    folder = tmp_path_factory.mktemp("theirs")
    customers = csv_rows(canonical / "core_banking/customers.csv")
    write_csv(
        folder / "clients.csv",
        ["BRANCH", "CLIENT_NO", "GIVEN", "FAMILY", "BORN", "SSN", "MAIL", "TEL"],
        [
            ["Main", c["customer_id"], c["first_name"], c["last_name"], _day(c["date_of_birth"])]
            + [c["national_id"], c["email"], c["phone"]]
            for c in customers
        ],
    )
    accounts = csv_rows(canonical / "core_banking/accounts.csv")
    write_csv(
        folder / "accts.csv",
        ["ACCT_NO", "CLIENT_NO", "KIND", "CCY", "BAL", "OPENED", "LABEL"],
        [
            [a["account_number"], a["customer_id"], a["type"], a["currency"]]
            + [_comma(a["balance"]), _day(a["opened_on"]), a["name"]]
            for a in accounts
        ],
    )
    transactions = csv_rows(canonical / "core_banking/transactions.csv")[:400]
    write_csv(
        folder / "txns.csv",
        ["TXN_REF", "ACCT_NO", "POSTED", "AMT", "CCY", "CAT", "CHAN"],
        [
            [t["transaction_id"], t["account_number"]]
            + [datetime.fromisoformat(t["booked_at"]).strftime("%d/%m/%Y %H:%M:%S")]
            + [_comma(t["amount"]), t["currency"], t["category"], t["channel"]]
            for t in transactions
        ],
    )
    (folder / "mapping.yaml").write_text(CORE_MAPPING, encoding="utf-8")
    return folder


def test_core_banking_through_a_mapping(engine: Engine, canonical: Path, bank_files: Path) -> None:
    mapping = load_mapping(bank_files / "mapping.yaml", source="core-banking")
    report = ingest(engine, "core-banking", bank_files, mapping=mapping, batch_size=150)
    assert report.rejected == 0, report.as_dict()
    assert report.loaded == report.read
    customers = csv_rows(canonical / "core_banking/customers.csv")
    accounts = csv_rows(canonical / "core_banking/accounts.csv")
    transactions = csv_rows(canonical / "core_banking/transactions.csv")[:400]
    with Session(engine) as session:
        people = {p.national_id_hash: p for p in session.exec(select(Person)).scalars()}
        for c in customers:
            person = people[hash_national_id(c["national_id"])]
            assert (person.first_name, person.last_name) == (c["first_name"], c["last_name"])
            assert person.date_of_birth == date.fromisoformat(c["date_of_birth"])
            assert (person.email, person.phone) == (c["email"], c["phone"])
        loaded = {a.number: a for a in session.exec(select(Account)).scalars()}
        assert {n: a.balance_minor for n, a in loaded.items()} == {
            a["account_number"]: to_minor(a["balance"], a["currency"]) for a in accounts
        }
        assert all(loaded[a["account_number"]].name == a["name"] for a in accounts)
        entries = {e.source_ref: e for e in session.exec(select(LedgerEntry)).scalars()}
    assert len(entries) == len(transactions)
    for t in transactions:
        entry = entries[t["transaction_id"]]
        assert entry.amount_minor == to_minor(Decimal(t["amount"]), t["currency"])
        assert entry.booked_at == datetime.fromisoformat(t["booked_at"]).astimezone(UTC)
        assert (entry.category, entry.channel) == (t["category"], t["channel"])


def test_crm_with_nested_fields_through_a_mapping(engine: Engine, tmp_path: Path) -> None:
    contacts = [
        {
            "id": "X1",
            "name": {"given": "Kate", "family": "O'Neil"},
            "born": "02/04/1986",
            "mail": "Kate.ONeil42@gmail.com ",
            "addr": {"line1": "12 Oak St.", "town": "Springfield", "zip": 62704},
            "remarks": ["Asked about mortgage rates"],
        },
        {"id": "X2", "name": {"given": "Sam"}, "born": "2/4/1986x"},
    ]
    (tmp_path / "people.json").write_text(json.dumps(contacts, indent=1), encoding="utf-8")
    (tmp_path / "crm.yaml").write_text(
        "source: crm\nfiles: {contacts: people.json}\n"
        "fields:\n  contacts: {contact_id: id, first_name: name.given, last_name: name.family,\n"
        "    date_of_birth: born, email: mail, street: addr.line1, city: addr.town,\n"
        "    postal_code: addr.zip, notes: remarks}\n"
        "formats: {date: '%d/%m/%Y'}\n",
        encoding="utf-8",
    )
    mapping = load_mapping(tmp_path / "crm.yaml", source="crm")
    report = ingest(engine, "crm", tmp_path, mapping=mapping)
    assert (report.loaded, report.rejected) == (1, 1)
    with Session(engine) as session:
        row = session.exec(select(CrmContact)).scalar_one()
    assert (row.contact_id, row.first_name, row.last_name) == ("X1", "Kate", "O'Neil")
    assert row.date_of_birth == date(1986, 4, 2)  # day first, as the mapping says
    assert row.email == "Kate.ONeil42@gmail.com"
    assert (row.street, row.city, row.postal_code) == ("12 Oak St.", "Springfield", "62704")
    assert row.notes == ["Asked about mortgage rates"]


def test_events_through_a_mapping(engine: Engine, tmp_path: Path) -> None:
    event = {
        "id": "EV1",
        "device": "D9",
        "visit": "S9",
        "ts": "02.03.2026 10:00:00",
        "via": "app",
        "what": "login",
        "login": "kate@example.com",
        "extra": "ignored",
    }
    (tmp_path / "clicks.jsonl").write_text(json.dumps(event) + "\n", encoding="utf-8")
    (tmp_path / "events.yaml").write_text(
        "source: events\nfiles: {events: clicks.jsonl}\n"
        "fields:\n  events: {event_id: id, device_id: device, session_id: visit,\n"
        "    occurred_at: ts, channel: via, type: what, user_id: login}\n"
        "formats: {datetime: '%d.%m.%Y %H:%M:%S'}\n",
        encoding="utf-8",
    )
    mapping = load_mapping(tmp_path / "events.yaml")
    report = ingest(engine, "events", tmp_path, mapping=mapping)
    assert (report.loaded, report.rejected) == (1, 0)
    with Session(engine) as session:
        row = session.exec(select(DigitalEvent)).scalar_one()
    assert (row.source_ref, row.kind, row.channel, row.user_id) == (
        "EV1",
        "login",
        "app",
        "kate@example.com",
    )
    assert row.occurred_at == datetime(2026, 3, 2, 10, tzinfo=UTC)
