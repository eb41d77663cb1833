"""Engines and schema for the system of record (SQLite by default, PostgreSQL at scale)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel

from services import models, truth  # noqa: F401  (registers every table on the metadata)

_APPEND_ONLY_SQLITE = [
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
]
_APPEND_ONLY_POSTGRES = [
    "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$ LANGUAGE plpgsql",
    "DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log",
    "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
]


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets its folder, WAL, and enforced foreign keys."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


class SchemaMismatch(RuntimeError):
    """The database's tables were made by an older Concierge and lack columns this one needs."""


def schema_mismatches(engine: Engine) -> list[str]:
    """Tables that exist but lack columns of the current model, e.g. ``person: national_id``."""
    inspector = inspect(engine)
    problems = []
    for table in SQLModel.metadata.sorted_tables:
        if not inspector.has_table(table.name):
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        missing = sorted(set(table.c.keys()) - present)
        if missing:
            problems.append(f"{table.name}: {', '.join(missing)}")
    return problems


def create_schema(engine: Engine, *, verify: bool = True) -> None:
    """Create every table (idempotent) and the audit log's append-only guard.

    Raises:
        SchemaMismatch: when ``verify`` and existing tables lack columns (no migrations yet:
            the bank must be re-seeded or re-loaded).
    """
    existing = set(inspect(engine).get_table_names())
    SQLModel.metadata.create_all(engine)
    problems = schema_mismatches(engine) if verify or existing else []
    if verify and problems:
        raise SchemaMismatch(
            "the database was made by an older Concierge; missing columns: "
            + "; ".join(problems)
            + ". Re-create it (e.g. `concierge seed --replace`)."
        )
    outdated = {line.split(":", 1)[0] for line in problems}  # their columns come first
    _create_missing_indexes(engine, existing - outdated)
    statements = _APPEND_ONLY_SQLITE if engine.dialect.name == "sqlite" else _APPEND_ONLY_POSTGRES
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def _create_missing_indexes(engine: Engine, tables: set[str]) -> None:
    """Add the indexes declared since one of ``tables`` was made.

    ``create_all`` skips a table that exists; one it made just now has every index already.
    """
    if not tables:
        return
    inspector = inspect(engine)
    for table in SQLModel.metadata.sorted_tables:
        if not table.indexes or table.name not in tables:
            continue
        present = {index["name"] for index in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in present:
                index.create(engine)


def drop_schema(engine: Engine) -> None:
    """Drop every table Concierge owns."""
    SQLModel.metadata.drop_all(engine)


def is_seeded(engine: Engine) -> bool:
    """Whether the database already holds a bank (complete or not)."""
    return bank_state(engine) != "empty"


def bank_state(engine: Engine) -> str:
    """``empty``, ``complete`` (a seed run finished), or ``partial`` (people, but no finish)."""
    if not inspect(engine).has_table("person"):
        return "empty"
    with engine.connect() as conn:
        if conn.execute(text("SELECT 1 FROM person LIMIT 1")).first() is None:
            return "empty"
        done = conn.execute(
            text("SELECT value FROM bank_meta WHERE key = 'completed'")
        ).scalar_one_or_none()
    return "complete" if done == "true" else "partial"


def reset_sequences(engine: Engine) -> None:
    """After bulk loads with explicit ids, move PostgreSQL's id sequences past the data."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if "id" not in table.c or not table.c.id.autoincrement:
                continue
            seq = conn.execute(
                text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}
            ).scalar()
            if seq:
                conn.execute(
                    text(
                        f"SELECT setval('{seq}', COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"  # noqa: E501
                    )
                )


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine) as session:
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise


def safe_url(url: str) -> str:
    """The database URL with any password masked, fit for messages and logs.

    Args:
        url: A SQLAlchemy database URL.

    Returns:
        The URL with its password replaced by ``***``.
    """
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL has no password we could find either
        return "<unparsable database url>"
