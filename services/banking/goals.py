"""Savings goals: create one, or rename it or change its target amount or date."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlmodel import SQLModel

from services.banking.core import Refused, Write, WriteResult, execute
from services.banking.rules import (
    check_amount,
    check_currency,
    check_deposit,
    check_text,
    day,
    lock_accounts,
    money,
    owned,
)

_T = SQLModel.metadata.tables


def create_goal(
    conn: Connection,
    *,
    person_id: int,
    name: str,
    target_minor: int,
    currency: str,
    idempotency_key: str,
    now: datetime,
    target_date: date | None = None,
    account_id: int | None = None,
) -> WriteResult:
    """Create a savings goal, optionally by a date and tied to a checking or savings account.

    Raises:
        NotFound: the account is not the customer's.
        Refused: no name or a name already used, a target not above zero, an unsupported or
            mismatched currency, or a target date not in the future.
        IdempotencyConflict: the key was used for a different request.
    """
    request = {
        "operation": "create_goal",
        "name": name,
        "target_minor": target_minor,
        "currency": currency,
        "target_date": target_date,
        "account_id": account_id,
    }

    def body(w: Write) -> WriteResult:
        account = lock_accounts(w, [account_id])[account_id] if account_id is not None else None
        title = check_text(name, "name for the goal", 100)
        target, code = check_amount(target_minor, currency)
        if account is not None:
            check_deposit(account)
            check_currency(account, code)
        _check_target_date(w, target_date)
        _check_unique_name(w, title, goal_id=None)
        goals = _T["savings_goal"]
        goal_id = w.conn.execute(
            insert(goals)
            .values(
                person_id=w.person_id,
                account_id=account.id if account is not None else None,
                name=title,
                target_minor=target,
                saved_minor=0,
                currency=code,
                target_date=target_date,
            )
            .returning(goals.c.id)
        ).scalar_one()
        by = f" by {day(target_date)}" if target_date is not None else ""
        return WriteResult(
            kind="goal",
            summary=f"Created your goal “{title}”: save {money(target, code)}{by}.",
            ids={"goal_id": int(goal_id)},
        )

    return execute(
        conn,
        person_id=person_id,
        kind="goal",
        idempotency_key=idempotency_key,
        now=now,
        request=request,
        resource="savings_goal",
        resource_key="goal_id",
        body=body,
    )


def update_goal(
    conn: Connection,
    *,
    person_id: int,
    goal_id: int,
    idempotency_key: str,
    now: datetime,
    name: str | None = None,
    target_minor: int | None = None,
    target_date: date | None = None,
) -> WriteResult:
    """Rename a goal or change its target amount or date (``None`` leaves a field as it is).

    Raises:
        NotFound: the goal is not the customer's.
        Refused: nothing to change, a name already used, a target not above zero, or a
            target date not in the future.
        IdempotencyConflict: the key was used for a different request.
    """
    request = {
        "operation": "update_goal",
        "goal_id": goal_id,
        "name": name,
        "target_minor": target_minor,
        "target_date": target_date,
    }

    def body(w: Write) -> WriteResult:
        goal = owned(w, "savings_goal", goal_id, "goal", lock=True)
        changes: dict[str, Any] = {}
        if name is not None:
            title = check_text(name, "name for the goal", 100)
            if title != goal.name:
                _check_unique_name(w, title, goal_id=goal.id)
                changes["name"] = title
        if target_minor is not None:
            target, _ = check_amount(target_minor, goal.currency)
            if target != goal.target_minor:
                changes["target_minor"] = target
        if target_date is not None:
            _check_target_date(w, target_date)
            if target_date != goal.target_date:
                changes["target_date"] = target_date
        if not changes:
            raise Refused(f"Your goal “{goal.name}” already looks like that; nothing to change.")
        goals = _T["savings_goal"]
        w.conn.execute(update(goals).where(goals.c.id == goal.id).values(**changes))
        title = changes.get("name", goal.name)
        target = changes.get("target_minor", goal.target_minor)
        when = changes.get("target_date", goal.target_date)
        by = f" by {day(when)}" if when is not None else ""
        return WriteResult(
            kind="goal",
            summary=(
                f"Updated your goal “{title}”: save {money(target, goal.currency)}{by}; "
                f"{money(goal.saved_minor, goal.currency)} saved so far."
            ),
            ids={"goal_id": int(goal.id)},
        )

    return execute(
        conn,
        person_id=person_id,
        kind="goal",
        idempotency_key=idempotency_key,
        now=now,
        request=request,
        resource="savings_goal",
        resource_key="goal_id",
        body=body,
    )


def _check_target_date(w: Write, target_date: date | None) -> None:
    if target_date is None:
        return
    if not isinstance(target_date, date) or isinstance(target_date, datetime):
        raise Refused("Please give the goal's date as a day.")
    if target_date <= w.now.date():
        raise Refused(f"{day(target_date)} isn't in the future; choose a later date.")


def _check_unique_name(w: Write, title: str, *, goal_id: int | None) -> None:
    goals = _T["savings_goal"]
    query = select(goals.c.id).where(
        goals.c.person_id == w.person_id, func.lower(goals.c.name) == title.lower()
    )
    if goal_id is not None:
        query = query.where(goals.c.id != goal_id)
    if w.conn.execute(query).first() is not None:
        raise Refused(f"You already have a goal called “{title}”.")
