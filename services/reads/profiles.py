"""The unified profile: one current view of a person, read by tools, decisions and advisors.

Built from the system of record in a handful of aggregate queries. Live features maintained
incrementally from the event stream (``services.features.incremental``) can be laid over it, so an
event that just landed shows without waiting for a rebuild.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any, NamedTuple

from pydantic import BaseModel, Field
from sqlalchemy import Connection, Select, and_, bindparam, case, func, select
from sqlmodel import SQLModel

from services.models import DEPOSIT_TYPES
from services.reads.accounts import account_rows
from services.spending import flow_of

_T = SQLModel.metadata.tables
FORECAST_DAYS = 30


class ProfileNotFound(LookupError):
    """No person has that id."""


class Identity(BaseModel):
    """A key under which one system knows the person."""

    system: str
    key: str


class Product(BaseModel):
    """An account with its balance in minor units."""

    account_id: int
    type: str
    name: str
    currency: str
    balance_minor: int
    status: str
    maturity_date: date | None = None


class Series(BaseModel):
    """A recurring income or bill."""

    kind: str
    merchant: str
    category: str
    amount_minor: int
    cadence: str
    next_date: date | None


class Goal(BaseModel):
    """A savings goal and its progress."""

    name: str
    target_minor: int
    saved_minor: int
    target_date: date | None


class Digital(BaseModel):
    """Recent app and web behaviour."""

    sessions_30d: int = 0
    logins_30d: int = 0
    devices: int = 0
    channels: list[str] = Field(default_factory=list)
    top_pages_30d: list[str] = Field(default_factory=list)
    last_seen: datetime | None = None


class Derived(BaseModel):
    """Features computed from the rest of the profile."""

    savings_rate_90d: float | None  # share of income not spent
    net_flow_30d_minor: int
    forecast_balance_minor: int  # deposit money expected in FORECAST_DAYS
    forecast_low_minor: int  # the lowest point on the way there
    engagement: float  # 0..1: how active the person is in the app


def _by_window() -> dict[str, dict[str, int]]:
    return {"30d": {}, "90d": {}}


class Profile(BaseModel):
    """Everything the bank knows about one person, as of ``as_of``."""

    person_id: int
    as_of: datetime
    name: str
    segment: str
    identities: list[Identity]
    preferences: dict[str, Any]
    products: list[Product]
    deposit_balance_minor: int
    income_minor: dict[str, int]  # "30d" / "90d"
    spending_minor: dict[str, int]  # personal spending (services.spending), "30d" / "90d"
    spending_by_category_minor: dict[str, dict[str, int]]
    # A business's payroll, suppliers and other outgoings, by category, "30d" / "90d".
    business_outgoings_minor: dict[str, dict[str, int]] = Field(default_factory=_by_window)
    # Money sent to the customer's accounts at other banks, "30d" / "90d".
    transfers_out_minor: dict[str, int] = Field(default_factory=lambda: {"30d": 0, "90d": 0})
    recurring: list[Series]
    goals: list[Goal]
    digital: Digital
    derived: Derived
    live: dict[str, Any] = Field(default_factory=dict)


@cache
def _statements() -> dict[str, Select[Any]]:
    """The profile's statements, built once with bound parameters and reused.

    A profile is read whenever a customer's decision vector is rebuilt (after every write),
    and building a SQLAlchemy statement costs more than SQLite takes to answer these.
    """
    who: Any = bindparam("person_id")
    person, ident = _T["person"], _T["source_identity"]
    series, goal, prefs, event = (
        _T["recurring_series"],
        _T["savings_goal"],
        _T["contact_preference"],
        _T["digital_event"],
    )
    ledger, account = _T["ledger_entry"], _T["account"]
    amount = ledger.c.amount_minor
    mine = event.c.person_id == who
    return {
        "person": select(person).where(person.c.id == who),
        "identities": select(ident)
        .where(ident.c.person_id == who)
        .order_by(ident.c.system, ident.c.source_key),
        "window": select(
            ledger.c.category,
            account.c.type,
            func.sum(case((amount > 0, amount), else_=0)),
            func.sum(case((amount < 0, -amount), else_=0)),
        )
        .join(account, account.c.id == ledger.c.account_id)
        .where(ledger.c.person_id == who, ledger.c.booked_at >= bindparam("since"))
        .group_by(ledger.c.category, account.c.type),
        "series": select(series)
        .where(series.c.person_id == who, series.c.active)
        .order_by(series.c.id),
        "goals": select(goal).where(goal.c.person_id == who),
        "preferences": select(prefs).where(prefs.c.person_id == who),
        "recent": select(event.c.kind, event.c.page, event.c.session_id).where(
            and_(mine, event.c.occurred_at >= bindparam("since"))
        ),
        "devices": select(
            func.count(event.c.device_id.distinct()),
            func.count(event.c.channel.distinct()),
            func.max(event.c.occurred_at),
        ).where(mine),
        "channels": select(event.c.channel).where(mine).distinct(),
    }


class _Window(NamedTuple):
    """Money in and out since some moment, as ``services.spending`` sorts it."""

    income: int
    spending: dict[str, int]  # personal spending per category
    business: dict[str, int]  # a business's outgoings per category
    moved_out: int  # sent to the customer's accounts at other banks


def _window_sums(conn: Connection, person_id: int, since: datetime) -> _Window:
    """Income credited and money paid out since ``since``, sorted (refunds do not net)."""
    rows = conn.execute(_statements()["window"], {"person_id": person_id, "since": since}).all()
    income = moved_out = 0
    spending: Counter[str] = Counter()
    business: Counter[str] = Counter()
    for category, account_type, credit, debit in rows:
        if credit and flow_of(category, 1, account_type) == "income":
            income += int(credit)
        if not debit:
            continue
        flow = flow_of(category, -1, account_type)
        if flow == "spending":
            spending[category] += int(debit)
        elif flow == "business":
            business[category] += int(debit)
        elif flow == "move_out":
            moved_out += int(debit)
    return _Window(income, dict(spending), dict(business), moved_out)


def load_profile(
    conn: Connection,
    *,
    person_id: int,
    now: datetime | None = None,
    live: dict[str, Any] | None = None,
) -> Profile:
    """Build the unified profile of ``person_id``.

    Args:
        conn: A connection to the system of record.
        person_id: Whose profile (callers pass the authenticated customer, never user input).
        now: The clock (aware UTC); the current time when omitted.
        live: Features from the event stream to lay over the stored view.

    Raises:
        ProfileNotFound: when no person has that id.
    """
    now = now or datetime.now(UTC)
    q, who = _statements(), {"person_id": person_id}
    person = conn.execute(q["person"], who).first()
    if person is None:
        raise ProfileNotFound(f"no person {person_id}")
    identities = [
        Identity(system=r.system, key=r.source_key) for r in conn.execute(q["identities"], who)
    ]
    products = [
        Product(
            account_id=r.id,
            type=r.type,
            name=r.name,
            currency=r.currency,
            balance_minor=r.balance_minor,
            status=r.status,
            maturity_date=r.maturity_date,
        )
        for r in account_rows(conn, person_id=person_id)
    ]
    deposits = sum(p.balance_minor for p in products if p.type in DEPOSIT_TYPES)
    last30 = _window_sums(conn, person_id, now - timedelta(days=30))
    last90 = _window_sums(conn, person_id, now - timedelta(days=90))
    income30, spend30, income90, spend90 = (
        last30.income,
        last30.spending,
        last90.income,
        last90.spending,
    )
    recurring = [
        Series(
            kind=r.kind,
            merchant=r.merchant,
            category=r.category,
            amount_minor=r.amount_minor,
            cadence=r.cadence,
            next_date=r.next_date,
        )
        for r in conn.execute(q["series"], who)
    ]
    goals = [
        Goal(
            name=r.name,
            target_minor=r.target_minor,
            saved_minor=r.saved_minor,
            target_date=r.target_date,
        )
        for r in conn.execute(q["goals"], who)
    ]
    prefs = conn.execute(q["preferences"], who).first()
    preferences = {k: v for k, v in prefs._mapping.items() if k != "person_id"} if prefs else {}
    digital = _digital(conn, person_id, now)
    spent90 = sum(spend90.values())
    derived = Derived(
        savings_rate_90d=round(1 - spent90 / income90, 4) if income90 else None,
        net_flow_30d_minor=income30 - _paid_out(last30),
        **_forecast(deposits, recurring, _paid_out(last90), now.date()),
        engagement=round(min(1.0, digital.sessions_30d / 20), 3),
    )
    return Profile(
        person_id=person_id,
        as_of=now,
        name=person.full_name,
        segment=person.segment,
        identities=identities,
        preferences=preferences,
        products=products,
        deposit_balance_minor=deposits,
        income_minor={"30d": income30, "90d": income90},
        spending_minor={"30d": sum(spend30.values()), "90d": spent90},
        spending_by_category_minor={"30d": spend30, "90d": spend90},
        business_outgoings_minor={"30d": last30.business, "90d": last90.business},
        transfers_out_minor={"30d": last30.moved_out, "90d": last90.moved_out},
        recurring=recurring,
        goals=goals,
        digital=digital,
        derived=derived,
        live=live or {},
    )


def _digital(conn: Connection, person_id: int, now: datetime) -> Digital:
    q, who = _statements(), {"person_id": person_id}
    recent = {**who, "since": now - timedelta(days=30)}
    rows = conn.execute(q["recent"], recent).all()
    pages = Counter(page for kind, page, _ in rows if kind == "page_view" and page)
    devices, channels, last_seen = conn.execute(q["devices"], who).one()
    names = sorted(c for (c,) in conn.execute(q["channels"], who))
    if isinstance(last_seen, str):  # SQLite hands back text from an aggregate
        last_seen = datetime.fromisoformat(last_seen).replace(tzinfo=UTC)
    return Digital(
        sessions_30d=len({s for _, _, s in rows}),
        logins_30d=sum(k == "login" for k, _, _ in rows),
        devices=devices,
        channels=names,
        top_pages_30d=[p for p, _ in pages.most_common(5)],
        last_seen=last_seen,
    )


def _paid_out(window: _Window) -> int:
    """Everything that left the customer's hands: spending, business outgoings, money sent away."""
    return sum(window.spending.values()) + sum(window.business.values()) + window.moved_out


def _forecast(deposits: int, recurring: list[Series], paid90: int, today: date) -> dict[str, int]:
    """Deposits over the next days: known recurring flows plus everyday outgoings at their pace.

    The pace counts all money paid out (a business's payroll and money sent to other banks too),
    since all of it leaves the deposits the forecast follows.
    """
    daily = paid90 / 90
    bills = [s for s in recurring if s.kind not in ("salary",) and s.amount_minor < 0]
    # Everyday spending excludes what the recurring bills already account for.
    monthly_bills = -sum(s.amount_minor for s in bills)
    daily = max(0.0, daily - monthly_bills / 30)
    flows: Counter[int] = Counter()
    for s in recurring:
        if s.next_date is None:
            continue
        step = {"weekly": 7, "biweekly": 14, "semimonthly": 15}.get(s.cadence, 30)
        when = s.next_date
        while (when - today).days <= FORECAST_DAYS:
            if when > today:
                flows[(when - today).days] += s.amount_minor
            when += timedelta(days=step)
    balance = low = deposits
    for day in range(1, FORECAST_DAYS + 1):
        balance += flows[day] - round(daily)
        low = min(low, balance)
    return {"forecast_balance_minor": balance, "forecast_low_minor": low}
