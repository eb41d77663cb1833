"""A customer's history as the insight detectors read it: plain tuples, loaded in a few queries.

The detectors are pure functions of a :class:`History` and a clock, so tests build histories by
hand and the decision path loads one per customer on a cold start (:func:`load_history`).
Times are aware UTC; money is integer minor units.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import Connection, Select, or_, select
from sqlmodel import SQLModel

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
    # what a later load may build on (see load_history's ``previous``); not part of equality
    until: datetime | None = field(default=None, compare=False)
    newest_entry_id: int = field(default=0, compare=False)


_R = TypeVar("_R", SeriesRow, TransferRow)


def _select(table: str, fields: tuple[str, ...]) -> Select[Any]:
    columns = _T[table].c
    return select(*(columns[name] for name in fields))


def _owned(conn: Connection, table: str, row: type[_R], person_id: int) -> tuple[_R, ...]:
    """Every row of ``table`` that belongs to ``person_id``, as ``row`` tuples in id order."""
    columns = _T[table].c
    stmt = _select(table, row._fields).where(columns.person_id == person_id).order_by(columns.id)
    return tuple(row._make(r) for r in conn.execute(stmt))


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

    The ledger is append-only, so with a ``previous`` history of the same customer loaded at
    or before ``now`` only the entries it could not have seen are read (newer ids, or booked
    after its clock) and merged with its entries still inside the window; everything else is
    read afresh. The result equals a full load.

    Args:
        conn: A connection to the system of record.
        person_id: Whose history (callers pass the authenticated customer).
        now: The clock, aware UTC.
        lookback_days: How far back to read transactions and events.
        previous: An earlier load to build on (ignored unless it fits, see above).
    """
    until = now.astimezone(UTC)
    since = until - timedelta(days=lookback_days)
    acc, ev = _T["account"], _T["digital_event"]
    accounts = tuple(
        AccountRow(*r)
        for r in conn.execute(
            _select("account", AccountRow._fields)
            .where(acc.c.person_id == person_id)
            .order_by(acc.c.id)
        )
    )
    holdings: tuple[HoldingRow, ...] = ()
    if investing := [a.id for a in accounts if a.type == "investment"]:
        held = _T["holding"].c
        holdings = tuple(
            HoldingRow(*r)
            for r in conn.execute(
                _select("holding", HoldingRow._fields)
                .where(held.account_id.in_(investing))
                .order_by(held.id)
            )
        )
    types = {a.id: a.type for a in accounts}
    entries = _entries(conn, person_id, since, until, types, previous)
    events = tuple(
        EventRow(*r)
        for r in conn.execute(
            _select("digital_event", EventRow._fields)
            .where(
                ev.c.person_id == person_id,
                ev.c.occurred_at >= since,
                ev.c.occurred_at <= until,
            )
            .order_by(ev.c.occurred_at, ev.c.id)
        ).all()
    )
    cp = _T["contact_preference"]
    found = conn.execute(select(cp).where(cp.c.person_id == person_id)).first()
    preferences = {
        k: (v.isoformat() if isinstance(v, time) else v)
        for k, v in (found._mapping.items() if found else ())
        if k != "person_id"
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
        until=until,
        newest_entry_id=max(
            [e.id for e in entries] + [previous.newest_entry_id if previous else 0]
        ),
    )


def _entries(
    conn: Connection,
    person_id: int,
    since: datetime,
    until: datetime,
    types: dict[int, str],
    previous: History | None,
) -> tuple[Entry, ...]:
    led = _T["ledger_entry"]
    window = (led.c.person_id == person_id, led.c.booked_at >= since, led.c.booked_at <= until)
    builds_on = (
        previous is not None
        and previous.person_id == person_id
        and previous.until is not None
        and previous.until <= until
        and {e.account_id: e.account_type for e in previous.entries}.items() <= types.items()
    )
    stmt = _select("ledger_entry", Entry._fields[:-1]).where(*window)
    if builds_on:
        assert previous is not None and previous.until is not None
        stmt = stmt.where(
            or_(led.c.id > previous.newest_entry_id, led.c.booked_at > previous.until)
        )
    rows = conn.execute(stmt.order_by(led.c.booked_at, led.c.id)).all()
    fresh = [Entry._make((*r, types.get(r[1], ""))) for r in rows]
    if not builds_on:
        return tuple(fresh)
    assert previous is not None
    kept = [e for e in previous.entries if e.booked_at >= since]
    return tuple(sorted(kept + fresh, key=lambda e: (e.booked_at, e.id)))
