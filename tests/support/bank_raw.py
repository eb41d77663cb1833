"""Read a seeded bank's raw tables (never the ground truth) for the data tests."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, text


def rows(engine: Engine, sql: str, **params: Any) -> list[Any]:
    """Run ``sql`` and return its rows."""
    with engine.connect() as conn:
        return list(conn.execute(text(sql), params))


def as_of(engine: Engine) -> date:
    """The seeded bank's today, from bank_meta."""
    return date.fromisoformat(rows(engine, "SELECT value FROM bank_meta WHERE key='as_of'")[0][0])


def noon(day: date) -> datetime:
    """The bank's clock on ``day``."""
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def utc(value: datetime | str) -> datetime:
    """A timestamp as aware UTC, whichever backend returned it (SQLite gives text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def day(value: date | str | None) -> date | None:
    """A date column's value, whichever backend returned it."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def obj(value: Any) -> Any:
    """A JSON column's value, whichever backend returned it."""
    return json.loads(value) if isinstance(value, str) else value


def group(items: Iterable[Any], key: int = 0) -> dict[Any, list[Any]]:
    """Rows grouped by one column."""
    out: dict[Any, list[Any]] = defaultdict(list)
    for item in items:
        out[item[key]].append(item)
    return out


def truth(engine: Engine, kind: str, label: str | None = None) -> dict[int, str]:
    """Ground truth (tests and evaluations only): person -> label."""
    sql = "SELECT person_id, label FROM ground_truth WHERE kind = :kind"
    found = rows(engine, sql, kind=kind)
    return {p: lab for p, lab in found if label is None or lab == label}
