"""The behavioural signals a feature vector needs beyond the unified profile, read with SQL.

Each reader takes a connection, the person and the clock, and returns plain values; none reads
the ground truth. The unified profile (``services.reads.profiles``) supplies the money windows, the
recurring series and the digital summary; these add what only the raw tables hold.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any, Protocol

from sqlalchemy import Connection, Select, and_, bindparam, case, func, or_, select
from sqlmodel import SQLModel

from services.insights import Insight
from services.reads.accounts import account_rows

_T = SQLModel.metadata.tables
YEAR, HALF_YEAR = 365, 182
# Business takings before the last four months set the baseline a slump is measured against.
SALES_BASELINE = (120, 365)


class InsightFinder(Protocol):
    """Finds a customer's insights (``services.insights.detectors.insights_for`` fits)."""

    def __call__(self, conn: Connection, *, person_id: int, now: datetime) -> list[Insight]:
        """The customer's insights at ``now``."""
        ...


@cache
def _statements() -> dict[str, Select[Any]]:
    """The readers' statements, built once with bound parameters and reused.

    They run whenever a customer's vector is rebuilt (after every write), and building a
    SQLAlchemy statement costs more than SQLite takes to answer them.
    """
    who: Any = bindparam("person_id")
    person, account, ledger = _T["person"], _T["account"], _T["ledger_entry"]
    series, scheduled, event = _T["recurring_series"], _T["scheduled_transfer"], _T["digital_event"]
    amount, booked = ledger.c.amount_minor, ledger.c.booked_at
    is_sales = and_(ledger.c.category == "sales", amount > 0)
    card = and_(ledger.c.channel == "card", amount < 0, booked >= bindparam("year_ago"))
    mine = ledger.c.account_id == bindparam("account_id")
    return {
        "person": select(
            person.c.first_name,
            person.c.date_of_birth,
            person.c.customer_since,
            person.c.is_business,
        ).where(person.c.id == who),
        "ledger": select(
            func.sum(case((card, -amount))),
            func.sum(case((and_(is_sales, booked >= bindparam("month_ago")), amount))),
            func.sum(
                case(
                    (
                        and_(
                            is_sales,
                            booked >= bindparam("base_from"),
                            booked < bindparam("base_to"),
                        ),
                        amount,
                    )
                )
            ),
            func.max(case((and_(ledger.c.category == "income", amount > 0), booked))),
        ).where(
            ledger.c.person_id == who, booked >= bindparam("base_from"), booked <= bindparam("now")
        ),
        "balance_then": select(ledger.c.balance_after_minor)
        .where(mine, ledger.c.booked_at <= bindparam("cut"))
        .order_by(ledger.c.booked_at.desc(), ledger.c.id.desc())
        .limit(1),
        "balance_first": select(ledger.c.balance_after_minor - ledger.c.amount_minor)
        .where(mine)
        .order_by(ledger.c.booked_at, ledger.c.id)
        .limit(1),
        "balance_now": select(account.c.balance_minor).where(
            account.c.id == bindparam("account_id")
        ),
        "rent": select(series.c.amount_minor, series.c.ends_on).where(
            series.c.person_id == who, series.c.active, series.c.kind == "rent"
        ),
        "rule": select(scheduled.c.id)
        .where(
            scheduled.c.person_id == who,
            scheduled.c.kind == "savings_rule",
            scheduled.c.active,
        )
        .limit(1),
        "research": select(func.count()).where(
            event.c.person_id == who,
            event.c.occurred_at >= bindparam("month_ago"),
            or_(event.c.page.like("/mortgages/%"), event.c.detail.like("mortgage%")),
        ),
    }


def segment_of(conn: Connection, *, person_id: int) -> str | None:
    """The person's segment, or None for an unknown person."""
    person = _T["person"]
    found = conn.execute(select(person.c.segment).where(person.c.id == person_id)).scalar()
    return None if found is None else str(found)


