"""The outbox: notifications and their deliveries, claimed by workers and marked exactly once.

:func:`record` stores a notification once per situation (``dedupe_key``) and one delivery row
per channel with the policy's verdict. Workers :func:`claim` due rows under a lease (PostgreSQL:
``FOR UPDATE SKIP LOCKED``, so workers never wait on each other; SQLite: one writer at a time),
send them, and :func:`mark_sent` or :func:`mark_failed` them; a row whose worker died mid-send
is claimed again once its lease ends. A row that fails ``MAX_ATTEMPTS`` times, or fails in a way
no retry can mend, is ``dead`` with its error kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

from services.notifications import Candidate, aware  # noqa: F401 - aware: callers' helper
from services.notifications.policy import Contact, decide

_T = SQLModel.metadata.tables
MAX_ATTEMPTS = 5
BACKOFF_SECONDS = (5, 30, 120, 600)  # after attempt 1, 2, 3, 4
LEASE = timedelta(seconds=60)
CLAIMABLE = ("pending", "deferred", "failed")


@dataclass(frozen=True)
class Claimed:
    """A delivery a worker holds: what to send, to whom, on which channel."""

    id: int
    notification_id: int
    person_id: int
    channel: str
    attempts: int
    kind: str
    title: str
    body: str
    data: dict[str, Any]
    dedupe_key: str
    created_at: datetime


def _insert_notification(conn: Connection, candidate: Candidate, now: datetime) -> int:
    n = _T["notification"]
    return int(
        conn.execute(
            insert(n)
            .values(
                person_id=candidate.person_id,
                kind=candidate.kind,
                message_class=candidate.route.message_class,
                dedupe_key=candidate.dedupe_key[:200],
                title=candidate.title[:200],
                body=candidate.body[:1000],
                data=candidate.data,
                source=candidate.source[:100],
                created_at=now,
            )
            .returning(n.c.id)
        ).scalar_one()
    )


def record(
    conn: Connection, candidate: Candidate, contact: Contact, now: datetime
) -> list[dict[str, Any]]:
    """Store ``candidate`` and its deliveries; ``[]`` when the situation was already recorded.

    Returns one ``{"channel", "state", "reason", "due_at", "notification_id"}`` per
    channel of the kind's route. ``contact.sent_today`` is counted up for each delivery due, so
    several candidates of one customer in a batch share the day's caps.
    """
    n, d = _T["notification"], _T["notification_delivery"]
    exists = conn.execute(
        select(n.c.id).where(
            n.c.person_id == candidate.person_id, n.c.dedupe_key == candidate.dedupe_key
        )
    ).first()
    if exists is not None:
        return []
    route = candidate.route
    try:
        # two processes recording the same situation at once: the second finds it taken
        with conn.begin_nested():
            note_id = _insert_notification(conn, candidate, now)
    except IntegrityError:
        return []
    out: list[dict[str, Any]] = []
    for channel in route.channels:
        verdict = decide(candidate.kind, route.message_class, channel, contact, now)
        if verdict.state != "skipped":
            contact.sent_today[channel] = contact.sent_today.get(channel, 0) + 1
        out.append(
            {
                "notification_id": note_id,
                "channel": channel,
                "state": verdict.state,
                "reason": verdict.reason,
                "due_at": verdict.due_at,
            }
        )
    conn.execute(
        insert(d),
        [
            {
                "notification_id": note_id,
                "person_id": candidate.person_id,
                "channel": row["channel"],
                "state": row["state"],
                "reason": row["reason"][:200],
                "due_at": row["due_at"],
                "created_at": now,
            }
            for row in out
        ],
    )
    return out


def _due(now: datetime) -> Any:
    d = _T["notification_delivery"]
    return or_(
        and_(d.c.state.in_(CLAIMABLE), d.c.due_at <= now),
        and_(d.c.state == "sending", d.c.lease_until < now),  # its worker died mid-send
    )


def claim(
    conn: Connection,
    *,
    worker: str,
    now: datetime,
    limit: int = 50,
    channels: tuple[str, ...] | None = None,
    lease: timedelta = LEASE,
) -> list[Claimed]:
    """Take up to ``limit`` due deliveries for ``worker`` (one transaction: commit to hold them).

    A row is claimed by one worker at a time: the update re-checks that it is still due, so of
    two workers racing for a row exactly one gets it, on SQLite and PostgreSQL alike. The
    worker holds it for ``lease``; after that another may claim it (the first one died).
    """
    d, n = _T["notification_delivery"], _T["notification"]
    query = select(d.c.id).where(_due(now)).order_by(d.c.due_at, d.c.id).limit(limit)
    if channels:
        query = query.where(d.c.channel.in_(channels))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(conn.execute(query).scalars())
    if not ids:
        return []
    taken = list(
        conn.execute(
            update(d)
            .where(d.c.id.in_(ids), _due(now))
            .values(state="sending", worker=worker[:100], lease_until=now + lease)
            .returning(d.c.id)
        ).scalars()
    )
    if not taken:
        return []
    rows = conn.execute(
        select(
            d.c.id,
            d.c.notification_id,
            d.c.person_id,
            d.c.channel,
            d.c.attempts,
            n.c.kind,
            n.c.title,
            n.c.body,
            n.c.data,
            n.c.dedupe_key,
            n.c.created_at,
        )
        .join(n, n.c.id == d.c.notification_id)
        .where(d.c.id.in_(taken))
        .order_by(d.c.id)
    ).all()
    return [Claimed(**r._mapping) for r in rows]


def mark_sent(
    conn: Connection, delivery_id: int, *, worker: str, now: datetime, provider_id: str | None
) -> bool:
    """Record a delivery sent; False when ``worker`` no longer held it (its lease ran out)."""
    d = _T["notification_delivery"]
    done = conn.execute(
        update(d)
        .where(d.c.id == delivery_id, d.c.state == "sending", d.c.worker == worker[:100])
        .values(
            state="sent",
            sent_at=now,
            attempts=d.c.attempts + 1,
            provider_id=(provider_id or "")[:200] or None,
            lease_until=None,
            last_error=None,
        )
    ).rowcount
    return done == 1


def mark_failed(
    conn: Connection,
    delivery_id: int,
    *,
    worker: str,
    now: datetime,
    error: str,
    permanent: bool = False,
) -> str | None:
    """Record a failed attempt, retried after a backoff or ``dead``; the new state.

    None when ``worker`` no longer held the row.
    """
    d = _T["notification_delivery"]
    row = conn.execute(
        select(d.c.attempts).where(
            d.c.id == delivery_id, d.c.state == "sending", d.c.worker == worker[:100]
        )
    ).first()
    if row is None:
        return None
    attempts = int(row.attempts) + 1
    dead = permanent or attempts >= MAX_ATTEMPTS
    wait = BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS)) - 1]
    state = "dead" if dead else "failed"
    conn.execute(
        update(d)
        .where(d.c.id == delivery_id)
        .values(
            state=state,
            attempts=attempts,
            last_error=error[:500],
            lease_until=None,
            due_at=now if dead else now + timedelta(seconds=wait),
        )
    )
    return state


def release_worker(conn: Connection, worker: str, now: datetime) -> int:
    """Hand back what ``worker`` holds (a clean stop): due again at once; how many."""
    d = _T["notification_delivery"]
    return conn.execute(
        update(d)
        .where(d.c.state == "sending", d.c.worker == worker[:100])
        .values(state="pending", lease_until=None, due_at=now)
    ).rowcount


def counts(conn: Connection) -> dict[str, int]:
    """Deliveries per state (for ``/metrics`` and the benchmarks)."""
    d = _T["notification_delivery"]
    rows = conn.execute(select(d.c.state, func.count()).group_by(d.c.state)).all()
    return {state: int(n) for state, n in rows}
