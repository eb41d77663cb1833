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

from sqlalchemy import Engine, Table
from sqlmodel import SQLModel

from services.credentials import hash_password
from services.db import create_schema, reset_sequences
from services.synth.customer import Bundle, generate_customer

GENERATOR_VERSION = "1"
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


class _Ids:
    """Global id counters, advanced in customer order so ids are deterministic."""

    def __init__(self) -> None:
        self.next: dict[str, int] = {}

    def take(self, table: str) -> int:
        value = self.next.get(table, 1)
        self.next[table] = value + 1
        return value


def _rows(b: Bundle, ids: _Ids, password_hash: str) -> dict[str, list[dict[str, Any]]]:
    """Database rows for one customer."""
    pid = b.index + 1
    out: dict[str, list[dict[str, Any]]] = {name: [] for name in ORDER}
    since = b.person["customer_since"]
    out["person"].append(
        {
            "id": pid,
            **b.person,
            "created_at": datetime(since.year, since.month, since.day, tzinfo=UTC),
        }
    )
    out["credential"].append(
        {"person_id": pid, "username": b.person["email"].lower(), "password_hash": password_hash}
    )
    keys = [("core_banking", f"CB{pid:08d}"), ("crm", f"CRM{pid * 7919 % 10**7:07d}")]
    devices = sorted({e[1] for e in b.events if e[0]})
    keys += [("digital", device) for device in devices]
    out["source_identity"] += [
        {"id": ids.take("source_identity"), "person_id": pid, "system": system, "source_key": key}
        for system, key in keys
    ]
    account_id: dict[str, int] = {}
    for a in b.accounts:
        account_id[a["key"]] = ids.take("account")
        row = {k: v for k, v in a.items() if k not in ("key", "opening_minor")}
        out["account"].append({"id": account_id[a["key"]], "person_id": pid, **row})
    for h in b.holdings:
        out["holding"].append(
            {
                "id": ids.take("holding"),
                "account_id": account_id[h["account"]],
                **{k: v for k, v in h.items() if k != "account"},
            }
        )
    series_id: dict[str, int] = {}
    for s in b.series:
        series_id[s["key"]] = ids.take("recurring_series")
        row = {k: v for k, v in s.items() if k not in ("key", "account")}
        out["recurring_series"].append(
            {
                "id": series_id[s["key"]],
                "person_id": pid,
                "account_id": account_id[s["account"]],
                "currency": "USD",
                **row,
            }
        )
    payee_id: dict[str, int] = {}
    for p in b.payees:
        payee_id[p["key"]] = ids.take("payee")
        out["payee"].append(
            {
                "id": payee_id[p["key"]],
                "person_id": pid,
                "name": p["name"],
                "kind": p["kind"],
                "account_number": p["account_number"],
            }
        )
    card_id: dict[str, int] = {}
    for c in b.cards:
        card_id[c["key"]] = ids.take("card")
        out["card"].append(
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
        )
    for g in b.goals:
        out["savings_goal"].append(
            {
                "id": ids.take("savings_goal"),
                "person_id": pid,
                "account_id": account_id.get(g["account"] or ""),
                "currency": "USD",
                **{k: v for k, v in g.items() if k != "account"},
            }
        )
    for s in b.scheduled:
        out["scheduled_transfer"].append(
            {
                "id": ids.take("scheduled_transfer"),
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
        )
    out["ledger_entry"] = [
        {
            "id": ids.take("ledger_entry"),
            "account_id": account_id[e.account],
            "person_id": pid,
            "booked_at": e.booked_at,
            "amount_minor": e.amount,
            "currency": "USD",
            "merchant": e.merchant,
            "category": e.category,
            "channel": e.channel,
            "counterparty": e.counterparty,
            "description": e.description,
            "balance_after_minor": e.balance_after,
            "recurring_id": series_id.get(e.series) if e.series else None,
        }
        for e in b.entries
    ]
    out["digital_event"] = [
        {
            "id": ids.take("digital_event"),
            "person_id": pid if signed_in else None,
            "device_id": device,
            "session_id": session,
            "occurred_at": when,
            "channel": channel,
            "kind": kind,
            "page": page,
            "detail": detail,
        }
        for signed_in, device, session, when, channel, kind, page, detail in b.events
    ]
    out["contact_preference"].append({"person_id": pid, **b.preference})
    out["offer_event"] = [{"id": ids.take("offer_event"), "person_id": pid, **o} for o in b.offers]
    out["ground_truth"] = [
        {
            "id": ids.take("ground_truth"),
            "person_id": pid,
            "kind": kind,
            "label": label,
            "detail": detail,
        }
        for kind, label, detail in b.truth
    ]
    return out


def _same_columns(table: str, rows: list[dict[str, Any]]) -> None:
    """Refuse rows of different shapes: an executemany takes its columns from the first row."""
    first = rows[0].keys()
    odd = next((row for row in rows if row.keys() != first), None)
    if odd is not None:
        raise ValueError(f"{table}: rows differ in columns: {sorted(first ^ odd.keys())}")


def _bundles(customers: int, seed: int, as_of: date, workers: int) -> Iterator[Bundle]:
    make = partial(generate_customer, seed, as_of=as_of)
    if workers <= 1:
        yield from map(make, range(customers))
        return
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        yield from pool.imap(make, range(customers), chunksize=8)


def seed_bank(
    engine: Engine,
    *,
    customers: int,
    seed: int,
    as_of: date,
    workers: int = 2,
    progress: Callable[[int], None] | None = None,
    password: str = "concierge-demo",
) -> SeedStats:
    """Generate and write a deterministic bank of ``customers`` people.

    The same ``seed`` and ``as_of`` give the same bank, whatever ``workers`` is. The database
    must be empty; rows are written ``BATCH`` customers per transaction, and the bank is marked
    complete in ``bank_meta`` only at the end.

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
    ids = _Ids()
    pending: dict[str, list[dict[str, Any]]] = {n: [] for n in ORDER}
    done = 0

    def flush() -> None:
        with engine.begin() as conn:
            for name in ORDER:
                if pending[name]:
                    _same_columns(name, pending[name])
                    conn.execute(tables[name].insert(), pending[name])
                    stats.rows[name] += len(pending[name])
                    pending[name] = []

    for bundle in _bundles(customers, seed, as_of, workers):
        for name, rows in _rows(bundle, ids, password_hash).items():
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
        conn.execute(
            SQLModel.metadata.tables["audit_log"].insert(),
            [
                {
                    "occurred_at": datetime.now(UTC),
                    "actor": "system:seed",
                    "action": "seed_bank",
                    "resource": "bank",
                    "resource_id": str(seed),
                    "outcome": "success",
                    "detail": f"{customers} customers as of {as_of.isoformat()}",
                }
            ],
        )
    reset_sequences(engine)
    stats.seconds = time.perf_counter() - started
    return stats
