"""Write the synthetic bank into the system of record, fast.

Ids are assigned in customer order, so they do not depend on how many workers generated it.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

from sqlalchemy import Connection, Engine, Table, select
from sqlmodel import SQLModel

from services.audit import append_audit
from services.credentials import hash_password
from services.db import create_schema, reset_sequences
from services.settings import DEMO_ADVISOR, get_settings
from services.synth.bundle import Bundle
from services.synth.customer import generate_customer

GENERATOR_VERSION = "1"
DEMO_ADVISOR_NAME = "Alex Morgan (demo advisor)"
BATCH = 100  # customers per database transaction
ORDER = (  # foreign keys first
    "person",
    "credential",
    "source_identity",
    "account",
    "holding",
    "recurring_series",
    "payee",
    "card",
    "savings_goal",
    "scheduled_transfer",
    "ledger_entry",
    "digital_event",
    "contact_preference",
    "offer_event",
    "ground_truth",
)


@dataclass
class SeedStats:
    """What a seeding run wrote and how fast."""

    customers: int
    as_of: date
    seconds: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        """Rows written across all tables."""
        return sum(self.rows.values())

    @property
    def rows_per_second(self) -> float:
        """Write throughput over the whole run."""
        return self.total_rows / self.seconds if self.seconds else 0.0


# Tables other rows point at get ids in a block per person (person 42's accounts are 4200,
# 4201, ...), so any worker can build any customer's rows. Other tables number themselves in
# insertion order, which is customer order: ids are the same however the bank was generated.
BLOCK = 100
# The two big tables go in as tuples in this column order (SQLite: via the driver; PostgreSQL:
# COPY), with times already rendered for SQLite by the workers.
BULK: dict[str, tuple[str, ...]] = {
    "ledger_entry": (
        "account_id",
        "person_id",
        "booked_at",
        "amount_minor",
        "currency",
        "merchant",
        "category",
        "channel",
        "counterparty",
        "description",
        "balance_after_minor",
        "recurring_id",
    ),
    "digital_event": (
        "person_id",
        "device_id",
        "session_id",
        "occurred_at",
        "channel",
        "kind",
        "page",
        "detail",
        "user_id",
    ),
}


def _block(pid: int, items: list[dict[str, Any]], what: str) -> dict[str, int]:
    if len(items) >= BLOCK:
        raise ValueError(f"customer {pid} has {len(items)} {what}; at most {BLOCK - 1} fit")
    return {item["key"]: pid * BLOCK + k for k, item in enumerate(items)}


def _sqlite_time(value: datetime) -> str:
    # SQLAlchemy's SQLite DATETIME storage format, in UTC, so text order is time order.
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def _rows(b: Bundle, password_hash: str, sqlite: bool) -> dict[str, list[Any]]:
    """Database rows for one customer (dicts, or tuples for the ``BULK`` tables)."""
    pid = b.index + 1
    out: dict[str, list[Any]] = {name: [] for name in ORDER}
    since = b.person["customer_since"]
    created = datetime(since.year, since.month, since.day, tzinfo=UTC)
    out["person"].append({"id": pid, **b.person, "created_at": created})
    out["credential"].append(
        {"person_id": pid, "username": b.person["email"].lower(), "password_hash": password_hash}
    )
    keys = [("core_banking", f"CB{pid:08d}"), ("crm", f"CRM{pid * 7919 % 10**7:07d}")]
    # The digital channels know a person by their online-banking login (the enrolment e-mail).
    keys.append(("digital", b.person["email"].lower()))
    out["source_identity"] = [
        {"person_id": pid, "system": system, "source_key": key} for system, key in keys
    ]
    account_id = _block(pid, b.accounts, "accounts")
    series_id = _block(pid, b.series, "recurring series")
    payee_id = _block(pid, b.payees, "payees")
    card_id = _block(pid, b.cards, "cards")
    out["account"] = [
        {
            "id": account_id[a["key"]],
            "person_id": pid,
            **{k: v for k, v in a.items() if k not in ("key", "opening_minor")},
            # Unique by construction: the account's id, then two of its random digits.
            "number": f"{account_id[a['key']]:08d}{a['number'][-2:]}",
        }
        for a in b.accounts
    ]
    out["holding"] = [
        {"account_id": account_id[h["account"]], **{k: v for k, v in h.items() if k != "account"}}
        for h in b.holdings
    ]
    out["recurring_series"] = [
        {
            "id": series_id[s["key"]],
            "person_id": pid,
            "account_id": account_id[s["account"]],
            "currency": "USD",
            **{k: v for k, v in s.items() if k not in ("key", "account")},
        }
        for s in b.series
    ]
    out["payee"] = [
        {
            "id": payee_id[p["key"]],
            "person_id": pid,
            "name": p["name"],
            "kind": p["kind"],
            "account_number": p["account_number"],
        }
        for p in b.payees
    ]
    out["card"] = [
        {
            "id": card_id[c["key"]],
            "person_id": pid,
            "account_id": account_id[c["account"]],
            "type": c["type"],
            "last4": c["last4"],
            "status": c["status"],
            "expires_on": c["expires_on"],
            "replaced_by_id": card_id.get(c["replaced_by"] or ""),
        }
        for c in b.cards
    ]
    out["savings_goal"] = [
        {
            "person_id": pid,
            "account_id": account_id.get(g["account"] or ""),
            "currency": "USD",
            **{k: v for k, v in g.items() if k != "account"},
        }
        for g in b.goals
    ]
    out["scheduled_transfer"] = [
        {
            "person_id": pid,
            "from_account_id": account_id[s["from"]],
            "to_account_id": account_id.get(s["to"] or ""),
            "payee_id": payee_id.get(s["payee"] or ""),
            "amount_minor": s["amount_minor"],
            "currency": "USD",
            "kind": s["kind"],
            "cadence": s["cadence"],
            "next_date": s["next_date"],
            "active": s["active"],
        }
        for s in b.scheduled
    ]
    when = _sqlite_time if sqlite else (lambda value: value)
    out["ledger_entry"] = [
        (
            account_id[e.account],
            pid,
            when(e.booked_at),
            e.amount,
            "USD",
            e.merchant,
            e.category,
            e.channel,
            e.counterparty,
            e.description,
            e.balance_after,
            series_id.get(e.series) if e.series else None,
        )
        for e in b.entries
    ]
    login = b.person["email"].lower()  # the online-banking login is the enrolment e-mail
    out["digital_event"] = [
        (
            pid if signed_in else None,
            device,
            session,
            when(at),
            channel,
            kind,
            page,
            detail,
            login if signed_in else None,
        )
        for signed_in, device, session, at, channel, kind, page, detail in b.events
    ]
    out["contact_preference"].append({"person_id": pid, **b.preference})
    out["offer_event"] = [{"person_id": pid, **o} for o in b.offers]
    out["ground_truth"] = [
        {"person_id": pid, "kind": kind, "label": label, "detail": detail}
        for kind, label, detail in b.truth
    ]
    return out


def _customer_rows(
    seed: int, as_of: date, password_hash: str, sqlite: bool, index: int
) -> dict[str, list[Any]]:
    return _rows(generate_customer(seed, index, as_of), password_hash, sqlite)


def _same_columns(table: str, rows: list[dict[str, Any]]) -> None:
    """Refuse rows of different shapes: an executemany takes its columns from the first row."""
    first = rows[0].keys()
    odd = next((row for row in rows if row.keys() != first), None)
    if odd is not None:
        raise ValueError(f"{table}: rows differ in columns: {sorted(first ^ odd.keys())}")


def _customers(
    customers: int, seed: int, as_of: date, workers: int, password_hash: str, sqlite: bool
) -> Iterator[dict[str, list[Any]]]:
    make = partial(_customer_rows, seed, as_of, password_hash, sqlite)
    if workers <= 1:
        yield from map(make, range(customers))
        return
    with pool_context().Pool(workers) as pool:
        yield from pool.imap(make, range(customers), chunksize=8)


def pool_context() -> multiprocessing.context.BaseContext:
    """Where the generator's workers come from: a clean server process, never this one.

    A process that runs threads (the web app, a benchmark, the test suite) may hold a lock at
    the moment it forks, and a child born with that lock held waits for it forever. Workers
    forked from the fork server start from a process that only imported the generator.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


