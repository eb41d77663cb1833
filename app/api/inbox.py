"""The customer's notifications under ``/api/me``: the inbox, their answers, their settings.

No route takes a person id: whose inbox comes only from the bearer token, and a notification id
of another customer answers 404 like one that does not exist.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field

from app.api.deps import (
    CUSTOMER_ONLY,
    GONE,
    UNREADABLE_BODY,
    CurrentCustomer,
    RecordId,
    SessionDep,
)
from app.api.queries import get_person
from app.api.views import decimal_text
from services.money import to_minor
from services.notifications import inbox as notes
from services.notifications.copy import copy_on

router = APIRouter(prefix="/api/me", tags=["me"])
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such notification, or the token's customer is no longer on file."}
}
ON_FILE = {**CUSTOMER_ONLY, **GONE}


def _on_file(session: SessionDep, customer_id: int) -> None:
    """404 when the token's customer is gone (e.g. after a reseed): nothing to read or change."""
    if get_person(session, person_id=customer_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "customer not found")


INVALID: dict[int | str, dict[str, Any]] = {422: {"description": "A value out of range."}}


class InboxItem(BaseModel):
    """One in-app notification."""

    id: int
    kind: str
    title: str
    body: str
    created_at: datetime
    read_at: datetime | None
    feedback: str | None = Field(description="opened, dismissed or not_helpful; null if none.")


class Inbox(BaseModel):
    """The customer's in-app notifications, newest first."""

    unread: int
    items: list[InboxItem]


def _item(row: dict[str, Any]) -> dict[str, Any]:
    title, body = copy_on(row.get("data"), "in_app", row["title"], row["body"])
    return {
        "id": row["id"],
        "kind": row["kind"],
        "title": title,
        "body": body,
        "created_at": row["created_at"],
        "read_at": row["read_at"],
        "feedback": row["feedback"],
    }


@router.get("/inbox", response_model=Inbox, responses=ON_FILE)
def my_inbox(
    customer_id: CurrentCustomer,
    session: SessionDep,
    unread: bool = Query(False, description="Only the notifications not yet read."),
    limit: int = Query(50, ge=1, le=200),
) -> dict[str, Any]:
    """What the bank told the customer in the app, newest first, and how many are unread."""
    _on_file(session, customer_id)
    found = notes.inbox(
        session.connection(), person_id=customer_id, unread_only=unread, limit=limit
    )
    return {"unread": found["unread"], "items": [_item(r) for r in found["items"]]}


class Answer(BaseModel):
    """The customer's answer to a notification."""

    response: Literal["opened", "dismissed", "not_helpful"]


@router.post(
    "/inbox/{notification}/feedback",
    response_model=InboxItem,
    responses={**CUSTOMER_ONLY, **NOT_FOUND, **UNREADABLE_BODY},
)
def answer_notification(
    notification: RecordId, body: Answer, customer_id: CurrentCustomer, session: SessionDep
) -> dict[str, Any]:
    """Open, dismiss or mark a notification not helpful; fewer of a dismissed kind follow."""
    row = notes.answer(
        session.connection(),
        person_id=customer_id,
        notification_id=notification,
        response=body.response,
        now=datetime.now(UTC),
    )
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "notification not found")
    session.commit()
    return _item(row)


class Channels(BaseModel):
    """Which channels the customer accepts notifications on."""

    in_app: bool
    email: bool
    push: bool
    sms: bool


class NotificationSettings(BaseModel):
    """What the bank may tell the customer, where, when, and above which amounts."""

    channels: Channels
    marketing_consent: bool
    quiet_start: str | None = Field(description="Start of quiet hours, HH:MM local, or null.")
    quiet_end: str | None = Field(description="End of quiet hours, HH:MM local, or null.")
    timezone: str
    large_purchase_over: str | None = Field(
        description="Tell me about charges over this amount, e.g. '200.00'; null: the bank's "
        "own judgement of large."
    )
    low_balance_under: str | None = Field(
        description="Tell me when a balance falls under this amount; null: never."
    )


class SettingsChange(BaseModel):
    """Only the fields given change."""

    channels: dict[Literal["in_app", "email", "push", "sms"], bool] | None = None
    marketing_consent: bool | None = None
    quiet_start: str | None = Field(None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    quiet_end: str | None = Field(None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    timezone: str | None = Field(None, max_length=50)
    large_purchase_over: str | None = Field(None, max_length=20)
    low_balance_under: str | None = Field(None, max_length=20)


def _view(found: dict[str, Any]) -> dict[str, Any]:
    def hhmm(value: time | None) -> str | None:
        return value.strftime("%H:%M") if value is not None else None

    def amount(minor: int | None) -> str | None:
        return decimal_text(minor) if minor is not None else None

    return {
        "channels": found["channels"],
        "marketing_consent": found["marketing_consent"],
        "quiet_start": hhmm(found["quiet_start"]),
        "quiet_end": hhmm(found["quiet_end"]),
        "timezone": found["timezone"],
        "large_purchase_over": amount(found["large_purchase_minor"]),
        "low_balance_under": amount(found["low_balance_minor"]),
    }


@router.get("/notification-settings", response_model=NotificationSettings, responses=ON_FILE)
def my_notification_settings(customer_id: CurrentCustomer, session: SessionDep) -> dict[str, Any]:
    """The customer's channels, consent, quiet hours and thresholds."""
    _on_file(session, customer_id)
    return _view(notes.settings_of(session.connection(), person_id=customer_id))


def _minor(text: str | None, field: str) -> int | None:
    if text is None or text.strip() == "":
        return None
    try:
        value = Decimal(text.strip().lstrip("$").replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"{field} is an amount such as 200.00") from None
    if value < 0 or value > Decimal("1000000000"):
        raise ValueError(f"{field} is an amount of zero or more")
    return to_minor(value)


@router.patch(
    "/notification-settings",
    response_model=NotificationSettings,
    responses={**ON_FILE, **INVALID, **UNREADABLE_BODY},
)
def change_notification_settings(
    body: SettingsChange, customer_id: CurrentCustomer, session: SessionDep
) -> dict[str, Any]:
    """Change channels, consent, quiet hours or thresholds; a bad value changes nothing."""
    _on_file(session, customer_id)
    given = body.model_fields_set
    changes: dict[str, Any] = {}
    try:
        if "channels" in given and body.channels is not None:
            changes["channels"] = dict(body.channels)
        if "marketing_consent" in given and body.marketing_consent is not None:
            changes["marketing_consent"] = body.marketing_consent
        for key in ("quiet_start", "quiet_end"):
            if key in given:
                raw = getattr(body, key)
                changes[key] = time.fromisoformat(raw) if raw else None
        if "timezone" in given and body.timezone is not None:
            changes["timezone"] = body.timezone
        if "large_purchase_over" in given:
            changes["large_purchase_minor"] = _minor(
                body.large_purchase_over, "large_purchase_over"
            )
        if "low_balance_under" in given:
            changes["low_balance_minor"] = _minor(body.low_balance_under, "low_balance_under")
        found = notes.change_settings(
            session.connection(), person_id=customer_id, changes=changes, now=datetime.now(UTC)
        )
    except ValueError as exc:
        session.rollback()
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    session.commit()
    return _view(found)
