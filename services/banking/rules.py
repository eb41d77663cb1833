"""The bank's rules for a write's checks, and how money is booked and described.

Checks raise :class:`~services.banking.core.NotFound` or :class:`~services.banking.core.Refused`
and write nothing; :func:`book` is the only place a balance changes, always with a ledger row.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, insert, select, update
from sqlmodel import SQLModel

from services.banking.core import NotFound, Refused, Write, check_id
from services.models import DEPOSIT_TYPES
from services.money import EXPONENT, MAX_MINOR, display_money

_T = SQLModel.metadata.tables
# Outgoing transfers and payments per customer per UTC day, in each currency's minor units
# (10,000.00 for the two-decimal currencies; every seeded account is USD).
DAILY_LIMIT_MINOR = 10_000_00
# Ledger rows these writes book carry ``source_ref = "concierge:<reference>:<leg>"``; only they
# count towards the daily limit (the bank's own postings, salaries and bills do not).
SOURCE_PREFIX = "concierge:"
DEPOSIT = frozenset(str(kind) for kind in DEPOSIT_TYPES)


def check_amount(amount_minor: object, currency: object) -> tuple[int, str]:
    """A positive amount in minor units and a currency the bank books in."""
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int) or amount_minor <= 0:
        raise Refused("The amount must be more than zero.")
    if amount_minor > MAX_MINOR:
        raise Refused("That amount is too large.")
    code = currency.upper() if isinstance(currency, str) else ""
    if code not in EXPONENT:
        raise Refused(f"We don't move money in {currency!s}.")
    return amount_minor, code


def check_text(value: object, what: str, limit: int) -> str:
    """Non-empty text, trimmed, at most ``limit`` characters."""
    text = " ".join(value.split()) if isinstance(value, str) else ""
    if not text:
        raise Refused(f"Please give a {what}.")
    if len(text) > limit:
        raise Refused(f"The {what} is too long (at most {limit} characters).")
    return text


def owned(w: Write, table_name: str, row_id: object, what: str, *, lock: bool = False) -> Row[Any]:
    """The customer's row of ``table_name`` with id ``row_id``.

    Raises:
        NotFound: missing or another customer's (the same message either way).
    """
    check_id(row_id, what)
    table = _T[table_name]
    query = select(table).where(table.c.id == row_id, table.c.person_id == w.person_id)
    row = w.conn.execute(query.with_for_update(key_share=True) if lock else query).first()
    if row is None:
        raise NotFound(what)
    return row


@cache
def _statements() -> dict[str, Any]:
    """The write path's statements, built once with bound parameters and reused.

    A transfer runs about ten of them, and building a SQLAlchemy statement costs more than
    SQLite takes to run one. Parameter names start with ``b_`` so they never collide with
    the column names an UPDATE or INSERT reserves.
    """
    accounts, ledger = _T["account"], _T["ledger_entry"]
    amount = ledger.c.amount_minor
    return {
        "lock": select(accounts)
        .where(
            accounts.c.id.in_(bindparam("b_ids", expanding=True)),
            accounts.c.person_id == bindparam("b_person"),
        )
        .order_by(accounts.c.id)
        .with_for_update(key_share=True),
        "sent_today": select(func.coalesce(func.sum(amount), 0)).where(
            ledger.c.person_id == bindparam("b_person"),
            ledger.c.currency == bindparam("b_currency"),
            amount < 0,
            ledger.c.booked_at >= bindparam("b_start"),
            ledger.c.booked_at < bindparam("b_end"),
            ledger.c.source_ref.like(SOURCE_PREFIX + "%"),
        ),
        "move_balance": update(accounts)
        .where(accounts.c.id == bindparam("b_account"))
        .values(balance_minor=accounts.c.balance_minor + bindparam("b_amount"))
        .returning(accounts.c.balance_minor),
        "post": insert(ledger).returning(ledger.c.id),
    }


def lock_accounts(w: Write, ids: Iterable[object]) -> dict[int, Row[Any]]:
    """The customer's accounts ``ids``, locked in id order (no deadlocks between writers)."""
    wanted = sorted({check_id(i, "account") for i in ids})
    rows = w.conn.execute(_statements()["lock"], {"b_ids": wanted, "b_person": w.person_id}).all()
    found = {int(r.id): r for r in rows}
    if len(found) != len(wanted):
        raise NotFound("account")
    return found


