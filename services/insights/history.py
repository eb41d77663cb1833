"""A customer's history as the insight detectors read it: plain tuples, loaded in a few queries.

The detectors are pure functions of a :class:`History` and a clock, so tests build histories by
hand and the decision path loads one per customer on a cold start (:func:`load_history`).
Times are aware UTC; money is integer minor units.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import Connection, Select, bindparam, func, or_, select
from sqlmodel import SQLModel

from services.money import DEFAULT_LOCALE, display_money, locale_for

# Thirteen months and a little: a seasonal bill is compared with the same month last year, and
# login habits with the year before.
LOOKBACK_DAYS = 400

_T = SQLModel.metadata.tables


class Entry(NamedTuple):
    """One booked ledger line (negative = money out)."""

    id: int
    account_id: int
    booked_at: datetime
    amount_minor: int
    merchant: str | None
    category: str
    channel: str
    description: str = ""
    recurring_id: int | None = None
    counterparty: str | None = None
    balance_after_minor: int | None = None
    currency: str = "USD"
    account_type: str = ""


class AccountRow(NamedTuple):
    """An account and the fields the detectors need."""

    id: int
    type: str
    name: str
    balance_minor: int
    currency: str = "USD"
    status: str = "open"
    opened_on: date | None = None
    overdraft_limit_minor: int = 0
    credit_limit_minor: int | None = None
    interest_rate_bps: int | None = None
    maturity_date: date | None = None
    term_months: int | None = None
    risk_tolerance: str | None = None
    target_allocation: dict[str, int] | None = None


class HoldingRow(NamedTuple):
    """A position in an investment account."""

    id: int
    account_id: int
    symbol: str
    asset_class: str
    market_value_minor: int


class SeriesRow(NamedTuple):
    """A recurring salary, bill, rent or subscription known to the bank."""

    id: int
    account_id: int
    kind: str
    merchant: str
    category: str
    amount_minor: int
    cadence: str
    next_date: date | None = None
    ends_on: date | None = None
    active: bool = True
    day: int | None = None
    started_on: date | None = None
    currency: str = "USD"


class TransferRow(NamedTuple):
    """A scheduled transfer; ``kind`` is ``one_off``, ``recurring`` or ``savings_rule``."""

    id: int
    from_account_id: int
    to_account_id: int | None
    amount_minor: int
    kind: str
    cadence: str | None = None
    next_date: date | None = None
    active: bool = True
    payee_id: int | None = None
    currency: str = "USD"


class EventRow(NamedTuple):
    """A signed-in app or web event."""

    id: int
    occurred_at: datetime
    kind: str
    page: str | None = None
    detail: str | None = None
    session_id: str = ""
    channel: str = "app"


@dataclass(frozen=True)
class History:
    """Everything the detectors may look at for one customer, oldest entries first."""

    person_id: int
    entries: tuple[Entry, ...] = ()
    accounts: tuple[AccountRow, ...] = ()
    holdings: tuple[HoldingRow, ...] = ()
    series: tuple[SeriesRow, ...] = ()
    transfers: tuple[TransferRow, ...] = ()
    events: tuple[EventRow, ...] = ()
    preferences: dict[str, Any] = field(default_factory=dict)
    locale: str = DEFAULT_LOCALE  # how the customer reads amounts (services.money.locale_for)
    # what a later load may build on (see load_history's ``previous``); not part of equality
    until: datetime | None = field(default=None, compare=False)
    newest_entry_id: int = field(default=0, compare=False)
    newest_event_id: int = field(default=0, compare=False)

    def money(self, minor: int, currency: str = "USD") -> str:
        """An amount as this customer reads it (the one customer-facing money format)."""
        return display_money(minor, currency, self.locale)


_R = TypeVar("_R", AccountRow, SeriesRow, TransferRow)


def _select(table: str, fields: tuple[str, ...]) -> Select[Any]:
    columns = _T[table].c
    return select(*(columns[name] for name in fields))


# The statements below run for every customer whose insights are recomputed: each is built
# once with bound parameters (``:person_id``, ``:since``...), as building a SQLAlchemy statement
# costs more than SQLite takes to answer these.


@cache
def _owned_statement(table: str, fields: tuple[str, ...]) -> Select[Any]:
    columns = _T[table].c
    mine = columns.person_id == bindparam("person_id")
    return _select(table, fields).where(mine).order_by(columns.id)


def _owned(conn: Connection, table: str, row: type[_R], person_id: int) -> tuple[_R, ...]:
    """Every row of ``table`` that belongs to ``person_id``, as ``row`` tuples in id order."""
    stmt = _owned_statement(table, row._fields)
    return tuple(row._make(r) for r in conn.execute(stmt, {"person_id": person_id}))


@cache
def _holdings_statement() -> Select[Any]:
    held = _T["holding"].c
    return (
        _select("holding", HoldingRow._fields)
        .where(held.account_id.in_(bindparam("accounts", expanding=True)))
        .order_by(held.id)
    )


def _window(table: str, at: str) -> tuple[Any, ...]:
    """The conditions for ``:person_id``'s rows of ``table`` with ``at`` in ``[:since, :until]``."""
    rows = _T[table].c
    return (
        rows.person_id == bindparam("person_id"),
        rows[at] >= bindparam("since"),
        rows[at] <= bindparam("until"),
    )


