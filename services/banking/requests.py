"""Requests that move no money: contact preferences, answers to offers, cases for an advisor.

Setting a preference to the value it already has is refused (like freezing a frozen card), so
the customer hears how things stand and no write is recorded for nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select, update
from sqlmodel import SQLModel

from services.banking.core import NotFound, Refused, Write, WriteResult, execute
from services.banking.rules import check_text
from services.models import ContactPreference
from services.recommendations.catalog import default_catalog
from services.recommendations.learning import record_response

_T = SQLModel.metadata.tables
# Channel as the customer names it -> contact_preference column, and how to say it.
CHANNELS = {
    "push": ("push", "push notifications"),
    "email": ("email", "emails"),
    "sms": ("sms", "text messages"),
    "in_app": ("in_app", "in-app messages"),
    "marketing": ("marketing_consent", "marketing offers"),
}
OFFER_RESPONSES = ("accepted", "declined", "dismissed", "clicked")


def set_preference(
    conn: Connection,
    *,
    person_id: int,
    channel: str,
    enabled: bool,
    idempotency_key: str,
    now: datetime,
) -> WriteResult:
    """Turn a contact channel (push, email, sms, in_app) or marketing consent on or off.

    Raises:
        Refused: an unknown channel, or it is already set that way.
        IdempotencyConflict: the key was used for a different request.
    """
    request = {"operation": "set_preference", "channel": channel, "enabled": enabled}

    def body(w: Write) -> WriteResult:
        if channel not in CHANNELS or not isinstance(enabled, bool):
            raise Refused(f"I can turn these on or off: {', '.join(CHANNELS)}.")
        column, words = CHANNELS[channel]
        prefs = _T["contact_preference"]
        row = w.conn.execute(
            select(prefs).where(prefs.c.person_id == w.person_id).with_for_update(key_share=True)
        ).first()
        current = (
            getattr(row, column)
            if row is not None
            else getattr(ContactPreference(person_id=w.person_id), column)
        )
        state = "on" if enabled else "off"
        if bool(current) == enabled:
            raise Refused(f"Your {words} are already {state}.")
        if row is None:
            defaults = ContactPreference(person_id=w.person_id).model_dump()
            w.conn.execute(insert(prefs).values({**defaults, column: enabled}))
        else:
            w.conn.execute(
                update(prefs).where(prefs.c.person_id == w.person_id).values({column: enabled})
            )
        return WriteResult(
            kind="preference", summary=f"Turned {state} {words}.", ids={"person_id": w.person_id}
        )

    return execute(
        conn,
        person_id=person_id,
        kind="preference",
        idempotency_key=idempotency_key,
        now=now,
        request=request,
        resource="contact_preference",
        resource_key="person_id",
        body=body,
    )


def respond_to_offer(
    conn: Connection,
    *,
    person_id: int,
    offer_code: str,
    response: str,
    idempotency_key: str,
    now: datetime,
    channel: str = "chat_line",
) -> WriteResult:
    """Record the customer's answer to an offer in the offer log (which the learner replays).

    The offer must be in the catalogue or have been shown to this customer.

    Raises:
        NotFound: no such offer for this customer.
        Refused: a response other than accepted, declined, dismissed or clicked.
        IdempotencyConflict: the key was used for a different request.
    """
    request = {
        "operation": "respond_to_offer",
        "offer_code": offer_code,
        "response": response,
        "channel": channel,
    }

    def body(w: Write) -> WriteResult:
        catalog = default_catalog()
        events = _T["offer_event"]
        shown = w.conn.execute(
            select(events.c.id).where(
                events.c.person_id == w.person_id, events.c.offer_code == offer_code
            )
        ).first()
        if not isinstance(offer_code, str) or (offer_code not in catalog and shown is None):
            raise NotFound("offer")
        if response not in OFFER_RESPONSES:
            raise Refused(f"An offer can be {', '.join(OFFER_RESPONSES)}.")
        row = record_response(
            w.conn,
            person_id=w.person_id,
            offer_code=offer_code,
            channel=channel,
            response=response,
            at=w.now,
        )
        title = catalog[offer_code].title if offer_code in catalog else offer_code
        return WriteResult(
            kind="offer_response",
            summary=f"Noted: you {response} the {title} offer.",
            ids={"offer_event_id": int(row)},
        )

    return execute(
        conn,
        person_id=person_id,
        kind="offer_response",
        idempotency_key=idempotency_key,
        now=now,
        request=request,
        resource="offer_event",
        resource_key="offer_event_id",
        body=body,
    )


def open_handoff(
    conn: Connection,
    *,
    person_id: int,
    summary: str,
    reason: str,
    idempotency_key: str,
    now: datetime,
) -> WriteResult:
    """Open a case for a human advisor, carrying the conversation's summary.

    Raises:
        Refused: no reason or no summary.
        IdempotencyConflict: the key was used for a different request.
    """
    request = {"operation": "open_handoff", "summary": summary, "reason": reason}

    def body(w: Write) -> WriteResult:
        why = check_text(reason, "reason", 100)
        if not isinstance(summary, str) or not summary.strip():
            raise Refused("Please give a summary for the advisor.")
        if len(summary.strip()) > 2000:
            raise Refused("The summary for the advisor is too long (at most 2000 characters).")
        cases = _T["handoff_case"]
        case_id = w.conn.execute(
            insert(cases)
            .values(
                person_id=w.person_id,
                reason=why,
                summary=summary.strip(),
                status="open",
                opened_at=w.now,
            )
            .returning(cases.c.id)
        ).scalar_one()
        return WriteResult(
            kind="handoff",
            summary=(
                f"Opened case #{case_id} for an advisor ({why}). They'll see what we've "
                "discussed, so you won't need to repeat it."
            ),
            ids={"case_id": int(case_id)},
        )

    return execute(
        conn,
        person_id=person_id,
        kind="handoff",
        idempotency_key=idempotency_key,
        now=now,
        request=request,
        resource="handoff_case",
        resource_key="case_id",
        body=body,
    )
