"""Live hand-off: the advisors' queue of conversations and what is said in them.

A customer who asks for a person joins the queue (:func:`enqueue`), is told their place and an
honest wait (:func:`place`), and keeps the same chat. One advisor claims a waiting conversation
(:func:`claim`: a single conditional update, so of two advisors clicking at once exactly one
wins, on SQLite and PostgreSQL alike), talks in it (:func:`say`), and hands it back to the
assistant or closes it with an outcome. Every line said is a row here before it is delivered
anywhere, so a restart loses nothing and a reader that missed a delivery reads on from the
last line it saw (:func:`lines`).

Opening hours (:class:`services.opening_hours.Hours`) are the bank's; outside them the customer is
told so and the case stays open for an advisor to pick up.
"""

from __future__ import annotations

import re
import statistics
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, case, false, func, insert, select, update
from sqlmodel import SQLModel

from services.banking.rules import Refused, check_text
from services.opening_hours import Hours

__all__ = ["Hours"]  # the bank's advisor hours, used with the queue

_T = SQLModel.metadata.tables
OPEN = ("waiting", "active")
OUTCOMES = ("resolved", "follow_up", "no_answer", "referred")
HANDLE_SECONDS = 300  # the wait per place in the queue before any conversation was timed
RECENT = 50  # the latest timed conversations the wait estimate reads
_FRAUD = re.compile(
    r"\b(fraud\w*|stolen|scam\w*|hack\w*|unauthori[sz]ed|didn'?t (?:make|authori[sz]e)|"
    r"don'?t recogni[sz]e|identity theft)\b",
    re.I,
)


def priority_of(reason: str, said: list[str], *, age: int | None = None) -> int:
    """2 for a suspected fraud, 1 for a customer who may need more care (80 or older), else 0."""
    if _FRAUD.search(" ".join([reason, *said])):
        return 2
    return 1 if age is not None and age >= 80 else 0


def _row(found: Any) -> dict[str, Any] | None:
    return dict(found._mapping) if found is not None else None


def current(conn: Connection, *, person_id: int, thread: str) -> dict[str, Any] | None:
    """The customer's waiting or active hand-off on ``thread``, if any."""
    t = _T["live_handoff"]
    query = select(t).where(t.c.person_id == person_id, t.c.thread == thread, t.c.status.in_(OPEN))
    return _row(conn.execute(query.order_by(t.c.id.desc()).limit(1)).first())


def get(conn: Connection, handoff_id: int) -> dict[str, Any] | None:
    """One hand-off by id."""
    t = _T["live_handoff"]
    return _row(conn.execute(select(t).where(t.c.id == handoff_id)).first())


def enqueue(
    conn: Connection,
    *,
    person_id: int,
    thread: str,
    reason: str,
    now: datetime,
    case_id: int | None = None,
    priority: int = 0,
) -> dict[str, Any]:
    """Put the customer's conversation in the queue; the one already open there if any."""
    found = current(conn, person_id=person_id, thread=thread)
    if found is not None:
        return found
    t = _T["live_handoff"]
    new_id = conn.execute(
        insert(t)
        .values(
            person_id=person_id,
            thread=check_text(thread, "thread", 100),
            case_id=case_id,
            reason=check_text(reason, "reason", 100),
            priority=priority,
            status="waiting",
            requested_at=now,
        )
        .returning(t.c.id)
    ).scalar_one()
    said(conn, new_id, author="system", kind="queued", text=f"Waiting for an advisor: {reason}")
    found = get(conn, new_id)
    assert found is not None
    return found


def queue(conn: Connection) -> list[dict[str, Any]]:
    """Waiting conversations, in the order advisors should take them (priority, then age)."""
    t, p = _T["live_handoff"], _T["person"]
    query = (
        select(t, p.c.first_name, p.c.last_name)
        .join(p, p.c.id == t.c.person_id)
        .where(t.c.status == "waiting")
        .order_by(t.c.priority.desc(), t.c.requested_at, t.c.id)
    )
    return [dict(r._mapping) for r in conn.execute(query)]


