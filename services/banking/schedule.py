"""Money that moves later: scheduled and repeating payments, savings rules, and cancelling them.

Rows go to ``scheduled_transfer`` (``kind`` ``one_off``, ``recurring`` or ``savings_rule``);
nothing is booked now, so neither the balance nor the daily limit is checked beyond one
payment fitting within the limit.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update
from sqlmodel import SQLModel

from services.banking.core import (
    Refused,
    Write,
    WriteResult,
    execute,
)
from services.banking.rules import (
    DAILY_LIMIT_MINOR,
    DEPOSIT,
    check_amount,
    check_currency,
    check_deposit,
    check_usable,
    day,
    label,
    lock_accounts,
    money,
    owned,
)

_T = SQLModel.metadata.tables
CADENCES = ("once", "weekly", "biweekly", "monthly", "payday")
RULE_CADENCES = ("weekly", "biweekly", "monthly", "payday")
HORIZON_DAYS = 366  # how far ahead a first date may be
EVERY = {
    "weekly": "every week",
    "biweekly": "every two weeks",
    "monthly": "every month",
    "payday": "every payday",
}


def schedule_payment(
    conn: Connection,
    *,
    person_id: int,
    from_account_id: int,
    amount_minor: int,
    currency: str,
    cadence: str,
    first_date: date | None,
    idempotency_key: str,
    now: datetime,
    to_account_id: int | None = None,
    payee_id: int | None = None,
) -> WriteResult:
    """Schedule a payment to one of the customer's accounts or payees, once or repeating.

    Args:
        conn: A connection in a transaction the caller commits.
        person_id: The authenticated customer.
        from_account_id: A checking or savings account of the customer.
        amount_minor: Each payment, in minor units.
        currency: The account's currency.
        cadence: ``once``, ``weekly``, ``biweekly``, ``monthly`` or ``payday``.
        first_date: The first payment's date (today or later); for ``payday`` it may be
            ``None``, meaning the customer's next salary date.
        idempotency_key: The caller's key for this request.
        now: The current time (aware).
        to_account_id: Where to (exactly one of this and ``payee_id``).
        payee_id: Whom to pay.

    Raises:
        NotFound: an account or the payee is not the customer's.
        Refused: bad amount, currency, cadence or date, both or neither destination, same
            account, an account not open, or one payment over the daily limit.
        IdempotencyConflict: the key was used for a different request.
    """
    request = {
        "operation": "schedule_payment",
        "from_account_id": from_account_id,
        "to_account_id": to_account_id,
        "payee_id": payee_id,
        "amount_minor": amount_minor,
        "currency": currency,
        "cadence": cadence,
        "first_date": first_date,
    }

    def body(w: Write) -> WriteResult:
        return _schedule(
            w,
            from_account_id=from_account_id,
            to_account_id=to_account_id,
            payee_id=payee_id,
            amount_minor=amount_minor,
            currency=currency,
            cadence=cadence,
            first_date=first_date,
            cadences=CADENCES,
            rule=False,
        )

    return execute(
        conn,
        person_id=person_id,
        kind="schedule",
        idempotency_key=idempotency_key,
        now=now,
        request=request,
        resource="scheduled_transfer",
        resource_key="scheduled_id",
        body=body,
    )


def create_savings_rule(
    conn: Connection,
    *,
    person_id: int,
    from_account_id: int,
    to_account_id: int,
    amount_minor: int,
    currency: str,
    idempotency_key: str,
    now: datetime,
    cadence: str = "payday",
    first_date: date | None = None,
) -> WriteResult:
    """Set up a rule that moves money into a savings account on a cadence ("every payday").

    One active rule per pair of accounts: change means cancel and create.

    Raises:
        NotFound: either account is not the customer's.
        Refused: as for :func:`schedule_payment`, a destination that is not a savings
            account, or a rule between these accounts already active.
        IdempotencyConflict: the key was used for a different request.
    """
    request = {
        "operation": "create_savings_rule",
        "from_account_id": from_account_id,
        "to_account_id": to_account_id,
        "amount_minor": amount_minor,
        "currency": currency,
        "cadence": cadence,
        "first_date": first_date,
    }

    def body(w: Write) -> WriteResult:
        return _schedule(
            w,
            from_account_id=from_account_id,
            to_account_id=to_account_id,
            payee_id=None,
            amount_minor=amount_minor,
            currency=currency,
            cadence=cadence,
            first_date=first_date,
            cadences=RULE_CADENCES,
            rule=True,
        )

    return execute(
        conn,
        person_id=person_id,
        kind="schedule",
        idempotency_key=idempotency_key,
        now=now,
        request=request,
        resource="scheduled_transfer",
        resource_key="scheduled_id",
        body=body,
    )


def _schedule(
    w: Write,
    *,
    from_account_id: int,
    to_account_id: int | None,
    payee_id: int | None,
    amount_minor: int,
    currency: str,
    cadence: str,
    first_date: date | None,
    cadences: tuple[str, ...],
    rule: bool,
) -> WriteResult:
    amount, code = check_amount(amount_minor, currency)
    if cadence not in cadences:
        raise Refused(f"I can schedule it {', '.join(cadences)}; not {cadence!s}.")
    if (to_account_id is None) == (payee_id is None):
        raise Refused("Choose where the money goes: one of your accounts or one payee.")
    wanted = [from_account_id] + ([to_account_id] if to_account_id is not None else [])
    accounts = lock_accounts(w, wanted)
    payee = owned(w, "payee", payee_id, "payee") if payee_id is not None else None
    if from_account_id == to_account_id:
        raise Refused("Choose two different accounts: money can't move to the same account.")
    src = accounts[from_account_id]
    dst = accounts[to_account_id] if to_account_id is not None else None
    for account in (src, dst):
        if account is not None:
            check_usable(account)
            check_currency(account, code)
    check_deposit(src)
    if dst is not None and dst.type not in DEPOSIT:
        if rule or dst.type != "credit_card":
            raise Refused(f"{label(dst)} can't receive scheduled transfers.")
    if rule and dst is not None and dst.type != "savings":
        raise Refused(f"A savings rule moves money into a savings account; {label(dst)} isn't.")
    if amount > DAILY_LIMIT_MINOR:
        raise Refused(
            f"Each payment must be within the daily limit of {money(DAILY_LIMIT_MINOR, code)}."
        )
    today = w.now.date()
    first = first_date if first_date is not None or cadence != "payday" else _next_payday(w)
    if not isinstance(first, date) or isinstance(first, datetime):
        raise Refused("Please give the date of the first payment.")
    if first < today:
        raise Refused(f"{day(first)} is in the past; choose today or a later date.")
    if first > today + timedelta(days=HORIZON_DAYS):
        raise Refused("I can schedule payments up to a year ahead.")
    table = _T["scheduled_transfer"]
    if rule and dst is not None:
        clash = w.conn.execute(
            select(table.c.id).where(
                table.c.person_id == w.person_id,
                table.c.kind == "savings_rule",
                table.c.active.is_(True),
                table.c.from_account_id == src.id,
                table.c.to_account_id == dst.id,
            )
        ).first()
        if clash is not None:
            raise Refused(
                f"You already have a savings rule from {label(src)} to {label(dst)}; "
                "cancel it first to set a new one."
            )
    kind = "savings_rule" if rule else "one_off" if cadence == "once" else "recurring"
    scheduled = w.conn.execute(
        insert(table)
        .values(
            person_id=w.person_id,
            from_account_id=src.id,
            to_account_id=dst.id if dst is not None else None,
            payee_id=payee.id if payee is not None else None,
            amount_minor=amount,
            currency=code,
            kind=kind,
            cadence=None if cadence == "once" else cadence,
            next_date=first,
            active=True,
        )
        .returning(table.c.id)
    ).scalar_one()
    to_name = label(dst) if dst is not None else payee.name if payee is not None else ""
    when = f"on {day(first)}" if cadence == "once" else f"{EVERY[cadence]} from {day(first)}"
    what = "Set up a savings rule" if rule else "Scheduled a payment"
    ids = {"scheduled_id": int(scheduled), "from_account_id": int(src.id)}
    if dst is not None:
        ids["to_account_id"] = int(dst.id)
    if payee is not None:
        ids["payee_id"] = int(payee.id)
    return WriteResult(
        kind="schedule",
        summary=f"{what}: {money(amount, code)} from {label(src)} to {to_name} {when}.",
        ids=ids,
    )


def _next_payday(w: Write) -> date:
    series = _T["recurring_series"]
    found = w.conn.execute(
        select(series.c.next_date)
        .where(
            series.c.person_id == w.person_id,
            series.c.kind == "salary",
            series.c.active.is_(True),
            series.c.next_date >= w.now.date(),
        )
        .order_by(series.c.next_date)
        .limit(1)
    ).scalar()
    if found is None:
        raise Refused("I can't see a regular paycheck to time this by; please pick a date.")
    return found if isinstance(found, date) else date.fromisoformat(str(found))


def cancel_scheduled(
    conn: Connection,
    *,
    person_id: int,
    scheduled_id: int,
    idempotency_key: str,
    now: datetime,
) -> WriteResult:
    """Cancel a scheduled payment or savings rule (it stays on record, inactive).

    Raises:
        NotFound: the scheduled payment is not the customer's.
        Refused: it is already cancelled.
        IdempotencyConflict: the key was used for a different request.
    """
    request = {"operation": "cancel_scheduled", "scheduled_id": scheduled_id}

    def body(w: Write) -> WriteResult:
        row = owned(w, "scheduled_transfer", scheduled_id, "scheduled payment", lock=True)
        what = _describe(w, row)
        if not row.active:
            raise Refused(f"The {what} is already cancelled.")
        table = _T["scheduled_transfer"]
        w.conn.execute(update(table).where(table.c.id == row.id).values(active=False))
        return WriteResult(
            kind="schedule_cancel",
            summary=f"Cancelled the {what}. Nothing more will be sent.",
            ids={"scheduled_id": int(row.id)},
        )

    return execute(
        conn,
        person_id=person_id,
        kind="schedule_cancel",
        idempotency_key=idempotency_key,
        now=now,
        request=request,
        resource="scheduled_transfer",
        resource_key="scheduled_id",
        body=body,
    )


def _describe(w: Write, row: Row[Any]) -> str:
    """``monthly $50.00 payment from Everyday (…4821) to Tom Baker``."""
    accounts, payees = _T["account"], _T["payee"]
    src = w.conn.execute(select(accounts).where(accounts.c.id == row.from_account_id)).one()
    if row.to_account_id is not None:
        dst = w.conn.execute(select(accounts).where(accounts.c.id == row.to_account_id)).one()
        to_name = label(dst)
    else:
        to_name = w.conn.execute(
            select(payees.c.name).where(payees.c.id == row.payee_id)
        ).scalar_one()
    noun = "savings rule" if row.kind == "savings_rule" else "payment"
    often = {"weekly": "weekly", "biweekly": "every-two-weeks", "payday": "payday"}.get(
        row.cadence or "", row.cadence or "one-off"
    )
    return f"{often} {money(row.amount_minor, row.currency)} {noun} from {label(src)} to {to_name}"
