"""Cards and card transactions: freeze, unfreeze, replace (lost, stolen, damaged), dispute.

Freezing a frozen card or unfreezing an active one is refused rather than done again, so the
customer hears the card's real state and no write is recorded for a change that didn't happen.
A blocked card (lost, stolen, replaced) can be neither frozen nor unfrozen, nor replaced twice.
"""

from __future__ import annotations

import calendar
import hashlib
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
    check_text,
    day,
    money,
    owned,
)

_T = SQLModel.metadata.tables
BLOCKED = frozenset({"lost", "stolen", "replaced"})
REPLACE_REASONS = ("lost", "stolen", "damaged")
CARD_YEARS = 4  # a new card's validity
DISPUTE_WINDOW_DAYS = 120  # card schemes' usual limit for a chargeback
NOT_DISPUTABLE = frozenset({"transfer"})  # money between the customer's own accounts


def card_name(card: Row[Any]) -> str:
    """``debit card ending 4821``."""
    return f"{card.type} card ending {card.last4}"


def _blocked(card: Row[Any], doing: str) -> None:
    if card.status in BLOCKED or card.replaced_by_id is not None:
        why = "replaced" if card.status == "replaced" else f"reported {card.status}"
        raise Refused(
            f"Your {card_name(card)} was {why} and is blocked for good, so it can't be {doing}."
        )


def _set_status(
    conn: Connection,
    *,
    person_id: int,
    card_id: int,
    idempotency_key: str,
    now: datetime,
    freeze: bool,
) -> WriteResult:
    kind = "card_freeze" if freeze else "card_unfreeze"
    request = {"operation": kind, "card_id": card_id}

    def body(w: Write) -> WriteResult:
        card = owned(w, "card", card_id, "card", lock=True)
        _blocked(card, "frozen" if freeze else "unfrozen")
        want, have = ("frozen", "active") if freeze else ("active", "frozen")
        if card.status == want:
            state = "frozen" if freeze else "active, not frozen"
            raise Refused(f"Your {card_name(card)} is already {state}.")
        if card.status != have:
            raise Refused(f"Your {card_name(card)} is {card.status}; it can't be changed here.")
        cards = _T["card"]
        w.conn.execute(update(cards).where(cards.c.id == card.id).values(status=want))
        summary = (
            f"Froze your {card_name(card)}. Nothing can be charged to it until you unfreeze it."
            if freeze
            else f"Unfroze your {card_name(card)}. It works again."
        )
        return WriteResult(kind=kind, summary=summary, ids={"card_id": int(card.id)})

    return execute(
        conn,
        person_id=person_id,
        kind=kind,
        idempotency_key=idempotency_key,
        now=now,
        request=request,
        resource="card",
        resource_key="card_id",
        body=body,
    )


def freeze_card(
    conn: Connection, *, person_id: int, card_id: int, idempotency_key: str, now: datetime
) -> WriteResult:
    """Freeze an active card (reversible).

    Raises:
        NotFound: the card is not the customer's.
        Refused: the card is already frozen, or blocked for good.
        IdempotencyConflict: the key was used for a different request.
    """
    return _set_status(
        conn,
        person_id=person_id,
        card_id=card_id,
        idempotency_key=idempotency_key,
        now=now,
        freeze=True,
    )


def unfreeze_card(
    conn: Connection, *, person_id: int, card_id: int, idempotency_key: str, now: datetime
) -> WriteResult:
    """Unfreeze a frozen card.

    Raises:
        NotFound: the card is not the customer's.
        Refused: the card is already active, or blocked for good.
        IdempotencyConflict: the key was used for a different request.
    """
    return _set_status(
        conn,
        person_id=person_id,
        card_id=card_id,
        idempotency_key=idempotency_key,
        now=now,
        freeze=False,
    )


