"""A fresh bank holding exactly a scenario's customer and others, and a map of refs to ids.

Amounts are exact decimals turned into minor units; transactions are booked ``days_ago`` before
the scenario's clock (their ``memo`` becomes the description); each recurring series gets its
past charges booked too (so the detectors see a pattern) and its next date; running balances are
worked backwards from each account's stated balance, which is the balance now.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from evals.scenario import Scenario, money
from services.credentials import hash_password
from services.models import (
    Account,
    Card,
    ContactPreference,
    Credential,
    LedgerEntry,
    Payee,
    Person,
    RecurringSeries,
    SavingsGoal,
    ScheduledTransfer,
)
from services.money import to_minor

EVAL_PASSWORD = "concierge-eval"
CADENCES = {
    "once": "once",
    "day": "daily",
    "daily": "daily",
    "week": "weekly",
    "weekly": "weekly",
    "two_weeks": "biweekly",
    "fortnight": "biweekly",
    "biweekly": "biweekly",
    "semimonthly": "semimonthly",
    "month": "monthly",
    "monthly": "monthly",
    "quarter": "quarterly",
    "quarterly": "quarterly",
    "year": "annual",
    "annual": "annual",
    "annually": "annual",
    "payday": "payday",
}
_MONTHS = {"monthly": 1, "quarterly": 3, "annual": 12}
_DAYS = {"daily": 1, "weekly": 7, "biweekly": 14}


def cadence(every: str) -> str:
    """A scenario's ``every`` word as the bank's cadence (``month`` → ``monthly``)."""
    return CADENCES.get(str(every), str(every))


@dataclass
class Fixture:
    """What was created: the customer's person id, and every ref's table and id."""

    person_id: int
    people: list[int]
    refs: dict[str, tuple[str, int]] = field(default_factory=dict)

    def id_of(self, ref: str) -> int:
        """The database id of ``ref``."""
        return self.refs[ref][1]

    def ref_of(self, table: str, row_id: int | None) -> str | None:
        """The ref naming row ``row_id`` of ``table``, if the scenario named it."""
        for name, (kind, found) in self.refs.items():
            if kind == table and found == row_id:
                return name
        return None


def _minor(value: Any, currency: str) -> int:
    return to_minor(str(money(value)), currency)


def _months_back(day: date, months: int, dom: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    for d in (dom, 30, 29, 28):
        try:
            return date(year, month, max(1, d))
        except ValueError:
            continue
    return date(year, month, 28)


def _occurrences(every: str, dom: int, today: date, history: int) -> tuple[list[date], date]:
    """Past dates (oldest first, up to ``today``) and the next date of a series."""
    if every in _MONTHS:
        step = _MONTHS[every]
        last = _months_back(today, 0, dom)
        if last > today:
            last = _months_back(today, step, dom)
        past = [_months_back(last, step * i, dom) for i in range(history)][::-1]
        return past, _months_back(last, -step, dom)
    days = _DAYS.get(every, 14 if every in ("payday", "semimonthly") else 30)
    if every in ("weekly", "biweekly"):  # ``day`` is a weekday, 0 = Monday
        last = today - timedelta(days=(today.weekday() - dom) % 7)
    else:
        last = today
    past = [last - timedelta(days=days * i) for i in range(history)][::-1]
    return past, last + timedelta(days=days)


def _username(name: str, index: int) -> str:
    slug = "".join(c for c in name.lower().replace(" ", ".") if c.isalnum() or c == ".")
    return f"{slug or 'customer'}.{index}@eval.example"


def _number(scenario_id: str, ref: str) -> str:
    digest = hashlib.sha256(f"{scenario_id}/{ref}".encode()).hexdigest()
    return "EV" + str(int(digest[:16], 16))[:12].rjust(12, "0")


def build_fixture(engine: Engine, scenario: Scenario) -> Fixture:
    """Create the scenario's people and records in ``engine`` (an empty, migrated database)."""
    now = scenario.now
    refs: dict[str, tuple[str, int]] = {}
    people: list[int] = []
    password = hash_password(EVAL_PASSWORD)
    with Session(engine) as session:
        for index, spec in enumerate(scenario.people):
            people.append(_person(session, spec, index, password, scenario.id, now, refs))
        session.commit()
    return Fixture(person_id=people[0], people=people, refs=refs)