def _windowed(table: str, fields: tuple[str, ...], at: str, builds_on: bool) -> Select[Any]:
    """Rows of ``:person_id`` in ``table`` with their time ``at`` in ``[:since, :until]``.

    In time order. With ``builds_on``, only those a load that saw ids up to ``:newest_id`` at
    the clock ``:seen_until`` could not have seen (a newer id, or a later time).
    """
    rows = _T[table].c
    stmt = _select(table, fields).where(*_window(table, at))
    if builds_on:
        stmt = stmt.where(or_(rows.id > bindparam("newest_id"), rows[at] > bindparam("seen_until")))
    return stmt.order_by(rows[at], rows.id)


@cache
def _events_statement(builds_on: bool = False) -> Select[Any]:
    return _windowed("digital_event", EventRow._fields, "occurred_at", builds_on)


@cache
def _events_count_statement() -> Select[Any]:
    return select(func.count()).where(*_window("digital_event", "occurred_at"))


@cache
def _preferences_statement() -> Select[Any]:
    """The customer's contact preferences (if any) and their country, in one round trip."""
    cp, person = _T["contact_preference"], _T["person"]
    return (
        select(cp, person.c.country.label("person_country"))
        .select_from(person.outerjoin(cp, cp.c.person_id == person.c.id))
        .where(person.c.id == bindparam("person_id"))
    )


@cache
def _entries_statement(builds_on: bool) -> Select[Any]:
    return _windowed("ledger_entry", Entry._fields[:-1], "booked_at", builds_on)


