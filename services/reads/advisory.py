"""Reads for advisors: finding a customer, and the cases the assistant handed over.

Unlike the customer reads these are not scoped to one person: only routes that have checked an
advisor's token call them (and audit every call).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, or_, select
from sqlmodel import SQLModel

_T = SQLModel.metadata.tables
MAX_RESULTS = 20
OPEN_STATUSES = ("open", "assigned")


def _digits(column: Any) -> Any:
    # Phone numbers are stored as typed ("+1 (555) 010-2030"); compare digits only.
    for mark in ("+", "-", " ", "(", ")", "."):
        column = func.replace(column, mark, "")
    return column


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_customers(conn: Connection, *, q: str, limit: int = MAX_RESULTS) -> list[dict[str, Any]]:
    """Customers whose name, email, phone or an account's last four digits match ``q``.

    Args:
        conn: A connection to the system of record.
        q: What the advisor typed: part of a name or email, a phone number (any punctuation),
            or the last four digits of an account number.
        limit: Most customers returned (capped at ``MAX_RESULTS``), by id.

    Returns:
        ``id``, ``full_name``, ``email``, ``phone``, ``segment`` and the ``last4`` of each of
        the customer's accounts.
    """
    text = q.strip().lower()
    if not text:
        return []
    person, account = _T["person"], _T["account"]
    like = _like(text)
    matches = [
        func.lower(person.c.full_name).like(like, escape="\\"),
        func.lower(person.c.email).like(like, escape="\\"),
    ]
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) >= 4:
        matches.append(_digits(person.c.phone).like(_like(digits), escape="\\"))
    if len(text) == 4 and text.isdigit():
        owners = select(account.c.person_id).where(account.c.number.like(f"%{text}"))
        matches.append(person.c.id.in_(owners))
    rows = conn.execute(
        select(person.c.id, person.c.full_name, person.c.email, person.c.phone, person.c.segment)
        .where(or_(*matches))
        .order_by(person.c.id)
        .limit(max(1, min(limit, MAX_RESULTS)))
    ).all()
    ids = [r.id for r in rows]
    last4: dict[int, list[str]] = {i: [] for i in ids}
    for pid, number in conn.execute(
        select(account.c.person_id, account.c.number)
        .where(account.c.person_id.in_(ids))
        .order_by(account.c.id)
    ):
        last4[pid].append(str(number)[-4:])
    return [{**r._mapping, "accounts_last4": last4[r.id]} for r in rows]


def person_exists(conn: Connection, *, person_id: int) -> bool:
    """Whether a customer with ``person_id`` is on file."""
    person = _T["person"]
    return conn.execute(select(person.c.id).where(person.c.id == person_id)).first() is not None


def list_cases(
    conn: Connection, *, open_only: bool = True, limit: int = 100
) -> list[dict[str, Any]]:
    """Handoff cases, newest first, with the customer's name.

    Args:
        conn: A connection to the system of record.
        open_only: Only cases still ``open`` or ``assigned``.
        limit: Most cases returned.
    """
    case, person = _T["handoff_case"], _T["person"]
    statement = (
        select(case, person.c.full_name.label("customer_name"))
        .join(person, person.c.id == case.c.person_id)
        .order_by(case.c.opened_at.desc(), case.c.id.desc())
        .limit(limit)
    )
    if open_only:
        statement = statement.where(case.c.status.in_(OPEN_STATUSES))
    return [dict(r._mapping) for r in conn.execute(statement)]


def get_case(conn: Connection, *, case_id: int) -> dict[str, Any] | None:
    """One handoff case with the customer's name, or None."""
    case, person = _T["handoff_case"], _T["person"]
    row = conn.execute(
        select(case, person.c.full_name.label("customer_name"))
        .join(person, person.c.id == case.c.person_id)
        .where(case.c.id == case_id)
    ).first()
    return dict(row._mapping) if row else None