def utc(value: Any) -> datetime | None:
    """A timestamp as aware UTC whichever backend returned it (SQLite aggregates give text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def as_date(value: Any) -> date | None:
    """A date column's value whichever backend returned it."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def person_facts(conn: Connection, person_id: int, today: date) -> dict[str, Any]:
    """First name, age, tenure and whether the person is a business."""
    row = conn.execute(_statements()["person"], {"person_id": person_id}).one()
    born, since = as_date(row.date_of_birth), as_date(row.customer_since)
    age = None
    if born is not None:
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    tenure = None if since is None else max(0, (today - since).days * 12 // 365)
    return {
        "first_name": row.first_name,
        "age": age,
        "tenure_months": tenure,
        "is_business": bool(row.is_business),
    }


def account_facts(conn: Connection, person_id: int, today: date) -> dict[str, Any]:
    """Savings rate paid, the nearest CD maturity, card limits and portfolio drift."""
    rows = [r for r in account_rows(conn, person_id=person_id) if r.status == "open"]
    apy = [r.interest_rate_bps for r in rows if r.type == "savings" and r.interest_rate_bps]
    maturities = [
        (as_date(r.maturity_date) or today) - today
        for r in rows
        if r.type == "term_deposit" and r.maturity_date is not None
    ]
    upcoming = [d.days for d in maturities if d.days >= 0]
    out: dict[str, Any] = {
        "savings_apy_bps": max(apy) if apy else None,
        "cd_maturity_days": min(upcoming) if upcoming else None,
        "credit_limit_minor": sum(
            r.credit_limit_minor or 0 for r in rows if r.type in ("credit_card", "line_of_credit")
        ),
        "portfolio_drift_pp": None,
        "risk_tolerance": None,
    }
    investments = [r for r in rows if r.type == "investment" and r.target_allocation]
    if investments:
        out.update(_drift(conn, investments))
    return out


def _drift(conn: Connection, accounts: list[Any]) -> dict[str, Any]:
    """The largest equity drift (percentage points from target) among investment accounts."""
    holding = _T["holding"]
    worst: tuple[int, str | None] | None = None
    for acc in accounts:
        target = acc.target_allocation
        if isinstance(target, str):  # some drivers hand back JSON as text
            import json

            target = json.loads(target)
        rows = conn.execute(
            select(holding.c.asset_class, func.sum(holding.c.market_value_minor))
            .where(holding.c.account_id == acc.id)
            .group_by(holding.c.asset_class)
        ).all()
        total = sum(int(v) for _, v in rows)
        if not total:
            continue
        equity = sum(int(v) for cls, v in rows if cls == "equity")
        drift = round(100 * equity / total) - int(target.get("equity", 0))
        if worst is None or abs(drift) > abs(worst[0]):
            worst = (drift, acc.risk_tolerance)
    if worst is None:
        return {}
    return {"portfolio_drift_pp": worst[0], "risk_tolerance": worst[1]}


def ledger_facts(
    conn: Connection, person_id: int, now: datetime, savings_account: int | None
) -> dict[str, Any]:
    """Card spend over a year, business takings trend, last income, savings growth."""
    row = conn.execute(
        _statements()["ledger"],
        {
            "person_id": person_id,
            "year_ago": now - timedelta(days=YEAR),
            "month_ago": now - timedelta(days=30),
            "base_from": now - timedelta(days=SALES_BASELINE[1]),
            "base_to": now - timedelta(days=SALES_BASELINE[0]),
            "now": now,
        },
    ).one()
    card, sales_30, sales_base, last_income = row
    months = (SALES_BASELINE[1] - SALES_BASELINE[0]) / 30
    last = utc(last_income)
    return {
        "card_spend_annual_minor": int(card or 0),
        "sales_trend": round(int(sales_30 or 0) / (int(sales_base) / months), 4)
        if sales_base
        else None,
        "days_since_income": None if last is None else (now - last).days,
        "savings_growth_6m": _growth(conn, savings_account, now),
    }


def _growth(conn: Connection, account_id: int | None, now: datetime) -> float | None:
    """Savings balance now over its balance six months ago (the last booking before then)."""
    if account_id is None:
        return None
    q, mine = _statements(), {"account_id": account_id}
    cut = now - timedelta(days=HALF_YEAR)
    then = conn.execute(q["balance_then"], {**mine, "cut": cut}).scalar()
    if then is None:  # no booking before the cut: the balance before the first one
        then = conn.execute(q["balance_first"], mine).scalar()
    current = conn.execute(q["balance_now"], mine).scalar()
    if then is None or current is None:
        return None
    return round(int(current) / int(then), 4) if then > 0 else (None if current <= 0 else 9.99)


def housing_and_habits(conn: Connection, person_id: int, now: datetime) -> dict[str, Any]:
    """Lease end and rent, an active savings rule, and mortgage research in the last 30 days."""
    q, who = _statements(), {"person_id": person_id}
    rent = conn.execute(q["rent"], who).first()
    ends = as_date(rent.ends_on) if rent else None
    rule = conn.execute(q["rule"], who).first()
    research = conn.execute(q["research"], {**who, "month_ago": now - timedelta(days=30)}).scalar()
    return {
        "rent_monthly_minor": -int(rent.amount_minor) if rent else 0,
        "lease_days_left": None if ends is None else (ends - now.date()).days,
        "has_savings_rule": rule is not None,
        "mortgage_research_30d": int(research or 0),
    }
