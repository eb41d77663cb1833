"""Core banking loader: customers, accounts and transactions (CSV) into the system of record.

Customers become ``Person`` rows known under ``SourceIdentity(core_banking, customer_id)``;
only the national id's hash and last four digits are kept. Accounts are keyed by number,
transactions by ``source_ref`` (the transaction id); money goes to integer minor units without
ever passing through a float. An account or transaction naming an unknown customer or account
is rejected.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from services.identity.keys import hash_national_id, national_id_digits, normalise_phone
from services.ingest import store
from services.ingest.batch import DEFAULT_BATCH, FileLoad, IngestReport, Outcome, Ready, timed
from services.ingest.batch import load_file as run
from services.ingest.mapping import Mapping, canonical
from services.ingest.readers import IngestError, csv_header, read_csv
from services.ingest.values import (
    ISO_DATE,
    RowError,
    check_fits,
    currency_code,
    minor,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_int,
    required,
    text,
)
from services.merchants import category_of
from services.models import AccountType

SOURCE = "core-banking"
SYSTEM = "core_banking"
FILES = ("customers", "accounts", "transactions")  # in foreign-key order
REQUIRED = {
    "customers": ("customer_id", "first_name", "last_name"),
    "accounts": ("account_number", "customer_id", "type", "currency", "balance", "opened_on"),
    "transactions": ("transaction_id", "account_number", "booked_at", "amount"),
}
KEYS = {"customers": "customer_id", "accounts": "account_number", "transactions": "transaction_id"}
_TYPES = {t.value for t in AccountType}


class _Rows:
    """Row makers and batch writers for the three files, under one mapping."""

    def __init__(self, mapping: Mapping) -> None:
        self.m = mapping
        self.dates = (mapping.date_format or ISO_DATE,)

    def _amount(self, value: str | None, name: str) -> Decimal | None:
        if value is None:
            return None
        return parse_decimal(value, name, decimal_comma=self.m.decimal_comma)

    def _minor(self, f: dict[str, Any], name: str, currency: str) -> int | None:
        return minor(self._amount(text(f, name), name), currency, name)

    def customer(self, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        f = self.m.extract("customers", data)
        key = required(f, "customer_id")
        first, last = required(f, "first_name"), required(f, "last_name")
        nid = text(f, "national_id")
        digits = national_id_digits(nid)
        if nid is not None and digits is None:
            raise RowError("national_id: expected nine digits")
        row = {
            "full_name": f"{first} {last}",
            "first_name": first,
            "last_name": last,
            "date_of_birth": parse_date(text(f, "date_of_birth"), "date_of_birth", self.dates),
            "email": text(f, "email"),
            "phone": normalise_phone(text(f, "phone")),  # a number that is not one is dropped
            "address_line": text(f, "address_line"),
            "city": text(f, "city"),
            "postal_code": text(f, "postal_code"),
            "country": (text(f, "country") or "US").upper(),
            "segment": text(f, "segment") or "retail",
            "is_business": parse_bool(text(f, "is_business"), "is_business"),
            "customer_since": parse_date(text(f, "customer_since"), "customer_since", self.dates),
            "national_id_hash": hash_national_id(nid),
            "national_id_last4": digits[-4:] if digits else None,
            "created_at": datetime.now(UTC),
        }
        check_fits(store.table("person"), row)
        check_fits(store.table("source_identity"), {"source_key": key})
        return key, row

    def write_customers(self, conn: Connection, ready: list[Ready]) -> Outcome:
        ident = store.table("source_identity")
        have = store.existing(
            conn, ident.c.source_key, [key for _, key, _ in ready], ident.c.system == SYSTEM
        )
        new = [(key, row) for _, key, row in ready if key not in have]
        ids = store.insert_returning_ids(conn, store.table("person"), [row for _, row in new])
        links = [
            {"person_id": pid, "system": SYSTEM, "source_key": key}
            for pid, (key, _) in zip(ids, new, strict=True)
        ]
        store.insert_rows(conn, ident, links)
        return Outcome(loaded=len(new), skipped=len(ready) - len(new))

    def account(self, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        f = self.m.extract("accounts", data)
        number, customer = required(f, "account_number"), required(f, "customer_id")
        kind = required(f, "type").lower()
        if kind not in _TYPES:
            raise RowError(f"type: {kind!r} is not an account type ({', '.join(sorted(_TYPES))})")
        cur = currency_code(text(f, "currency"))
        opened = parse_date(required(f, "opened_on"), "opened_on", self.dates)
        row = {
            "number": number,
            "customer_id": customer,
            "type": kind,
            "name": text(f, "name") or kind.replace("_", " ").title(),
            "currency": cur,
            "balance_minor": minor(self._amount(required(f, "balance"), "balance"), cur, "balance"),
            "status": text(f, "status") or "open",
            "opened_on": opened,
            "credit_limit_minor": self._minor(f, "credit_limit", cur),
            "overdraft_limit_minor": self._minor(f, "overdraft_limit", cur) or 0,
            "interest_rate_bps": parse_int(text(f, "interest_rate_bps"), "interest_rate_bps"),
            "maturity_date": parse_date(text(f, "maturity_date"), "maturity_date", self.dates),
            "term_months": parse_int(text(f, "term_months"), "term_months"),
            "risk_tolerance": text(f, "risk_tolerance"),
        }
        check_fits(store.table("account"), row)
        return number, row

    def write_accounts(self, conn: Connection, ready: list[Ready]) -> Outcome:
        account, ident = store.table("account"), store.table("source_identity")
        have = store.existing(conn, account.c.number, [key for _, key, _ in ready])
        todo = [item for item in ready if item[1] not in have]
        owners = store.lookup(
            conn,
            ident.c.source_key,
            [ident.c.person_id],
            [row["customer_id"] for _, _, row in todo],
            ident.c.system == SYSTEM,
        )
        out = Outcome(skipped=len(ready) - len(todo))
        rows = []
        for record, _, row in todo:
            owner = owners.get(row["customer_id"])
            if owner is None:
                out.rejects.append((record, f"unknown customer_id {row['customer_id']!r}"))
                continue
            rows.append(
                {
                    **{k: v for k, v in row.items() if k != "customer_id"},
                    "person_id": owner.person_id,
                }
            )
        store.insert_rows(conn, account, rows)
        out.loaded = len(rows)
        return out

    def transaction(self, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        f = self.m.extract("transactions", data)
        key, number = required(f, "transaction_id"), required(f, "account_number")
        currency = text(f, "currency")
        amount = self._amount(required(f, "amount"), "amount")
        merchant, counterparty = text(f, "merchant"), text(f, "counterparty")
        description = text(f, "description") or ""
        # A feed without categories still books a known merchant where it belongs.
        category = text(f, "category") or category_of(
            merchant, counterparty, description, amount_minor=1 if amount and amount > 0 else -1
        )
        row = {
            "source_ref": key,
            "number": number,
            "booked_at": parse_datetime(
                required(f, "booked_at"), "booked_at", self.m.datetime_format
            ),
            "amount": amount,
            "balance_after": self._amount(text(f, "balance_after"), "balance_after"),
            "currency": None if currency is None else currency_code(currency),
            "merchant": merchant,
            "category": category or "other",
            "channel": text(f, "channel") or "other",
            "counterparty": counterparty,
            "description": description,
        }
        check_fits(store.table("ledger_entry"), row)
        return key, row

    def write_transactions(self, conn: Connection, ready: list[Ready]) -> Outcome:
        ledger, account = store.table("ledger_entry"), store.table("account")
        have = store.existing(conn, ledger.c.source_ref, [key for _, key, _ in ready])
        todo = [item for item in ready if item[1] not in have]
        accounts = store.lookup(
            conn,
            account.c.number,
            [account.c.id, account.c.person_id, account.c.currency],
            [row["number"] for _, _, row in todo],
        )
        out = Outcome(skipped=len(ready) - len(todo))
        rows = []
        for record, _, row in todo:
            try:
                rows.append(_entry(row, accounts.get(row["number"])))
            except RowError as exc:
                out.rejects.append((record, str(exc)))
        store.insert_rows(conn, ledger, rows)
        out.loaded = len(rows)
        return out


def _entry(row: dict[str, Any], account: Any) -> dict[str, Any]:
    if account is None:
        raise RowError(f"unknown account_number {row['number']!r}")
    cur = row["currency"] or account.currency
    if cur != account.currency:
        raise RowError(f"currency: {cur} differs from account {row['number']}'s {account.currency}")
    skip = ("number", "amount", "balance_after")
    return {
        **{k: v for k, v in row.items() if k not in skip},
        "currency": cur,
        "account_id": account.id,
        "person_id": account.person_id,
        "amount_minor": minor(row["amount"], cur, "amount"),
        "balance_after_minor": minor(row["balance_after"], cur, "balance_after") or 0,
    }


def load_core_banking(
    engine: Engine,
    path: Path,
    *,
    mapping: Mapping | None = None,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Load a core banking export: a folder with customers, accounts and transactions CSVs.

    Files that are absent are skipped (a daily feed may hold transactions only); each file's
    header is checked for its required columns before anything is written.

    Args:
        engine: The system of record.
        path: The folder holding the files (names as in ``mapping``).
        mapping: The bank's names for files, columns and formats; canonical by default.
        batch_size: Rows per transaction.
        progress: Called after each batch with the rows read so far.

    Returns:
        What was read, loaded, skipped and rejected.

    Raises:
        IngestError: when the folder holds none of the files, or a file lacks a required column.
    """
    started = time.perf_counter()
    m = mapping or canonical(SOURCE)
    if not path.is_dir():
        raise IngestError(f"{path}: expected a folder holding the core banking CSV files")
    present = [
        (name, path / m.file_name(name)) for name in FILES if (path / m.file_name(name)).is_file()
    ]
    if not present:
        names = ", ".join(m.file_name(name) for name in FILES)
        raise IngestError(f"{path}: none of the core banking files is there ({names})")
    for name, file in present:
        lacking = m.missing(name, csv_header(file), REQUIRED[name])
        if lacking:
            raise IngestError(f"{file}: missing column(s) {', '.join(lacking)}")
    rows = _Rows(m)
    makers = {
        "customers": (rows.customer, rows.write_customers),
        "accounts": (rows.account, rows.write_accounts),
        "transactions": (rows.transaction, rows.write_transactions),
    }
    report = IngestReport(source=SOURCE)
    for name, file in present:
        prepare, write = makers[name]
        load = FileLoad(SOURCE, name, file, KEYS[name], partial(read_csv, file), prepare, write)
        run(engine, load, report, batch_size=batch_size, progress=progress)
    return timed(report, started)
