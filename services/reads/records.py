"""Reads for the chat tools: one customer's own accounts, transactions, bills, cards, goals.

Every function takes the customer's ``person_id`` (the authenticated one, from the caller) and
filters on it in SQL, so no argument can reach another customer's rows. Money stays in minor
units here; the tools format it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Connection, Integer, Select, and_, bindparam, case, func, select
from sqlmodel import SQLModel

from services.insights.cashflow import BILL_KINDS
from services.reads.accounts import account_rows
from services.spending import INCOME, business_where, spending_where

_T = SQLModel.metadata.tables
MAX_ROWS = 50


@dataclass(frozen=True)
class TransactionQuery:
    """Filters for :func:`search_transactions`; every field optional."""

    merchant: str | None = None
    category: str | None = None
    start: date | None = None
    end: date | None = None
    min_minor: int | None = None  # on the absolute amount
    max_minor: int | None = None
    text: str | None = None
    account_id: int | None = None
    limit: int = 20


# Each statement is built once with bound parameters and reused: these run on every chat turn
# and whenever a customer's context is read, and building a SQLAlchemy statement costs more
# than SQLite takes to answer them.


def _who() -> Any:
    return bindparam("person_id")


@cache
def _statements() -> dict[str, Select[Any]]:
    a, p, c, g = _T["account"], _T["payee"], _T["card"], _T["savings_goal"]
    s, e, r = _T["scheduled_transfer"], _T["ledger_entry"], _T["recurring_series"]
    target = a.alias("target")
    return {
        "payees": select(p.c.id, p.c.name, p.c.kind)
        .where(p.c.person_id == _who())
        .order_by(p.c.id),
        "cards": select(c.c.id, c.c.type, c.c.last4, c.c.status, c.c.account_id, c.c.expires_on)
        .where(c.c.person_id == _who(), c.c.status != "replaced")
        .order_by(c.c.id),
        "goals": select(
            g.c.id, g.c.name, g.c.target_minor, g.c.saved_minor, g.c.currency, g.c.target_date
        )
        .where(g.c.person_id == _who())
        .order_by(g.c.id),
        "scheduled": select(
            s.c.id,
            s.c.kind,
            s.c.cadence,
            s.c.amount_minor,
            s.c.currency,
            s.c.next_date,
            a.c.name.label("from_name"),
            target.c.name.label("to_name"),
            p.c.name.label("payee_name"),
        )
        .join(a, a.c.id == s.c.from_account_id)
        .outerjoin(target, target.c.id == s.c.to_account_id)
        .outerjoin(p, p.c.id == s.c.payee_id)
        .where(s.c.person_id == _who(), s.c.active.is_(True))
        .order_by(s.c.id),
        "merchants": select(e.c.merchant, func.count().label("n"))
        .where(
            e.c.person_id == _who(), e.c.merchant.is_not(None), e.c.booked_at >= bindparam("since")
        )
        .group_by(e.c.merchant)
        .order_by(func.count().desc(), e.c.merchant)
        .limit(bindparam("limit", type_=Integer, literal_execute=True)),
        "upcoming_bills": select(
            r.c.id, r.c.merchant, r.c.amount_minor, r.c.currency, r.c.next_date, r.c.kind
        )
        .where(
            r.c.person_id == _who(),
            r.c.active.is_(True),
            r.c.kind.in_(sorted(BILL_KINDS)),
            r.c.amount_minor < 0,
            r.c.next_date >= bindparam("start"),
            r.c.next_date <= bindparam("end"),
        )
        .order_by(r.c.next_date, r.c.id),
        "transaction": select(
            e.c.id, e.c.booked_at, e.c.amount_minor, e.c.currency, e.c.merchant, e.c.description
        ).where(e.c.id == bindparam("entry_id"), e.c.person_id == _who()),
    }


def accounts(conn: Connection, *, person_id: int) -> list[dict[str, Any]]:
    """The customer's accounts that are not closed, in id order, with the last four digits."""
    return [
        {
            "id": r.id,
            "type": r.type,
            "name": r.name,
            "number": r.number,
            "currency": r.currency,
            "balance_minor": r.balance_minor,
            "status": r.status,
            "last4": str(r.number)[-4:],
        }
        for r in account_rows(conn, person_id=person_id)
        if r.status != "closed"
    ]


def closed_accounts(conn: Connection, *, person_id: int) -> list[dict[str, Any]]:
    """The person's closed accounts (id, name, type), oldest first."""
    return [
        {"id": r.id, "name": r.name, "type": r.type}
        for r in account_rows(conn, person_id=person_id)
        if r.status == "closed"
    ]


def payees(conn: Connection, *, person_id: int) -> list[dict[str, Any]]:
    """The customer's saved payees."""
    rows = conn.execute(_statements()["payees"], {"person_id": person_id})
    return [dict(r._mapping) for r in rows]


