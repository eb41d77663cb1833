"""A customer's transactions a page at a time: filters and keyset pagination.

Pages are ordered newest first by ``(booked_at, id)`` and continue *after* the last row of the
previous page (a keyset), never by offset: a transaction booked while the customer pages
cannot shift rows between pages, so nothing is shown twice or skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, false, func, or_, select
from sqlmodel import SQLModel

from services.money import EXPONENT

_T = SQLModel.metadata.tables
MAX_PAGE = 200


@dataclass(frozen=True)
class StatementFilter:
    """What to show; every field optional. Amount bounds are on the absolute amount."""

    account_id: int | None = None
    merchant: str | None = None
    category: str | None = None
    since: date | None = None
    until: date | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    text: str | None = None


def _utc(value: Any) -> datetime:
    if isinstance(value, str):  # SQLite hands back text in some query shapes
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _amount_bound(amount: Decimal, column: Any, currency: Any, *, lower: bool) -> Any:
    """``abs(amount) >= / <= bound`` in every currency's own minor units."""
    size = func.abs(column)
    parts = []
    for code, places in EXPONENT.items():
        scaled = amount.scaleb(places).to_integral_value(ROUND_CEILING if lower else ROUND_FLOOR)
        parts.append(and_(currency == code, size >= int(scaled) if lower else size <= int(scaled)))
    return or_(*parts)


def _conditions(person_id: int, f: StatementFilter) -> list[ColumnElement[bool]]:
    e = _T["ledger_entry"]
    where: list[ColumnElement[bool]] = [e.c.person_id == person_id]
    if f.account_id is not None:
        where.append(e.c.account_id == f.account_id)
    if f.merchant:
        where.append(func.lower(e.c.merchant) == f.merchant.strip().lower())
    if f.category:
        where.append(e.c.category == f.category.strip().lower())
    if f.since:
        where.append(e.c.booked_at >= _day_start(f.since))
    if f.until:
        where.append(e.c.booked_at < _day_start(f.until + timedelta(days=1)))
    if f.min_amount is not None:
        where.append(_amount_bound(f.min_amount, e.c.amount_minor, e.c.currency, lower=True))
    if f.max_amount is not None:
        where.append(_amount_bound(f.max_amount, e.c.amount_minor, e.c.currency, lower=False))
    if f.text and f.text.strip():
        escaped = f.text.strip().lower().replace("\\", "\\\\").replace("%", "\\%")
        like = "%" + escaped.replace("_", "\\_") + "%"
        where.append(
            or_(
                func.lower(e.c.description).like(like, escape="\\"),
                func.lower(func.coalesce(e.c.merchant, "")).like(like, escape="\\"),
                func.lower(e.c.category).like(like, escape="\\"),
            )
        )
    return where


def transaction_page(
    conn: Connection,
    *,
    person_id: int,
    filters: StatementFilter,
    after: tuple[datetime, int] | None = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], tuple[datetime, int] | None]:
    """One page of the customer's transactions, newest first.

    Args:
        conn: A connection to the system of record.
        person_id: The signed-in customer (every row is filtered on it, accounts included).
        filters: What to show.
        after: The ``(booked_at, id)`` of the last row of the previous page; None for the first.
        limit: Rows per page, 1 to ``MAX_PAGE``.

    Returns:
        The rows (``id``, ``account_id``, ``booked_at``, ``amount_minor``, ``currency``,
        ``merchant``, ``category``, ``description``), and the key to pass as ``after`` for the
        next page, or None when this is the last one.
    """
    e, a = _T["ledger_entry"], _T["account"]
    limit = max(1, min(limit, MAX_PAGE))
    where = _conditions(person_id, filters)
    if after is not None:
        booked, last_id = after
        where.append(or_(e.c.booked_at < booked, and_(e.c.booked_at == booked, e.c.id < last_id)))
    rows = conn.execute(
        select(
            e.c.id,
            e.c.account_id,
            e.c.booked_at,
            e.c.amount_minor,
            e.c.currency,
            e.c.merchant,
            e.c.category,
            e.c.description,
        )
        # The account must be the customer's too: a ledger row can never leak through a join.
        .join(a, and_(a.c.id == e.c.account_id, a.c.person_id == person_id))
        .where(*where)
        .order_by(e.c.booked_at.desc(), e.c.id.desc())
        .limit(limit + 1)
    ).all()
    items = [{**r._mapping, "booked_at": _utc(r.booked_at)} for r in rows[:limit]]
    more = len(rows) > limit
    return items, ((items[-1]["booked_at"], int(items[-1]["id"])) if more else None)


def resolve_account(conn: Connection, *, person_id: int, ref: str) -> int | None:
    """The id of the customer's account that ``ref`` names: its id, last four digits or name.

    Returns None when none of the customer's accounts matches (also when ``ref`` is someone
    else's account id), or when a last four or name matches more than one.
    """
    a = _T["account"]
    text = ref.strip()
    if not text:
        return None
    mine = a.c.person_id == person_id
    # ASCII digits only ("²" is a digit to isdigit but not to int) and no more than an id holds.
    numeric = text.isascii() and text.isdigit()
    if numeric and len(text) <= 18:
        found = conn.execute(select(a.c.id).where(mine, a.c.id == int(text))).first()
        if found is not None:
            return int(found.id)
    by_last4 = a.c.number.like(f"%{text}") if numeric and len(text) == 4 else false()
    ids = conn.execute(
        select(a.c.id).where(mine, or_(by_last4, func.lower(a.c.name) == text.lower()))
    ).all()
    return int(ids[0].id) if len(ids) == 1 else None
