"""The offer log (``offer_event``): what was shown to whom, how they answered, and summaries.

One row per showing; ``response`` is ``ignored`` until the customer answers (the vocabulary of
the bank's history: accepted, clicked, declined, ignored) or ``dismissed`` when they swipe it
away. Data access is in small functions with keyword-only arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlmodel import SQLModel

from services.recommendations.signals import utc

_T = SQLModel.metadata.tables
RESPONSES = frozenset({"shown", "clicked", "accepted", "declined", "dismissed"})
PENDING = "ignored"  # shown, no answer (yet)
# Our channels -> the offer log's vocabulary (push, email, in_app, chat, branch).
LOG_CHANNEL = {
    "in_app_card": "in_app",
    "push": "push",
    "chat_line": "chat",
    "advisor_script": "branch",
}
LOOKBACK_DAYS = 400  # longer than any cool-down in the catalogue
ANSWER_WINDOW_DAYS = 30  # an answer belongs to a showing at most this old


@dataclass(slots=True)
class OfferStats:
    """How one action fared with one customer lately (times are Unix seconds)."""

    shown_30d: int = 0
    last_shown: int | None = None
    last_declined: int | None = None
    last_dismissed: int | None = None
    last_accepted: int | None = None


def offer_stats(conn: Connection, *, person_id: int, now: datetime) -> dict[str, OfferStats]:
    """Per action: showings in the last 30 days, and when last shown, declined, accepted."""
    table = _T["offer_event"]
    rows = conn.execute(
        select(table.c.offer_code, table.c.shown_at, table.c.response, table.c.responded_at).where(
            table.c.person_id == person_id,
            table.c.shown_at >= now - timedelta(days=LOOKBACK_DAYS),
            table.c.shown_at <= now,
        )
    ).all()
    month_ago = now - timedelta(days=30)
    out: dict[str, OfferStats] = {}
    for code, shown_raw, response, answered_raw in rows:
        shown = utc(shown_raw)
        assert shown is not None
        answered = utc(answered_raw) or shown
        if answered > now:  # an answer from the future of this clock has not happened yet
            response, answered = PENDING, shown
        stats = out.setdefault(code, OfferStats())
        stats.shown_30d += shown >= month_ago
        stats.last_shown = _later(stats.last_shown, shown)
        if response == "declined":
            stats.last_declined = _later(stats.last_declined, answered)
        elif response == "dismissed":
            stats.last_dismissed = _later(stats.last_dismissed, answered)
        elif response == "accepted":
            stats.last_accepted = _later(stats.last_accepted, answered)
    return out


def _later(current: int | None, moment: datetime) -> int:
    stamp = int(moment.timestamp())
    return stamp if current is None else max(current, stamp)


def record_shown(
    conn: Connection, *, person_id: int, offer_code: str, channel: str, at: datetime
) -> int:
    """Log that an action was shown; returns the new row's id."""
    table = _T["offer_event"]
    result = conn.execute(
        insert(table).values(
            person_id=person_id,
            offer_code=offer_code,
            channel=LOG_CHANNEL.get(channel, channel),
            shown_at=at,
            response=PENDING,
            responded_at=None,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def record_answer(
    conn: Connection,
    *,
    person_id: int,
    offer_code: str,
    channel: str,
    response: str,
    at: datetime,
) -> int:
    """Log the customer's answer on the latest open showing (or a new row); returns its id.

    Raises:
        ValueError: for a response outside ``RESPONSES``.
    """
    if response not in RESPONSES:
        raise ValueError(f"unknown response {response!r}; expected one of {sorted(RESPONSES)}")
    if response == "shown":
        return record_shown(
            conn, person_id=person_id, offer_code=offer_code, channel=channel, at=at
        )
    table = _T["offer_event"]
    open_row = conn.execute(
        select(table.c.id)
        .where(
            table.c.person_id == person_id,
            table.c.offer_code == offer_code,
            table.c.shown_at >= at - timedelta(days=ANSWER_WINDOW_DAYS),
            table.c.shown_at <= at,
            table.c.response.in_((PENDING, "clicked")),
        )
        .order_by(table.c.shown_at.desc(), table.c.id.desc())
        .limit(1)
    ).scalar()
    if open_row is None:
        open_row = record_shown(
            conn, person_id=person_id, offer_code=offer_code, channel=channel, at=at
        )
    conn.execute(
        update(table).where(table.c.id == open_row).values(response=response, responded_at=at)
    )
    return int(open_row)


def offer_rows(
    conn: Connection, *, since: datetime | None = None, until: datetime | None = None
) -> list[dict[str, Any]]:
    """Every logged showing (optionally within a time range), oldest first."""
    table = _T["offer_event"]
    query = select(
        table.c.person_id, table.c.offer_code, table.c.channel, table.c.shown_at, table.c.response
    ).order_by(table.c.shown_at, table.c.id)
    if since is not None:
        query = query.where(table.c.shown_at >= since)
    if until is not None:
        query = query.where(table.c.shown_at <= until)
    return [{**row._mapping, "shown_at": utc(row.shown_at)} for row in conn.execute(query).all()]
