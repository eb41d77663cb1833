"""The audit log as a hash chain: every entry seals the one before it, so tampering shows.

Each row stores ``prev_hash`` (the previous row's ``hash``; :data:`GENESIS` for the first) and
``hash = sha256(prev_hash + canonical JSON of the row's fields)``. Editing a row breaks its own
hash; deleting or reordering rows breaks the link of the row after. :func:`verify_chain` walks
the rows in id order and names the first one that does not check out.

Appends are serialised so two writers never link to the same predecessor: on PostgreSQL a
transaction-level advisory lock (held to commit, so ids follow chain order); on SQLite an empty
write to the log first takes the database's single write lock before the last hash is read.
Every writer of the log goes through :func:`append_audit` (the REST routes, banking writes and
the seed), inside the caller's transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, text
from sqlmodel import SQLModel

GENESIS = "0" * 64
FIELDS = (
    "occurred_at",
    "actor",
    "action",
    "resource",
    "resource_id",
    "outcome",
    "origin",
    "detail",
)
# pg_advisory_xact_lock key: "audit" in ASCII, any constant no other lock in the bank uses
_LOCK_KEY = 0x6175646974
_LIMITS = {"actor": 100, "action": 50, "resource": 50, "resource_id": 100, "origin": 100}
_LIMITS |= {"outcome": 20, "detail": 500}


def _moment(value: Any) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:  # stored as UTC without an offset by some drivers
        value = value.replace(tzinfo=UTC)
    return str(value.astimezone(UTC).isoformat(timespec="microseconds"))


def canonical(row: dict[str, Any]) -> str:
    """The row's audited fields as canonical JSON (sorted keys, UTC times, no spaces)."""
    fields = {name: row.get(name) for name in FIELDS}
    fields["occurred_at"] = _moment(fields["occurred_at"])
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def seal(prev_hash: str, row: dict[str, Any]) -> str:
    """The hash of a row that follows ``prev_hash``."""
    return hashlib.sha256((prev_hash + canonical(row)).encode("utf-8")).hexdigest()


def _serialise(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    elif conn.dialect.name == "sqlite":
        # A write that touches no row still takes the write lock (and a fresh snapshot), so
        # the last hash read next cannot change before this transaction commits.
        conn.execute(text("UPDATE audit_log SET id = id WHERE 0"))


def append_audit(
    conn: Connection,
    *,
    actor: str,
    action: str,
    resource: str,
    outcome: str,
    occurred_at: datetime | None = None,
    resource_id: str | None = None,
    origin: str | None = None,
    detail: str | None = None,
) -> int:
    """Append one entry to the chain in the caller's transaction (the caller commits).

    Args:
        conn: A connection inside a transaction.
        actor: Who acted, e.g. ``customer:42``, ``advisor:1``, ``system:seed``.
        action: What they did, e.g. ``sign_in``, ``transfer``.
        resource: What kind of thing it touched, e.g. ``account``.
        outcome: ``success``, ``failure`` or ``denied``.
        occurred_at: When (aware); now when omitted.
        resource_id: Which one, when there is one.
        origin: Where the request came from (client address or channel).
        detail: Anything else worth keeping (no secrets).

    Returns:
        The new row's id.
    """
    values: dict[str, Any] = {
        "occurred_at": occurred_at or datetime.now(UTC),
        "actor": actor,
        "action": action,
        "resource": resource,
        "resource_id": resource_id,
        "outcome": outcome,
        "origin": origin,
        "detail": detail,
    }
    for name, limit in _LIMITS.items():
        if isinstance(values[name], str):
            values[name] = values[name][:limit]
    # Hash exactly what the database will give back: microseconds, UTC.
    values["occurred_at"] = datetime.fromisoformat(_moment(values["occurred_at"]))
    table = SQLModel.metadata.tables["audit_log"]
    _serialise(conn)
    last = conn.execute(select(table.c.hash).order_by(table.c.id.desc()).limit(1)).first()
    prev = last[0] if last is not None and last[0] else GENESIS
    values["prev_hash"] = prev
    values["hash"] = seal(prev, values)
    found = conn.execute(insert(table).values(values).returning(table.c.id)).scalar_one()
    return int(found)


@dataclass(frozen=True)
class ChainReport:
    """What :func:`verify_chain` found: how many rows, whether all hold, the first that fails."""

    rows: int
    ok: bool
    first_bad_id: int | None

    def to_json(self) -> dict[str, Any]:
        """The report as ``concierge audit verify --json`` prints it."""
        return {"rows": self.rows, "ok": self.ok, "first_bad_id": self.first_bad_id}


def _rows(conn: Connection, batch: int = 1_000) -> Iterator[dict[str, Any]]:
    table = SQLModel.metadata.tables["audit_log"]
    after = 0
    while True:
        page = conn.execute(
            select(table).where(table.c.id > after).order_by(table.c.id).limit(batch)
        ).mappings()
        rows = [dict(r) for r in page]
        if not rows:
            return
        yield from rows
        after = int(rows[-1]["id"])


def verify_chain(conn: Connection) -> ChainReport:
    """Walk the audit log in id order and check every link and every seal.

    A row fails when its ``prev_hash`` is not the previous row's ``hash`` (a row deleted or
    moved) or its ``hash`` does not match its fields (a row edited).
    """
    prev, count, bad = GENESIS, 0, None
    for row in _rows(conn):
        count += 1
        if bad is None and (row["prev_hash"] != prev or row["hash"] != seal(prev, row)):
            bad = int(row["id"])
        prev = row["hash"] or ""
    return ChainReport(rows=count, ok=bad is None, first_bad_id=bad)
