"""Ground truth of the synthetic bank: what is really going on with each customer.

Only the generator writes it and only evaluations (and tests) read it. No decision code may
import this module; an import-linter contract in ``pyproject.toml`` enforces that.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Column, select
from sqlalchemy.engine import Connection
from sqlmodel import Field, SQLModel


class GroundTruth(SQLModel, table=True):
    """One fact about a customer: an archetype, a planted situation, or a hidden need."""

    __tablename__ = "ground_truth"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    kind: str = Field(max_length=20)  # archetype | situation | need
    label: str = Field(max_length=60)
    detail: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


def labelled(conn: Connection, *, kind: str, label: str) -> dict[int, dict[str, Any]]:
    """People carrying ``label`` of ``kind``, with the fact's detail."""
    table = GroundTruth.__table__  # type: ignore[attr-defined]
    rows = conn.execute(
        select(table.c.person_id, table.c.detail).where(
            table.c.kind == kind, table.c.label == label
        )
    )
    return {row.person_id: row.detail or {} for row in rows}


def archetypes(conn: Connection) -> dict[int, str]:
    """Each person's archetype."""
    table = GroundTruth.__table__  # type: ignore[attr-defined]
    rows = conn.execute(select(table.c.person_id, table.c.label).where(table.c.kind == "archetype"))
    return {row.person_id: row.label for row in rows}
