"""The contact policy for notifications: per channel, send now, wait, or not at all, and why.

Checks, in order (the first that fails decides):

1. the bank offers the channel (an SMTP server or a provider is set up), the customer has it
   on (the in-app inbox always is), and an address for it (an e-mail address, a phone number);
2. marketing needs the customer's opt-in; service and mandatory messages do not;
3. a kind the customer dismissed rests for ``DISMISSED_REST``, one they marked not helpful for
   ``NOT_HELPFUL_REST`` (mandatory messages excepted);
4. at most ``CAPS[channel]`` a day per channel, counted in the customer's own day (mandatory
   messages bypass caps);
5. interrupting channels (push, text, e-mail) wait for the customer's quiet hours to end, in their
   time zone: the row is deferred, not dropped (mandatory messages do not wait).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, and_, func, select
from sqlmodel import SQLModel

from services.notifications import MessageClass, aware
from services.recommendations.policy import zone

_T = SQLModel.metadata.tables
CAPS = {"in_app": 20, "email": 3, "push": 3, "sms": 2}
INTERRUPTING = ("email", "push", "sms")
DISMISSED_REST = timedelta(days=7)
NOT_HELPFUL_REST = timedelta(days=30)
# Defaults of a customer with no contact preferences on file (as ContactPreference's columns).
DEFAULT_CHANNELS = frozenset({"in_app", "email", "push"})


@dataclass(frozen=True)
class Contact:
    """What the policy knows about one customer at one moment."""

    person_id: int
    first_name: str | None = None
    currency: str = "USD"
    channels: frozenset[str] = DEFAULT_CHANNELS
    marketing_consent: bool = False
    quiet_start: time | None = None
    quiet_end: time | None = None
    timezone: str = "UTC"
    email: str | None = None
    phone: str | None = None
    large_purchase_minor: int | None = None
    low_balance_minor: int | None = None
    sent_today: dict[str, int] = field(default_factory=dict)  # channel -> sent or due today
    rested: dict[str, tuple[str, datetime]] = field(default_factory=dict)  # kind -> answer, when
    unavailable: frozenset[str] = frozenset()  # channels the bank has not set up

    def address(self, channel: str) -> str | None:
        """Where ``channel`` reaches the customer (push goes to the app they sign in to)."""
        if channel == "email":
            return self.email
        if channel == "sms":
            return self.phone
        return f"customer-{self.person_id}"


@dataclass(frozen=True)
class Decision:
    """One channel's verdict: ``pending`` (send at ``due_at``), ``deferred`` or ``skipped``."""

    state: Literal["pending", "deferred", "skipped"]
    due_at: datetime
    reason: str


def decide(
    kind: str, message_class: MessageClass, channel: str, contact: Contact, now: datetime
) -> Decision:
    """The policy's verdict for one notification on one channel (see the module docstring)."""
    mandatory = message_class == "mandatory"
    if channel in contact.unavailable:
        return Decision("skipped", now, f"not_offered({channel})")
    if channel != "in_app" and channel not in contact.channels and not mandatory:
        return Decision("skipped", now, f"channel_off({channel})")
    if contact.address(channel) is None:
        return Decision("skipped", now, f"no_address({channel})")
    if message_class == "marketing" and not contact.marketing_consent:
        return Decision("skipped", now, "no_marketing_consent")
    if not mandatory and kind in contact.rested:
        answer, at = contact.rested[kind]
        rest = NOT_HELPFUL_REST if answer == "not_helpful" else DISMISSED_REST
        if now - at < rest:
            return Decision("skipped", now, f"resting_after_{answer}({rest.days}d)")
    used, cap = contact.sent_today.get(channel, 0), CAPS[channel]
    if not mandatory and used >= cap:
        return Decision("skipped", now, f"frequency_cap({channel} {cap}/day)")
    why = f"{message_class}; {channel} {used + 1}/{cap} today"
    if channel in INTERRUPTING and not mandatory:
        ends = quiet_until(contact, now)
        if ends is not None:
            return Decision("deferred", ends, f"quiet_hours(until {ends.isoformat()})")
    return Decision("pending", now, why)


def quiet_until(contact: Contact, now: datetime) -> datetime | None:
    """When the customer's quiet hours end, if ``now`` falls in them (else None)."""
    start, end = contact.quiet_start, contact.quiet_end
    if start is None or end is None or start == end:
        return None
    tz = zone(contact.timezone)
    local = now.astimezone(tz)
    minute = local.hour * 60 + local.minute
    begin, stop = start.hour * 60 + start.minute, end.hour * 60 + end.minute
    inside = begin <= minute < stop if begin < stop else minute >= begin or minute < stop
    if not inside:
        return None
    day = local.date() if minute < stop else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=tz).astimezone(UTC)


