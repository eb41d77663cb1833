"""Refunding a fee: an action for an advisor, never for the customer's chat.

The fee is one of the customer's own ledger rows in the ``fees`` category (an overdraft or a
card fee); the refund credits the same account with the same amount and is booked at most once
per fee, whoever asks and however often. It runs through the same write path as every other
write (idempotency, locks, the audit log), with the advisor as the actor.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select
from sqlmodel import SQLModel

from services.banking.core import Refused, Write, WriteResult, execute
from services.banking.rules import (
    SOURCE_PREFIX,
    book,
    check_usable,
    day,
    label,
    lock_accounts,
    money,
    owned,
)

_T = SQLModel.metadata.tables
FEES = "fees"
REFUND = "fee_refund"


def refund_fee(
    conn: Connection,
    *,
    person_id: int,
    entry_id: int,
    advisor_id: int,
    idempotency_key: str,
    now: datetime,
) -> WriteResult:
    """Credit back one of the customer's fees, on an advisor's decision.

    Raises:
        NotFound: no such transaction of this customer's.
        Refused: the transaction is no fee, or the fee was already refunded.
        IdempotencyConflict: the key was used for a different request.
    """
    request = {"operation": "refund_fee", "entry_id": entry_id, "advisor_id": advisor_id}

    def body(w: Write) -> WriteResult:
        fee = owned(w, "ledger_entry", entry_id, "transaction")
        if fee.category != FEES or fee.amount_minor >= 0:
            raise Refused("Only a fee the bank charged can be refunded.")
        entries = _T["ledger_entry"]
        done = w.conn.execute(
            select(entries.c.id).where(
                entries.c.person_id == w.person_id,
                entries.c.category == REFUND,
                entries.c.source_ref.like(f"{SOURCE_PREFIX}%:refund-of-{entry_id}"),
            )
        ).first()
        if done is not None:
            raise Refused("That fee was already refunded.")
        account = lock_accounts(w, [fee.account_id])[fee.account_id]
        check_usable(account)
        amount = -int(fee.amount_minor)
        entry, after = book(
            w,
            account,
            amount_minor=amount,
            leg=f"refund-of-{entry_id}",
            category=REFUND,
            channel="fee",
            description=f"REFUND OF {fee.description.split(' concierge:')[0][:80]}",
            counterparty="fee refund",
        )
        return WriteResult(
            kind="fee_refund",
            summary=(
                f"Refunded the {money(amount, account.currency)} fee of "
                f"{day(fee.booked_at.date())} to {label(account)}. "
                f"{account.name} balance is now {money(after, account.currency)}."
            ),
            ids={"fee_entry_id": int(entry_id), "refund_entry_id": entry, "account_id": account.id},
            reference=w.reference,
        )

    return execute(
        conn,
        person_id=person_id,
        kind="fee_refund",
        idempotency_key=idempotency_key,
        now=now,
        request=request,
        resource="ledger_entry",
        resource_key="fee_entry_id",
        body=body,
        actor=f"advisor:{advisor_id}",
    )
