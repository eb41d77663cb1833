"""The customer's side of notifications: the inbox, their answers, and their own thresholds.

Every function takes the customer from the caller (the signed-in customer), never from input:
a notification id of another customer is the same as one that does not exist.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlmodel import SQLModel

from services.models import ContactPreference
from services.notifications import FEEDBACK
from services.recommendations.learning import record_response
from services.recommendations.policy import zone

_T = SQLModel.metadata.tables
# The customer's answer -> the offer log's word, so answers teach the propensity models
LEARNED_AS = {"opened": "clicked", "dismissed": "dismissed", "not_helpful": "declined"}
CHANNEL_COLUMNS = {"in_app": "in_app", "email": "email", "push": "push", "sms": "sms"}


def inbox(
    conn: Connection, *, person_id: int, unread_only: bool = False, limit: int = 50
) -> dict[str, Any]:
    """The customer's in-app notifications, newest first, and how many are unread."""
    n, d = _T["notification"], _T["notification_delivery"]
    # what reached the inbox: notifications with an in-app delivery the policy let through
    shown = select(d.c.notification_id).where(
        d.c.person_id == person_id,
        d.c.channel == "in_app",
        d.c.state.notin_(("skipped", "dead")),
    )
    mine = (n.c.person_id == person_id) & n.c.id.in_(shown)
    query = select(n).where(mine).order_by(n.c.created_at.desc(), n.c.id.desc()).limit(limit)
    if unread_only:
        query = query.where(n.c.read_at.is_(None))
    unread = conn.execute(
        select(func.count()).select_from(n).where(mine, n.c.read_at.is_(None))
    ).scalar_one()
    return {"unread": int(unread), "items": [dict(r._mapping) for r in conn.execute(query)]}


def answer(
    conn: Connection, *, person_id: int, notification_id: int, response: str, now: datetime
) -> dict[str, Any] | None:
    """Record the customer's answer to one of their notifications; None when it is not theirs.

    Opening marks it read; dismissing or "not helpful" also rests that kind of message
    (:mod:`.policy`). The answer goes to the offer log as well, for the action the message
    followed up, so the learning loop and the bank's figures see it.
    """
    if response not in FEEDBACK:
        raise ValueError(f"response must be one of {', '.join(FEEDBACK)}")
    n = _T["notification"]
    row = conn.execute(
        select(n).where(n.c.id == notification_id, n.c.person_id == person_id)
    ).first()
    if row is None:
        return None
    values: dict[str, Any] = {"read_at": row.read_at or now}
    if response != "opened" or row.feedback is None:
        values |= {"feedback": response, "feedback_at": now}
    conn.execute(update(n).where(n.c.id == notification_id).values(values))
    action = (row.data or {}).get("action") if isinstance(row.data, dict) else None
    if action:
        record_response(
            conn,
            person_id=person_id,
            offer_code=action,
            channel="in_app_card",
            response=LEARNED_AS[response],
            at=now,
        )
    return {**dict(row._mapping), **values}


def settings_of(conn: Connection, *, person_id: int) -> dict[str, Any]:
    """The customer's channels, consent, quiet hours and thresholds (defaults when none set)."""
    cp, np_ = _T["contact_preference"], _T["notification_preference"]
    row = conn.execute(select(cp).where(cp.c.person_id == person_id)).first()
    prefs = dict(row._mapping) if row else ContactPreference(person_id=person_id).model_dump()
    own = conn.execute(select(np_).where(np_.c.person_id == person_id)).first()
    return {
        "channels": {name: bool(prefs[col]) for name, col in CHANNEL_COLUMNS.items()},
        "marketing_consent": bool(prefs["marketing_consent"]),
        "quiet_start": prefs["quiet_start"],
        "quiet_end": prefs["quiet_end"],
        "timezone": prefs["timezone"],
        "large_purchase_minor": own.large_purchase_minor if own else None,
        "low_balance_minor": own.low_balance_minor if own else None,
    }


def change_settings(
    conn: Connection, *, person_id: int, changes: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """Apply the given changes (only the keys present), checked first; the settings after.

    Keys: ``channels`` (a mapping of channel -> on), ``marketing_consent``, ``quiet_start`` and
    ``quiet_end`` (times, or None for none), ``timezone``, ``large_purchase_minor`` and
    ``low_balance_minor`` (non-negative minor units, or None for none).

    Raises:
        ValueError: a value out of range; nothing is changed.
    """
    contact: dict[str, Any] = {}
    for name, on in (changes.get("channels") or {}).items():
        if name not in CHANNEL_COLUMNS or not isinstance(on, bool):
            raise ValueError(f"channels are {', '.join(CHANNEL_COLUMNS)}, each true or false")
        contact[CHANNEL_COLUMNS[name]] = on
    if "marketing_consent" in changes:
        contact["marketing_consent"] = bool(changes["marketing_consent"])
    for key in ("quiet_start", "quiet_end"):
        if key in changes:
            value = changes[key]
            if value is not None and not isinstance(value, time):
                raise ValueError(f"{key} is a time of day, e.g. 22:00, or null")
            contact[key] = value
    if "timezone" in changes:
        tz = str(changes["timezone"])
        if zone(tz).key != tz and tz != "UTC":
            raise ValueError(f"unknown time zone {tz!r} (e.g. America/New_York)")
        contact["timezone"] = tz
    own: dict[str, Any] = {}
    for key in ("large_purchase_minor", "low_balance_minor"):
        if key in changes:
            value = changes[key]
            if value is not None and (not isinstance(value, int) or value < 0):
                raise ValueError(f"{key} is an amount of zero or more, or null")
            own[key] = value
    cp, np_ = _T["contact_preference"], _T["notification_preference"]
    if contact:
        found = conn.execute(select(cp.c.person_id).where(cp.c.person_id == person_id)).first()
        if found is None:
            defaults = ContactPreference(person_id=person_id).model_dump()
            conn.execute(insert(cp).values({**defaults, **contact}))
        else:
            conn.execute(update(cp).where(cp.c.person_id == person_id).values(contact))
    if own:
        found = conn.execute(select(np_.c.person_id).where(np_.c.person_id == person_id)).first()
        if found is None:
            conn.execute(insert(np_).values(person_id=person_id, updated_at=now, **own))
        else:
            conn.execute(
                update(np_).where(np_.c.person_id == person_id).values(updated_at=now, **own)
            )
    return settings_of(conn, person_id=person_id)