def replace_card(
    conn: Connection,
    *,
    person_id: int,
    card_id: int,
    reason: str,
    idempotency_key: str,
    now: datetime,
) -> WriteResult:
    """Block a card for good (lost, stolen or damaged) and order its replacement, in one write.

    The old card becomes ``lost``, ``stolen`` or (damaged) ``replaced`` and points at the new
    card: same account and type, a new number ending, valid for four years. A frozen card can
    be replaced.

    Raises:
        NotFound: the card is not the customer's.
        Refused: an unknown reason, or the card was already blocked or replaced.
        IdempotencyConflict: the key was used for a different request.
    """
    request = {"operation": "replace_card", "card_id": card_id, "reason": reason}

    def body(w: Write) -> WriteResult:
        card = owned(w, "card", card_id, "card", lock=True)
        if reason not in REPLACE_REASONS:
            raise Refused(f"A card is replaced when it's {', '.join(REPLACE_REASONS)}.")
        _blocked(card, "replaced again")
        cards = _T["card"]
        taken = set(
            w.conn.execute(select(cards.c.last4).where(cards.c.person_id == w.person_id))
            .scalars()
            .all()
        )
        last4 = _new_last4(f"{w.person_id}:{card.id}:{w.reference}", taken)
        new_id = w.conn.execute(
            insert(cards)
            .values(
                person_id=w.person_id,
                account_id=card.account_id,
                type=card.type,
                last4=last4,
                status="active",
                expires_on=_expiry(w.now.date()),
                replaced_by_id=None,
            )
            .returning(cards.c.id)
        ).scalar_one()
        old_status = "replaced" if reason == "damaged" else reason
        w.conn.execute(
            update(cards)
            .where(cards.c.id == card.id)
            .values(status=old_status, replaced_by_id=new_id)
        )
        why = "damaged" if reason == "damaged" else f"reported {reason}"
        return WriteResult(
            kind="card_replace",
            summary=(
                f"Blocked your {card_name(card)} for good ({why}) and ordered a new "
                f"{card.type} card ending {last4}; it should arrive within 7 business days."
            ),
            ids={"card_id": int(card.id), "new_card_id": int(new_id)},
        )

    return execute(
        conn,
        person_id=person_id,
        kind="card_replace",
        idempotency_key=idempotency_key,
        now=now,
        request=request,
        resource="card",
        resource_key="card_id",
        body=body,
    )


def _new_last4(seed: str, taken: set[str]) -> str:
    """Four digits unlike any of the customer's cards; derived from ``seed`` so reruns agree."""
    n = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:4], "big") % 10_000
    while f"{n:04d}" in taken:
        n = (n + 1) % 10_000
    return f"{n:04d}"


def _expiry(today: date) -> date:
    year = today.year + CARD_YEARS
    return date(year, today.month, calendar.monthrange(year, today.month)[1])


def dispute_transaction(
    conn: Connection,
    *,
    person_id: int,
    ledger_entry_id: int,
    reason: str,
    idempotency_key: str,
    now: datetime,
) -> WriteResult:
    """Open a dispute of a transaction taken from the customer's account.

    Raises:
        NotFound: the transaction is not the customer's.
        Refused: no reason given, the entry is money in, a transfer between the customer's
            own accounts, older than the dispute window, or already disputed.
        IdempotencyConflict: the key was used for a different request.
    """
    request = {
        "operation": "dispute_transaction",
        "ledger_entry_id": ledger_entry_id,
        "reason": reason,
    }

    def body(w: Write) -> WriteResult:
        entry = owned(w, "ledger_entry", ledger_entry_id, "transaction")
        why = check_text(reason, "reason for the dispute", 200)
        what = _entry_name(entry)
        if entry.amount_minor >= 0:
            raise Refused(f"{what} was money coming in, so there is nothing to dispute.")
        if entry.category in NOT_DISPUTABLE:
            raise Refused(f"{what} was a transfer between your own accounts.")
        booked = entry.booked_at.date()
        if booked < w.now.date() - timedelta(days=DISPUTE_WINDOW_DAYS):
            raise Refused(
                f"{what} is more than {DISPUTE_WINDOW_DAYS} days old, past the window for a "
                "dispute; an advisor can look at it with you."
            )
        disputes = _T["dispute"]
        earlier = w.conn.execute(
            select(disputes.c.id).where(disputes.c.ledger_entry_id == entry.id)
        ).scalar()
        if earlier is not None:
            raise Refused(f"{what} is already disputed (case #{earlier}).")
        dispute_id = w.conn.execute(
            insert(disputes)
            .values(
                person_id=w.person_id,
                ledger_entry_id=entry.id,
                amount_minor=entry.amount_minor,
                currency=entry.currency,
                reason=why,
                status="open",
                opened_at=w.now,
            )
            .returning(disputes.c.id)
        ).scalar_one()
        return WriteResult(
            kind="dispute",
            summary=(
                f"Opened dispute #{dispute_id} for {what[0].lower()}{what[1:]}. We'll look "
                "into it and tell you "
                "the outcome within 10 business days."
            ),
            ids={"dispute_id": int(dispute_id), "ledger_entry_id": int(entry.id)},
        )

    return execute(
        conn,
        person_id=person_id,
        kind="dispute",
        idempotency_key=idempotency_key,
        now=now,
        request=request,
        resource="ledger_entry",
        resource_key="ledger_entry_id",
        body=body,
    )


def _entry_name(entry: Row[Any]) -> str:
    """``The $89.99 payment to Best Buy on Mar 1, 2026``."""
    who = entry.merchant or entry.counterparty or entry.description or "a transaction"
    amount = money(abs(entry.amount_minor), entry.currency)
    way = "to" if entry.amount_minor < 0 else "from"
    return f"The {amount} {way} {who} on {day(entry.booked_at.date())}"