def local_day(contact: Contact, now: datetime) -> tuple[datetime, datetime]:
    """The customer's current day, as UTC bounds (caps count in the customer's own day)."""
    tz = zone(contact.timezone)
    today: date = now.astimezone(tz).date()
    begin = datetime.combine(today, time(0), tzinfo=tz).astimezone(UTC)
    return begin, begin + timedelta(days=1)


def load_contacts(conn: Connection, person_ids: list[int], now: datetime) -> dict[int, Contact]:
    """The policy's view of each customer: preferences, addresses, today's count, answers."""
    if not person_ids:
        return {}
    p, cp, np_ = _T["person"], _T["contact_preference"], _T["notification_preference"]
    rows = conn.execute(
        select(
            p.c.id,
            p.c.first_name,
            p.c.email,
            p.c.phone,
            cp.c.push,
            cp.c.email.label("email_on"),
            cp.c.sms,
            cp.c.in_app,
            cp.c.marketing_consent,
            cp.c.quiet_start,
            cp.c.quiet_end,
            cp.c.timezone,
            np_.c.large_purchase_minor,
            np_.c.low_balance_minor,
        )
        .select_from(
            p.outerjoin(cp, cp.c.person_id == p.c.id).outerjoin(np_, np_.c.person_id == p.c.id)
        )
        .where(p.c.id.in_(person_ids))
    ).all()
    found: dict[int, Contact] = {}
    for r in rows:
        if r.push is None:  # no preferences on file: the table's defaults
            channels = DEFAULT_CHANNELS
        else:
            on = {"push": r.push, "email": r.email_on, "sms": r.sms, "in_app": r.in_app}
            channels = frozenset(c for c, v in on.items() if v)
        found[r.id] = Contact(
            person_id=r.id,
            first_name=r.first_name,
            channels=channels,
            marketing_consent=bool(r.marketing_consent),
            quiet_start=r.quiet_start,
            quiet_end=r.quiet_end,
            timezone=r.timezone or "UTC",
            email=r.email,
            phone=r.phone,
            large_purchase_minor=r.large_purchase_minor,
            low_balance_minor=r.low_balance_minor,
        )
    counts = _sent_today(conn, found, now)
    rested = _rested(conn, list(found), now)
    return {
        pid: Contact(
            **{**c.__dict__, "sent_today": counts.get(pid, {}), "rested": rested.get(pid, {})}
        )
        for pid, c in found.items()
    }


def _sent_today(
    conn: Connection, contacts: dict[int, Contact], now: datetime
) -> dict[int, dict[str, int]]:
    # counted over the widest local day among them, then per customer's own day
    d = _T["notification_delivery"]
    since = now - timedelta(days=1, hours=14)
    rows = conn.execute(
        select(d.c.person_id, d.c.channel, d.c.due_at).where(
            d.c.person_id.in_(list(contacts)),
            d.c.state.in_(("pending", "deferred", "sending", "sent", "failed")),
            d.c.due_at >= since,
        )
    ).all()
    out: dict[int, dict[str, int]] = {}
    bounds = {pid: local_day(c, now) for pid, c in contacts.items()}
    for pid, channel, due in rows:
        begin, end = bounds[pid]
        due = aware(due)
        if begin <= due < end:
            per = out.setdefault(pid, {})
            per[channel] = per.get(channel, 0) + 1
    return out


def _rested(conn: Connection, person_ids: list[int], now: datetime) -> dict[int, dict[str, Any]]:
    n = _T["notification"]
    rows = conn.execute(
        select(n.c.person_id, n.c.kind, n.c.feedback, func.max(n.c.feedback_at))
        .where(
            and_(
                n.c.person_id.in_(person_ids),
                n.c.feedback.in_(("dismissed", "not_helpful")),
                n.c.feedback_at >= now - NOT_HELPFUL_REST,
            )
        )
        .group_by(n.c.person_id, n.c.kind, n.c.feedback)
    ).all()
    out: dict[int, dict[str, Any]] = {}
    for pid, kind, answer, at in rows:
        at = aware(at)
        mine = out.setdefault(pid, {})
        # not helpful outweighs a dismissal; a later answer outweighs an earlier one
        if kind not in mine or answer == "not_helpful" or at > mine[kind][1]:
            mine[kind] = (answer, at)
    return out