def _person(
    session: Session,
    spec: dict[str, Any],
    index: int,
    password: str,
    scenario_id: str,
    now: datetime,
    refs: dict[str, tuple[str, int]],
) -> int:
    today = now.date()
    first, _, last = str(spec["name"]).partition(" ")
    username = spec.get("username") or _username(spec["name"], index)
    person = Person(
        full_name=spec["name"],
        first_name=first,
        last_name=last or first,
        email=spec.get("email") or username,
        segment=spec.get("segment") or "retail",
        customer_since=today - timedelta(days=3 * 365),
        created_at=now,
    )
    session.add(person)
    session.flush()
    pid = int(person.id or 0)
    session.add(Credential(person_id=pid, username=username, password_hash=password))

    accounts: dict[str, Account] = {}
    for a in spec.get("accounts") or []:
        currency = a.get("currency") or "USD"
        account = Account(
            person_id=pid,
            type=a["type"],
            name=a["name"],
            number=a.get("number") or _number(scenario_id, a["ref"]),
            currency=currency,
            balance_minor=_minor(a["balance"], currency),
            status=a.get("status") or "open",
            opened_on=today - timedelta(days=3 * 365),
            credit_limit_minor=(
                _minor(a["credit_limit"], currency) if "credit_limit" in a else None
            ),
            overdraft_limit_minor=(
                _minor(a["overdraft_limit"], currency) if "overdraft_limit" in a else 0
            ),
        )
        session.add(account)
        session.flush()
        accounts[a["ref"]] = account
        refs[a["ref"]] = ("account", int(account.id or 0))

    payees: dict[str, int] = {}
    for i, p in enumerate(spec.get("payees") or []):
        payee = Payee(
            person_id=pid,
            name=p["name"],
            kind=p.get("kind") or "person",
            account_number=p.get("account_number") or f"PY{pid:06d}{i:04d}",
        )
        session.add(payee)
        session.flush()
        payees[p["ref"]] = int(payee.id or 0)
        refs[p["ref"]] = ("payee", payees[p["ref"]])

    for c in spec.get("cards") or []:
        card = Card(
            person_id=pid,
            account_id=int(accounts[c["account"]].id or 0),
            type=c["type"],
            last4=c["last4"],
            status=c["status"],
            expires_on=date.fromisoformat(c["expires"])
            if c.get("expires")
            else today.replace(year=today.year + 3, day=1),
        )
        session.add(card)
        session.flush()
        refs[c["ref"]] = ("card", int(card.id or 0))

    entries: list[tuple[LedgerEntry, str | None]] = []
    for t in spec.get("transactions") or []:
        account = accounts[t["account"]]
        amount = _minor(t["amount"], account.currency)
        merchant = t.get("merchant")
        entry = LedgerEntry(
            account_id=int(account.id or 0),
            person_id=pid,
            booked_at=now - timedelta(days=float(t["days_ago"])),
            amount_minor=amount,
            currency=account.currency,
            merchant=merchant,
            category=t["category"],
            channel=t.get("channel") or ("card" if merchant and amount < 0 else "ach"),
            counterparty=t.get("counterparty"),
            description=t.get("memo") or merchant or t["category"],
        )
        entries.append((entry, t["ref"]))

    for r in spec.get("recurring") or []:
        account = accounts[r["account"]]
        amount = _minor(r["amount"], account.currency)
        every = cadence(r["every"])
        kind = r.get("kind") or ("salary" if amount > 0 else "subscription")
        category = r.get("category") or {"salary": "income", "rent": "housing"}.get(
            kind, "subscriptions" if kind == "subscription" else "bills"
        )
        past, upcoming = _occurrences(every, int(r["day"]), today, int(r.get("history", 6)))
        series = RecurringSeries(
            person_id=pid,
            account_id=int(account.id or 0),
            kind=kind,
            merchant=r["merchant"],
            category=category,
            amount_minor=amount,
            currency=account.currency,
            cadence=every,
            day=int(r["day"]),
            started_on=past[0] if past else today,
            next_date=upcoming,
        )
        session.add(series)
        session.flush()
        if r.get("ref"):
            refs[r["ref"]] = ("recurring_series", int(series.id or 0))
        for when in past:
            booked = datetime.combine(when, time(9), tzinfo=UTC)
            if booked > now:
                continue
            entries.append(
                (
                    LedgerEntry(
                        account_id=int(account.id or 0),
                        person_id=pid,
                        booked_at=booked,
                        amount_minor=amount,
                        currency=account.currency,
                        merchant=r["merchant"],
                        category=category,
                        channel="ach" if amount > 0 or kind != "subscription" else "card",
                        description=r["merchant"],
                        recurring_id=int(series.id or 0),
                    ),
                    None,
                )
            )

    # balances after each entry, worked back from the balance now
    by_account: dict[int, list[tuple[LedgerEntry, str | None]]] = {}
    for entry, name in entries:
        by_account.setdefault(entry.account_id, []).append((entry, name))
    balances = {int(a.id or 0): a.balance_minor for a in accounts.values()}
    for account_id, rows in by_account.items():
        rows.sort(key=lambda pair: pair[0].booked_at, reverse=True)
        running = balances[account_id]
        for entry, _name in rows:
            entry.balance_after_minor = running
            running -= entry.amount_minor
    for entry, _ref in entries:
        session.add(entry)
    session.flush()
    for entry, name in entries:
        if name:
            refs[name] = ("ledger_entry", int(entry.id or 0))

    for g in spec.get("goals") or []:
        held: Account | None = accounts.get(g["account"]) if g.get("account") else None
        currency = held.currency if held is not None else "USD"
        goal = SavingsGoal(
            person_id=pid,
            account_id=int(held.id or 0) if held is not None else None,
            name=g["name"],
            target_minor=_minor(g["target"], currency),
            saved_minor=_minor(g["saved"], currency),
            currency=currency,
            target_date=date.fromisoformat(g["target_date"]) if g.get("target_date") else None,
        )
        session.add(goal)
        session.flush()
        refs[g["ref"]] = ("savings_goal", int(goal.id or 0))

    for s in spec.get("scheduled") or []:
        source = accounts[s["from"]]
        every = cadence(s["every"])
        rule = every == "payday"
        scheduled = ScheduledTransfer(
            person_id=pid,
            from_account_id=int(source.id or 0),
            to_account_id=int(accounts[s["to"]].id or 0) if s.get("to") else None,
            payee_id=payees[s["payee"]] if s.get("payee") else None,
            amount_minor=_minor(s["amount"], source.currency),
            currency=source.currency,
            kind="savings_rule" if rule else "one_off" if every == "once" else "recurring",
            cadence=None if every == "once" else every,
            next_date=today + timedelta(days=int(s.get("days_ahead", 7))),
            active=bool(s.get("active", True)),
        )
        session.add(scheduled)
        session.flush()
        refs[s["ref"]] = ("scheduled_transfer", int(scheduled.id or 0))

    if spec.get("preferences"):
        session.add(ContactPreference(person_id=pid, **spec["preferences"]))
    return pid