def cards(conn: Connection, *, person_id: int) -> list[dict[str, Any]]:
    """The customer's cards that are not replaced."""
    rows = conn.execute(_statements()["cards"], {"person_id": person_id})
    return [dict(r._mapping) for r in rows]


def goals(conn: Connection, *, person_id: int) -> list[dict[str, Any]]:
    """The customer's savings goals."""
    rows = conn.execute(_statements()["goals"], {"person_id": person_id})
    return [dict(r._mapping) for r in rows]


def scheduled(conn: Connection, *, person_id: int) -> list[dict[str, Any]]:
    """Active scheduled transfers, payments and savings rules, with what they pay."""
    rows = conn.execute(_statements()["scheduled"], {"person_id": person_id})
    return [dict(r._mapping) for r in rows]


def merchants(conn: Connection, *, person_id: int, since: datetime, limit: int = 40) -> list[str]:
    """The merchants the customer paid most often since ``since``."""
    values = {"person_id": person_id, "since": since, "limit": int(limit)}
    rows = conn.execute(_statements()["merchants"], values)
    return [str(r.merchant) for r in rows]


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _clauses() -> dict[str, Any]:
    """The filters a transaction search may use, each over a bound parameter of its name."""
    e = _T["ledger_entry"]
    return {
        "merchant": func.lower(e.c.merchant) == bindparam("merchant"),
        "category": e.c.category == bindparam("category"),
        "start": e.c.booked_at >= bindparam("start"),
        "end": e.c.booked_at < bindparam("end"),
        "min_minor": func.abs(e.c.amount_minor) >= bindparam("min_minor"),
        "max_minor": func.abs(e.c.amount_minor) <= bindparam("max_minor"),
        "text": func.lower(e.c.description).like(bindparam("text"))
        | func.lower(e.c.merchant).like(bindparam("text")),
        "account_id": e.c.account_id == bindparam("account_id"),
    }


@cache
def _search_statement(filters: tuple[str, ...], limit: int) -> Select[Any]:
    """The search for a given set of filters (each a bound parameter of the same name)."""
    e, a = _T["ledger_entry"], _T["account"]
    clauses = _clauses()
    return (
        select(
            e.c.id,
            e.c.booked_at,
            e.c.amount_minor,
            e.c.currency,
            e.c.merchant,
            e.c.category,
            e.c.description,
            a.c.name.label("account_name"),
        )
        .join(a, and_(a.c.id == e.c.account_id, a.c.person_id == _who()))
        .where(e.c.person_id == _who(), *(clauses[name] for name in filters))
        .order_by(e.c.booked_at.desc(), e.c.id.desc())
        .limit(limit)
    )


@cache
def _totals_statement(filters: tuple[str, ...]) -> Select[Any]:
    """Per currency: how many entries match, money out and money in (no row limit)."""
    e, a = _T["ledger_entry"], _T["account"]
    clauses = _clauses()
    out = case((e.c.amount_minor < 0, -e.c.amount_minor), else_=0)
    into = case((e.c.amount_minor > 0, e.c.amount_minor), else_=0)
    return (
        select(
            e.c.currency,
            func.sum(case((e.c.amount_minor < 0, 1), else_=0)).label("debits"),
            func.sum(out).label("debited"),
            func.sum(case((e.c.amount_minor > 0, 1), else_=0)).label("credits"),
            func.sum(into).label("credited"),
        )
        .join(a, and_(a.c.id == e.c.account_id, a.c.person_id == _who()))
        .where(e.c.person_id == _who(), *(clauses[name] for name in filters))
        .group_by(e.c.currency)
        .order_by(e.c.currency)
    )


def _search_values(person_id: int, query: TransactionQuery) -> dict[str, Any]:
    values: dict[str, Any] = {"person_id": person_id}
    if query.merchant:
        values["merchant"] = query.merchant.lower()
    if query.category:
        values["category"] = query.category
    if query.start:
        values["start"] = _day_start(query.start)
    if query.end:
        values["end"] = _day_start(query.end + timedelta(days=1))
    if query.min_minor is not None:
        values["min_minor"] = query.min_minor
    if query.max_minor is not None:
        values["max_minor"] = query.max_minor
    if query.text:
        values["text"] = f"%{query.text.lower()}%"
    if query.account_id is not None:
        values["account_id"] = query.account_id
    return values


def search_transactions(
    conn: Connection, *, person_id: int, query: TransactionQuery
) -> list[dict[str, Any]]:
    """The customer's transactions matching ``query``, newest first."""
    values = _search_values(person_id, query)
    filters = tuple(name for name in values if name != "person_id")
    stmt = _search_statement(filters, max(1, min(query.limit, MAX_ROWS)))
    return [dict(r._mapping) for r in conn.execute(stmt, values)]