def places(conn: Connection) -> dict[int, dict[str, int]]:
    """``{hand-off id: {"position", "wait_seconds"}}`` for every waiting conversation.

    The position is the order advisors take them in (:func:`queue`); the wait is the position
    times the median time advisors took to claim the last conversations (``HANDLE_SECONDS``
    before any), shared among the advisors now holding one. One read serves every waiting
    customer, however many are told their place when the queue moves.
    """
    t = _T["live_handoff"]
    waiting = conn.execute(
        select(t.c.id)
        .where(t.c.status == "waiting")
        .order_by(t.c.priority.desc(), t.c.requested_at, t.c.id)
    ).scalars()
    timed = conn.execute(
        select(t.c.requested_at, t.c.claimed_at)
        .where(t.c.claimed_at.is_not(None))
        .order_by(t.c.claimed_at.desc())
        .limit(RECENT)
    ).all()
    waits = [(_aware(c) - _aware(r)).total_seconds() for r, c in timed]
    per_place = statistics.median(waits) if waits else HANDLE_SECONDS
    advisors = conn.execute(
        select(func.count(func.distinct(t.c.advisor_id))).where(t.c.status == "active")
    ).scalar_one()
    return {
        int(handoff_id): {
            "position": position,
            "wait_seconds": int(position * per_place / max(1, advisors)),
        }
        for position, handoff_id in enumerate(waiting, start=1)
    }


def place(conn: Connection, handoff_id: int) -> dict[str, int] | None:
    """The place and wait (:func:`places`) of one conversation; None once it is not waiting."""
    return places(conn).get(handoff_id)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def claim(conn: Connection, handoff_id: int, *, advisor_id: int, now: datetime) -> bool:
    """Take a waiting conversation for ``advisor_id``; False when another advisor was first."""
    t = _T["live_handoff"]
    taken = conn.execute(
        update(t)
        .where(and_(t.c.id == handoff_id, t.c.status == "waiting"))
        .values(status="active", advisor_id=advisor_id, claimed_at=now)
    ).rowcount
    if taken != 1:
        return False
    name = _advisor_name(conn, advisor_id)
    said(conn, handoff_id, author="system", kind="joined", text=f"{name} joined the chat")
    return True


def _advisor_name(conn: Connection, advisor_id: int) -> str:
    a = _T["advisor"]
    found = conn.execute(select(a.c.display_name).where(a.c.id == advisor_id)).scalar_one_or_none()
    return str(found or "An advisor")


