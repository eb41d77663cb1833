"""``POST /api/events``: a batch of events onto the bus, all or nothing.

Each event is validated as ``services.events.Event`` (payload by type); one invalid event
refuses the whole batch with a 422 that names it by index, and nothing is published. A
customer's token may post only their own digital and profile events: transactions come from the
bank's systems, since a booked transaction moves a balance (``services.features.live``). An
advisor's token may post any event about any customer; those posts are audited.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, Field

from app.api.deps import UNREADABLE_BODY, CurrentPrincipal, EventBusDep, SessionDep
from app.api.queries import record_audit
from app.auth import Role
from services.events import Event
from services.features.live import refusals

router = APIRouter(prefix="/api", tags=["events"])
MAX_BATCH = 500
CUSTOMER_TYPES = frozenset({"digital", "profile"})


class EventBatch(BaseModel):
    """Up to 500 events, published together or not at all."""

    events: list[Event] = Field(min_length=1, max_length=MAX_BATCH)


class Accepted(BaseModel):
    """How many events were published; the live consumer applies them shortly after."""

    accepted: int


def _refuse(code: int, problems: list[dict[str, Any]]) -> HTTPException:
    detail = [
        {
            "loc": ["body", "events", p["index"]],
            "msg": p["msg"],
            "type": "value_error" if code == 422 else "forbidden",
            "id": p["id"],
        }
        for p in problems
    ]
    return HTTPException(status_code=code, detail=detail)


@router.post(
    "/events",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    responses={
        **UNREADABLE_BODY,
        401: {"description": "Missing, invalid or expired token."},
        403: {"description": "A customer posted an event about someone else, or a transaction."},
        422: {"description": "An invalid event; the batch was not published."},
    },
)
def post_events(
    body: EventBatch,
    principal: CurrentPrincipal,
    request: Request,
    session: SessionDep,
    bus: EventBusDep,
) -> Accepted:
    """Publish a batch of events to the bus (202: accepted, applied asynchronously)."""
    events = body.events
    if principal.role is Role.customer:
        forbidden = [
            {"index": i, "id": e.id, "msg": "customers may only post events about themselves"}
            for i, e in enumerate(events)
            if e.person_id != principal.person_id
        ] + [
            {"index": i, "id": e.id, "msg": f"customers may not post {e.type} events"}
            for i, e in enumerate(events)
            if e.person_id == principal.person_id and e.type not in CUSTOMER_TYPES
        ]
        if forbidden:
            raise _refuse(status.HTTP_403_FORBIDDEN, sorted(forbidden, key=lambda p: p["index"]))
    problems = refusals(session.connection(), events)
    if problems:
        raise _refuse(422, problems)
    published = bus.publish_many(events)
    if principal.role is Role.advisor:
        people = sorted({e.person_id for e in events})
        record_audit(
            session,
            actor=f"advisor:{principal.person_id}",
            action="post_events",
            resource="events",
            resource_id=",".join(map(str, people))[:100],
            outcome="success",
            origin=request.client.host if request.client else None,
            detail=f"{published} events",
        )
    return Accepted(accepted=published)