def _bulk_insert(conn: Connection, table: str, rows: list[tuple[Any, ...]]) -> None:
    columns = BULK[table]
    if conn.dialect.name == "sqlite":
        marks = ", ".join("?" * len(columns))
        conn.exec_driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
        return
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    conn.execute(
        SQLModel.metadata.tables[table].insert(), [dict(zip(columns, r, strict=True)) for r in rows]
    )


def _add_demo_advisor(conn: Connection, password: str | None) -> None:
    """Add the demo advisor unless one with that username is there already."""
    advisors = SQLModel.metadata.tables["advisor"]
    if conn.execute(select(advisors.c.id).where(advisors.c.username == DEMO_ADVISOR)).first():
        return
    if password is None:
        password = get_settings().demo_advisor_password
    conn.execute(
        advisors.insert().values(
            username=DEMO_ADVISOR,
            display_name=DEMO_ADVISOR_NAME,
            password_hash=hash_password(password),
        )
    )


def seed_bank(
    engine: Engine,
    *,
    customers: int,
    seed: int,
    as_of: date,
    workers: int = 2,
    progress: Callable[[int], None] | None = None,
    password: str = "concierge-demo",
    advisor_password: str | None = None,
) -> SeedStats:
    """Generate and write a deterministic bank of ``customers`` people.

    The same ``seed`` and ``as_of`` give the same bank, whatever ``workers`` is. The database
    must be empty; rows are written ``BATCH`` customers per transaction, and the bank is marked
    complete in ``bank_meta`` only at the end, with one demo advisor
    (``services.settings.DEMO_ADVISOR``) whose password is ``advisor_password``, by default the
    ``demo_advisor_password`` setting.

    Raises:
        ValueError: for a non-positive number of customers or workers.
    """
    if customers < 1:
        raise ValueError("customers must be at least 1")
    if workers < 1:
        raise ValueError("workers must be at least 1")
    started = time.perf_counter()
    create_schema(engine)
    tables: dict[str, Table] = {n: SQLModel.metadata.tables[n] for n in ORDER}
    # Every demo customer shares the demo password; one scrypt hash with a salt from the seed.
    salt = hashlib.sha256(f"concierge-seed-{seed}".encode()).digest()[:16]
    password_hash = hash_password(password, salt=salt)
    stats = SeedStats(customers=customers, as_of=as_of, rows={n: 0 for n in ORDER})
    sqlite = engine.dialect.name == "sqlite"
    pending: dict[str, list[Any]] = {n: [] for n in ORDER}
    done = 0

    def flush() -> None:
        with engine.begin() as conn:
            for name in ORDER:
                if not pending[name]:
                    continue
                if name in BULK:
                    _bulk_insert(conn, name, pending[name])
                else:
                    _same_columns(name, pending[name])
                    conn.execute(tables[name].insert(), pending[name])
                stats.rows[name] += len(pending[name])
                pending[name] = []

    for customer in _customers(customers, seed, as_of, workers, password_hash, sqlite):
        for name, rows in customer.items():
            pending[name] += rows
        done += 1
        if done % BATCH == 0:
            flush()
            if progress:
                progress(BATCH)
    flush()
    if progress and done % BATCH:
        progress(done % BATCH)
    meta = SQLModel.metadata.tables["bank_meta"]
    with engine.begin() as conn:
        _add_demo_advisor(conn, advisor_password)
        conn.execute(
            meta.insert(),
            [
                {"key": "seed", "value": str(seed)},
                {"key": "as_of", "value": as_of.isoformat()},
                {"key": "customers", "value": str(customers)},
                {"key": "generator_version", "value": GENERATOR_VERSION},
                {"key": "completed", "value": "true"},
            ],
        )
        append_audit(
            conn,
            occurred_at=datetime.now(UTC),
            actor="system:seed",
            action="seed_bank",
            resource="bank",
            resource_id=str(seed),
            outcome="success",
            origin="cli:seed",
            detail=f"{customers} customers as of {as_of.isoformat()}",
        )
    reset_sequences(engine)
    stats.seconds = time.perf_counter() - started
    return stats