def said(
    conn: Connection,
    handoff_id: int,
    *,
    author: str,
    text: str,
    kind: str = "text",
    advisor_id: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Record one line of the conversation; the stored row (with its id) is returned.

    The conversation's row is locked first (on SQLite, the database's write lock), so its
    lines commit in the order of their ids: a reader that has seen line ``n`` never misses a
    line below ``n`` committed later (PostgreSQL hands out ids at insert, not at commit).
    ``prev`` is the id of the conversation's line before this one (0 for the first), read
    under that lock, so a listener told of the line can send it straight on when ``prev`` is
    the last it sent, and reads the store for the lines between otherwise.
    """
    t = _T["live_handoff"]
    if conn.dialect.name == "sqlite":
        # a write that touches no row still takes the write lock and a fresh snapshot
        conn.execute(update(t).where(false()).values(id=t.c.id))
    else:
        conn.execute(select(t.c.id).where(t.c.id == handoff_id).with_for_update(key_share=True))
    m = _T["live_message"]
    prev = conn.execute(
        select(func.coalesce(func.max(m.c.id), 0)).where(m.c.handoff_id == handoff_id)
    ).scalar_one()
    values = {
        "handoff_id": handoff_id,
        "author": author,
        "advisor_id": advisor_id,
        "kind": kind,
        "text": check_text(text, "message", 2000),
        "at": now or datetime.now(UTC),
    }
    new_id = conn.execute(insert(m).values(**values).returning(m.c.id)).scalar_one()
    return {"id": new_id, "prev": int(prev), **values}


def say(
    conn: Connection, handoff_id: int, *, author: str, text: str, advisor_id: int | None = None
) -> dict[str, Any]:
    """A customer's or the holding advisor's message in an active conversation.

    Raises:
        Refused: the conversation is not active, or the advisor is not the one holding it.
    """
    found = get(conn, handoff_id)
    if found is None or found["status"] != "active":
        raise Refused("This conversation is not with an advisor now.")
    if author == "advisor" and found["advisor_id"] != advisor_id:
        raise Refused("Another advisor holds this conversation.")
    return said(conn, handoff_id, author=author, text=text, advisor_id=advisor_id)


def lines(conn: Connection, handoff_id: int, *, after: int = 0) -> list[dict[str, Any]]:
    """The conversation's lines after line ``after``, oldest first, with the advisor's name."""
    m, a = _T["live_message"], _T["advisor"]
    query = (
        select(m, a.c.display_name.label("advisor_name"))
        .outerjoin(a, a.c.id == m.c.advisor_id)
        .where(m.c.handoff_id == handoff_id, m.c.id > after)
        .order_by(m.c.id)
    )
    return [dict(r._mapping) for r in conn.execute(query)]


def end(
    conn: Connection,
    handoff_id: int,
    *,
    advisor_id: int,
    status: str,
    now: datetime,
    outcome: str | None = None,
) -> dict[str, Any]:
    """Hand the conversation back to the assistant (``returned``) or close it (``closed``).

    Raises:
        Refused: not the holding advisor, not active, or an unknown outcome.
    """
    if status == "closed" and outcome not in OUTCOMES:
        raise Refused(f"outcome must be one of {', '.join(OUTCOMES)}")
    t = _T["live_handoff"]
    done = conn.execute(
        update(t)
        .where(t.c.id == handoff_id, t.c.status == "active", t.c.advisor_id == advisor_id)
        .values(status=status, ended_at=now, outcome=outcome if status == "closed" else None)
    ).rowcount
    if done != 1:
        raise Refused("Only the advisor holding an active conversation can end it.")
    found = get(conn, handoff_id)
    assert found is not None
    if found["case_id"] is not None and status == "closed":
        c = _T["handoff_case"]
        conn.execute(update(c).where(c.c.id == found["case_id"]).values(status="closed"))
    text = "The assistant is back" if status == "returned" else f"Closed: {outcome}"
    line = said(conn, handoff_id, author="system", kind=status, text=text, now=now)
    return {**found, "line": line}


def leave(conn: Connection, handoff_id: int, *, person_id: int, text: str, now: datetime) -> None:
    """The customer leaves a message and goes: out of the queue, the case kept for an advisor.

    Raises:
        Refused: not the customer's waiting conversation.
    """
    t = _T["live_handoff"]
    done = conn.execute(
        update(t)
        .where(t.c.id == handoff_id, t.c.person_id == person_id, t.c.status == "waiting")
        .values(status="left", ended_at=now)
    ).rowcount
    if done != 1:
        raise Refused("There is no conversation waiting for an advisor to leave a message in.")
    said(conn, handoff_id, author="customer", kind="left", text=text, now=now)


def suggested(
    conn: Connection, handoff_id: int, items: list[tuple[str, str]], now: datetime
) -> list[int]:
    """Record what the assistant suggested to the advisor (kind, ref); their ids."""
    s = _T["assist_suggestion"]
    return [
        conn.execute(
            insert(s)
            .values(handoff_id=handoff_id, kind=kind, ref=ref[:200], used=False, at=now)
            .returning(s.c.id)
        ).scalar_one()
        for kind, ref in items
    ]


def used(conn: Connection, handoff_id: int, suggestion_id: int) -> bool:
    """Mark one suggestion of this conversation used; False when there is no such suggestion."""
    s = _T["assist_suggestion"]
    return (
        conn.execute(
            update(s).where(s.c.id == suggestion_id, s.c.handoff_id == handoff_id).values(used=True)
        ).rowcount
        == 1
    )


def stats(conn: Connection, *, conversations: int) -> dict[str, Any]:
    """Containment, hand-off rate, waits (p50/p95 seconds) and assist suggestions used.

    ``conversations``: how many chat conversations there were (the checkpointer knows).
    """
    t, s = _T["live_handoff"], _T["assist_suggestion"]
    handed = conn.execute(select(func.count()).select_from(t)).scalar_one()
    timed = conn.execute(
        select(t.c.requested_at, t.c.claimed_at).where(t.c.claimed_at.is_not(None))
    ).all()
    waits = sorted((_aware(c) - _aware(r)).total_seconds() for r, c in timed)
    offered, taken = conn.execute(
        select(func.count(), func.coalesce(func.sum(case((s.c.used, 1), else_=0)), 0)).select_from(
            s
        )
    ).one()
    waiting = conn.execute(
        select(func.count()).select_from(t).where(t.c.status == "waiting")
    ).scalar_one()
    total = max(conversations, handed)
    return {
        "conversations": total,
        "handed_off": handed,
        "handoff_rate": round(handed / total, 4) if total else 0.0,
        "containment": round(1 - handed / total, 4) if total else 1.0,
        "waiting": waiting,
        "wait_seconds_p50": _quantile(waits, 0.5),
        "wait_seconds_p95": _quantile(waits, 0.95),
        "assist_suggested": int(offered),
        "assist_used": int(taken),
    }


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return round(values[min(len(values) - 1, int(q * len(values)))], 1)