def check_usable(account: Row[Any]) -> None:
    """Money can move in or out of an open account only."""
    if account.status == "frozen":
        raise Refused(f"{label(account)} is frozen, so no money can move in or out of it.")
    if account.status != "open":
        raise Refused(f"{label(account)} is {account.status}, so no money can move through it.")


def check_deposit(account: Row[Any]) -> None:
    """Transfers and payments come from (and between) checking and savings accounts."""
    if account.type not in DEPOSIT:
        raise Refused(
            f"{label(account)} is not a checking or savings account, so I can't move money "
            "that way."
        )


def check_currency(account: Row[Any], currency: str) -> None:
    """No currency conversion: the amount must be in the account's currency."""
    if account.currency != currency:
        raise Refused(f"{label(account)} holds {account.currency}, not {currency}.")


def check_funds(account: Row[Any], amount_minor: int) -> None:
    """Available funds are the balance (overdraft is not lent by a chat)."""
    if account.balance_minor < amount_minor:
        raise Refused(
            f"There isn't enough money in {label(account)}: the balance is "
            f"{money(account.balance_minor, account.currency)} and you asked to move "
            f"{money(amount_minor, account.currency)}."
        )


def sent_today(conn: Connection, *, person_id: int, currency: str, now: datetime) -> int:
    """Minor units the customer has sent out on ``now``'s UTC day through these writes."""
    start = datetime.combine(now.astimezone(UTC).date(), datetime.min.time(), tzinfo=UTC)
    day = {"b_start": start, "b_end": start + timedelta(days=1)}
    total = conn.execute(
        _statements()["sent_today"], {"b_person": person_id, "b_currency": currency, **day}
    ).scalar_one()
    return -int(total)


def check_daily_limit(w: Write, currency: str, amount_minor: int) -> None:
    """Refuse what would take today's outgoing transfers and payments over the limit."""
    used = sent_today(w.conn, person_id=w.person_id, currency=currency, now=w.now)
    if used + amount_minor > DAILY_LIMIT_MINOR:
        left = max(0, DAILY_LIMIT_MINOR - used)
        raise Refused(
            f"That would go over your daily limit of {money(DAILY_LIMIT_MINOR, currency)} for "
            f"transfers and payments; you can send {money(left, currency)} more today."
        )


# --- changes ----------------------------------------------------------------------------------


def book(
    w: Write,
    account: Row[Any],
    *,
    amount_minor: int,
    leg: str,
    category: str,
    channel: str,
    description: str,
    merchant: str | None = None,
    counterparty: str | None = None,
) -> tuple[int, int]:
    """Post one ledger row and move the balance with it; returns (entry id, balance after)."""
    q = _statements()
    after = w.conn.execute(
        q["move_balance"], {"b_account": account.id, "b_amount": amount_minor}
    ).scalar_one()
    entry = w.conn.execute(
        q["post"],
        {
            "account_id": account.id,
            "person_id": w.person_id,
            "booked_at": w.now,
            "amount_minor": amount_minor,
            "currency": account.currency,
            "merchant": merchant[:100] if merchant else None,
            "category": category,
            "channel": channel,
            "counterparty": counterparty[:100] if counterparty else None,
            "description": f"{description} {w.reference}"[:200],
            "balance_after_minor": after,
            "source_ref": f"{SOURCE_PREFIX}{w.reference}:{leg}",
        },
    ).scalar_one()
    return int(entry), int(after)


# --- words ------------------------------------------------------------------------------------


def money(minor: int, currency: str = "USD") -> str:
    """Amounts in confirmations and refusals, as customers read them: ``$1,234.50``, ``€5.00``."""
    return display_money(minor, currency)


def label(account: Row[Any]) -> str:
    """``Everyday (…4821)``."""
    return f"{account.name} (…{str(account.number)[-4:]})"


def day(d: date) -> str:
    """``Mar 5, 2026``."""
    return f"{d:%b} {d.day}, {d.year}"