def transaction_totals(
    conn: Connection, *, person_id: int, query: TransactionQuery
) -> list[dict[str, Any]]:
    """Every transaction matching ``query`` counted and summed, one row per currency.

    Each row: ``currency``, ``debits`` (how many took money out) and ``debited`` (their total,
    positive minor units), ``credits`` and ``credited`` for money in. Unlike
    :func:`search_transactions` there is no row limit: a count is of all of them.
    """
    values = _search_values(person_id, query)
    filters = tuple(name for name in values if name != "person_id")
    rows = conn.execute(_totals_statement(filters), values)
    return [
        {
            "currency": r.currency,
            "debits": int(r.debits or 0),
            "debited": int(r.debited or 0),
            "credits": int(r.credits or 0),
            "credited": int(r.credited or 0),
        }
        for r in rows
    ]


def income(
    conn: Connection, *, person_id: int, start: date, end: date, limit: int = MAX_ROWS
) -> list[dict[str, Any]]:
    """Income credited between ``start`` and ``end`` (inclusive), newest first.

    Income as ``services.spending`` defines it (pay, benefits: the ``income`` category, money
    in); moves between the customer's own accounts, refunds and interest are not income.
    """
    values = {
        "person_id": person_id,
        "start": _day_start(start),
        "end": _day_start(end + timedelta(days=1)),
    }
    return [
        dict(r._mapping) for r in conn.execute(_income_statement(max(1, min(limit, 500))), values)
    ]


@cache
def _income_statement(limit: int) -> Select[Any]:
    e, a = _T["ledger_entry"], _T["account"]
    return (
        select(
            e.c.id,
            e.c.booked_at,
            e.c.amount_minor,
            e.c.currency,
            e.c.merchant,
            e.c.counterparty,
            e.c.description,
            a.c.name.label("account_name"),
        )
        .join(a, and_(a.c.id == e.c.account_id, a.c.person_id == _who()))
        .where(
            e.c.person_id == _who(),
            e.c.amount_minor > 0,
            e.c.category.in_(sorted(INCOME)),
            e.c.booked_at >= bindparam("start"),
            e.c.booked_at < bindparam("end"),
        )
        .order_by(e.c.booked_at.desc(), e.c.id.desc())
        .limit(limit)
    )


@cache
def _spending_statement(by_category: bool, business: bool) -> Select[Any]:
    """Debits per category and currency: personal spending, or a business's outgoings."""
    e, a = _T["ledger_entry"], _T["account"]
    kind = business_where if business else spending_where
    where = [
        e.c.person_id == _who(),
        e.c.amount_minor < 0,
        kind(e.c.category, a.c.type),
        e.c.booked_at >= bindparam("start"),
        e.c.booked_at < bindparam("end"),
    ]
    if by_category:
        where.append(e.c.category == bindparam("category"))
    return (
        select(e.c.category, e.c.currency, func.sum(-e.c.amount_minor).label("spent"))
        .join(a, a.c.id == e.c.account_id)
        .where(*where)
        .group_by(e.c.category, e.c.currency)
        .order_by(func.sum(-e.c.amount_minor).desc(), e.c.category)
    )


def spending_summary(
    conn: Connection, *, person_id: int, start: date, end: date, category: str | None = None
) -> dict[str, Any]:
    """Money spent between ``start`` and ``end`` (inclusive), by category, largest first.

    ``by_category`` and ``total_minor`` are the customer's personal spending as
    ``services.spending`` defines it: moves between their own accounts, card-bill payments,
    money sent to other banks, income and interest are left out. A business's payroll, suppliers
    and other outgoings from a business account are reported apart, under
    ``business_outgoings`` (empty for a customer without them).
    """
    values: dict[str, Any] = {
        "person_id": person_id,
        "start": _day_start(start),
        "end": _day_start(end + timedelta(days=1)),
    }
    if category:
        values["category"] = category
    found = {}
    for business in (False, True):
        rows = conn.execute(_spending_statement(bool(category), business), values)
        found[business] = [dict(r._mapping) for r in rows]
    return {
        "start": start,
        "end": end,
        "total_minor": sum(int(r["spent"]) for r in found[False]),
        "by_category": found[False],
        "business_outgoings": {
            "total_minor": sum(int(r["spent"]) for r in found[True]),
            "by_category": found[True],
        },
    }


def upcoming_bills(
    conn: Connection, *, person_id: int, today: date, days: int = 14
) -> list[dict[str, Any]]:
    """Active bills and subscriptions due from ``today`` for ``days`` days, soonest first."""
    window = {"person_id": person_id, "start": today, "end": today + timedelta(days=days)}
    rows = conn.execute(_statements()["upcoming_bills"], window)
    return [dict(row._mapping) for row in rows]


def transaction(conn: Connection, *, person_id: int, entry_id: int) -> dict[str, Any] | None:
    """One of the customer's transactions, or None (also when it is someone else's)."""
    found = {"person_id": person_id, "entry_id": entry_id}
    row = conn.execute(_statements()["transaction"], found).first()
    return dict(row._mapping) if row else None
