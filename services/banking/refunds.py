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
REFUND_OF = "refund-of-"  # the refund's ledger leg names the fee: its source ref ends with it


def refunded_fees(conn: Connection, *, person_id: int) -> set[int]:
    """The ids of the customer's fees already refunded."""
    entries = _T["ledger_entry"]
    refs = conn.execute(
        select(entries.c.source_ref).where(
            entries.c.person_id == person_id, entries.c.category == REFUND
        )
    ).scalars()
    return {int(ref.rsplit(REFUND_OF, 1)[1]) for ref in refs if ref and REFUND_OF in ref}


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
        if entry_id in refunded_fees(w.conn, person_id=w.person_id):
            raise Refused("That fee was already refunded.")
        account = lock_accounts(w, [fee.account_id])[fee.account_id]
        check_usable(account)
        amount = -int(fee.amount_minor)
        entry, after = book(
            w,
            account,
            amount_minor=amount,
            leg=f"{REFUND_OF}{entry_id}",
            category=REFUND,
            channel="fee",
            description=f"REFUND OF {fee.description[:80]}",
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