def load_history(
    conn: Connection,
    *,
    person_id: int,
    now: datetime,
    lookback_days: int = LOOKBACK_DAYS,
    previous: History | None = None,
) -> History:
    """Load what the detectors need about ``person_id`` as of ``now``.

    Six indexed queries (seven with investments); ledger entries and digital events are those
    of the last ``lookback_days`` up to ``now``, nothing from the clock's future. An unknown
    person gets an empty history.

    The ledger and the digital events are append-only, so with a ``previous`` history of the
    same customer loaded at or before ``now`` only the entries and events it could not have
    seen are read (newer ids, or dated after its clock) and merged with its own still inside
    the window; everything else is read afresh. The result equals a full load.

    Args:
        conn: A connection to the system of record.
        person_id: Whose history (callers pass the authenticated customer).
        now: The clock, aware UTC.
        lookback_days: How far back to read transactions and events.
        previous: An earlier load to build on (ignored unless it fits, see above).
    """
    until = now.astimezone(UTC)
    since = until - timedelta(days=lookback_days)
    accounts = _owned(conn, "account", AccountRow, person_id)
    holdings: tuple[HoldingRow, ...] = ()
    if investing := [a.id for a in accounts if a.type == "investment"]:
        holdings = tuple(
            HoldingRow(*r) for r in conn.execute(_holdings_statement(), {"accounts": investing})
        )
    types = {a.id: a.type for a in accounts}
    entries = _entries(conn, person_id, since, until, types, previous)
    events = _events(conn, person_id, since, until, previous)
    found = conn.execute(_preferences_statement(), {"person_id": person_id}).first()
    row = dict(found._mapping) if found else {}
    country = row.pop("person_country", None)
    preferences = {
        k: (v.isoformat() if isinstance(v, time) else v)
        for k, v in row.items()
        if k != "person_id" and row.get("person_id") is not None
    }
    return History(
        person_id=person_id,
        entries=entries,
        accounts=accounts,
        holdings=holdings,
        series=_owned(conn, "recurring_series", SeriesRow, person_id),
        transfers=_owned(conn, "scheduled_transfer", TransferRow, person_id),
        events=events,
        preferences=preferences,
        locale=locale_for(country),
        until=until,
        newest_entry_id=max(
            [e.id for e in entries] + [previous.newest_entry_id if previous else 0]
        ),
        newest_event_id=max([e.id for e in events] + [previous.newest_event_id if previous else 0]),
    )


def _builds_on(previous: History | None, person_id: int, until: datetime) -> bool:
    """Whether ``previous`` is an earlier load of the same customer, at or before ``until``."""
    return (
        previous is not None
        and previous.person_id == person_id
        and previous.until is not None
        and previous.until <= until
    )


def _events(
    conn: Connection,
    person_id: int,
    since: datetime,
    until: datetime,
    previous: History | None,
) -> tuple[EventRow, ...]:
    builds_on = _builds_on(previous, person_id, until)
    window: dict[str, Any] = {"person_id": person_id, "since": since, "until": until}
    values = dict(window)
    if builds_on:
        assert previous is not None
        values |= {"newest_id": previous.newest_event_id, "seen_until": previous.until}
    fresh = [EventRow(*r) for r in conn.execute(_events_statement(builds_on), values).all()]
    if not builds_on:
        return tuple(fresh)
    assert previous is not None
    kept = [e for e in previous.events if e.occurred_at >= since]
    # Unlike ledger lines, events change hands: signing in on a device attributes its earlier
    # anonymous events to the customer (identity.stitch_device), with their old ids and times.
    # Counting the window (an index range, no rows decoded) catches that: then read it all.
    if conn.execute(_events_count_statement(), window).scalar_one() != len(kept) + len(fresh):
        return _events(conn, person_id, since, until, None)
    return tuple(sorted(kept + fresh, key=lambda e: (e.occurred_at, e.id)))


def _entries(
    conn: Connection,
    person_id: int,
    since: datetime,
    until: datetime,
    types: dict[int, str],
    previous: History | None,
) -> tuple[Entry, ...]:
    builds_on = (
        _builds_on(previous, person_id, until)
        and previous is not None
        and {e.account_id: e.account_type for e in previous.entries}.items() <= types.items()
    )
    values: dict[str, Any] = {"person_id": person_id, "since": since, "until": until}
    if builds_on:
        assert previous is not None and previous.until is not None
        values |= {"newest_id": previous.newest_entry_id, "seen_until": previous.until}
    rows = conn.execute(_entries_statement(builds_on), values).all()
    fresh = [Entry._make((*r, types.get(r[1], ""))) for r in rows]
    if not builds_on:
        return tuple(fresh)
    assert previous is not None
    kept = [e for e in previous.entries if e.booked_at >= since]
    return tuple(sorted(kept + fresh, key=lambda e: (e.booked_at, e.id)))
