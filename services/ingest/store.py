"""Database writes for ingestion: idempotent inserts, key lookups and reject rows."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, ColumnElement, Connection, Table, insert, select
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import SQLModel

from services.ingest.readers import Record

LOOKUP_CHUNK = 500  # keys per IN (...) list: well inside every backend's parameter limit
REASON_MAX, RAW_MAX, FILE_MAX = 300, 4000, 300


def table(name: str) -> Table:
    """One of Concierge's tables by name."""
    return SQLModel.metadata.tables[name]


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert_rows(conn: Connection, target: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows, leaving alone any whose natural key is already there."""
    if not rows:
        return
    if conn.dialect.name == "sqlite":
        conn.execute(sqlite_insert(target).on_conflict_do_nothing(), rows)
    elif conn.dialect.name == "postgresql":
        conn.execute(postgres_insert(target).on_conflict_do_nothing(), rows)
    else:
        conn.execute(insert(target), rows)


def insert_returning_ids(conn: Connection, target: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert rows and return their new ids, in the order of ``rows``."""
    if not rows:
        return []
    stmt = insert(target).returning(target.c.id, sort_by_parameter_order=True)
    return [int(i) for i in conn.execute(stmt, rows).scalars()]


def existing(
    conn: Connection, key: Column[Any], values: Iterable[str], *where: ColumnElement[bool]
) -> set[str]:
    """Which of ``values`` already appear in column ``key`` (rows also matching ``where``)."""
    found: set[str] = set()
    for chunk in _chunks(sorted(set(values)), LOOKUP_CHUNK):
        found.update(conn.execute(select(key).where(key.in_(chunk), *where)).scalars())
    return found


def lookup(
    conn: Connection,
    key: Column[Any],
    columns: Sequence[Column[Any]],
    values: Iterable[str],
    *where: ColumnElement[bool],
) -> dict[str, Any]:
    """Rows of ``columns`` by their ``key`` value, for the ``values`` that exist."""
    found: dict[str, Any] = {}
    for chunk in _chunks(sorted(set(values)), LOOKUP_CHUNK):
        stmt = select(key, *columns).where(key.in_(chunk), *where)
        found.update({row[0]: row for row in conn.execute(stmt)})
    return found


def _printable(text: str) -> str:
    # PostgreSQL text cannot hold NUL; a reject must still be recordable.
    return text.replace("\x00", "\\x00")


def write_rejects(
    conn: Connection, *, source: str, file: str, rejects: list[tuple[Record, str]]
) -> int:
    """Record rejected rows, each once.

    A reject already there (same source, file, line and reason) is not written again, so
    re-loading a bad file adds nothing.

    Returns:
        How many reject rows were written.
    """
    if not rejects:
        return 0
    rejected = table("ingest_reject")
    file = file[-FILE_MAX:]
    seen: set[tuple[int, str]] = set()
    for chunk in _chunks(sorted({record.line for record, _ in rejects}), LOOKUP_CHUNK):
        stmt = select(rejected.c.line, rejected.c.reason).where(
            rejected.c.source == source, rejected.c.file == file, rejected.c.line.in_(chunk)
        )
        seen.update((row.line, row.reason) for row in conn.execute(stmt))
    now = datetime.now(UTC)
    rows = []
    for record, why in rejects:
        reason = _printable(why)[:REASON_MAX]
        if (record.line, reason) in seen:
            continue
        seen.add((record.line, reason))
        rows.append(
            {
                "source": source,
                "file": file,
                "line": record.line,
                "reason": reason,
                "raw": _printable(record.raw)[:RAW_MAX],
                "rejected_at": now,
            }
        )
    if rows:
        conn.execute(insert(rejected), rows)
    return len(rows)
