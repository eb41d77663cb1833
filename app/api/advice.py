"""The signed-in customer's insights, notifications and next best actions, and their answers.

Answers to recommendations go through ``Recommender.respond``, the same path the chat's
``tools/feedback.py`` uses: a row in the offer log (which the learner replays) and an update of
the cached offer history, so a declined offer stays quiet through its cool-down at once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from app.api.deps import (
    CUSTOMER_ONLY,
    GONE,
    UNREADABLE_BODY,
    CurrentCustomer,
    RecommenderDep,
    SessionDep,
)
from app.api.queries import get_person
from app.api.views import (
    InsightView,
    NotificationView,
    RecommendationView,
    insight_view,
    recommendation_view,
)
from services.audit import append_audit
from services.insights import for_customer
from services.insights.detectors import insights_for
from services.money import locale_for
from services.recommendations.actions import Channel
from services.recommendations.notifications import due_notifications

router = APIRouter(prefix="/api/me", tags=["me"])
LEVEL = "predictive"
CHANNEL: Channel = "in_app_card"
# The API's words -> the offer log's: a snooze is the log's "dismissed" (its own cool-down).
RESPONSES = {
    "accepted": "accepted",
    "declined": "declined",
    "snoozed": "dismissed",
    "clicked": "clicked",
}
ON_FILE = {**CUSTOMER_ONLY, **GONE}


def _known(session: SessionDep, customer_id: int) -> str:
    """The customer's locale; 404 when the token's customer is gone."""
    person = get_person(session, person_id=customer_id)
    if person is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="customer not found")
    return locale_for(person.country)


@router.get("/insights", response_model=list[InsightView], responses=CUSTOMER_ONLY)
def my_insights(customer_id: CurrentCustomer, session: SessionDep) -> list[InsightView]:
    """What is worth knowing in the customer's accounts now, most severe first."""
    found = insights_for(session.connection(), person_id=customer_id, now=datetime.now(UTC))
    return [insight_view(i) for i in for_customer(found)]


@router.get("/notifications", response_model=list[NotificationView], responses=ON_FILE)
def my_notifications(
    customer_id: CurrentCustomer, session: SessionDep, recommender: RecommenderDep
) -> list[NotificationView]:
    """Insights the contact policy lets the bank push now (consent, caps, quiet hours)."""
    _known(session, customer_id)
    now = datetime.now(UTC)
    found = for_customer(insights_for(session.connection(), person_id=customer_id, now=now))
    due = due_notifications(
        found,
        vector=recommender.vector(customer_id, now=now),
        catalog=recommender.catalog,
        now=now,
    )
    return [
        NotificationView(**insight_view(n.insight).model_dump(), channel=n.channel) for n in due
    ]


@router.get("/recommendations", response_model=list[RecommendationView], responses=ON_FILE)
def my_recommendations(
    customer_id: CurrentCustomer, session: SessionDep, recommender: RecommenderDep
) -> list[RecommendationView]:
    """The customer's next best actions for the app, best first, each with why."""
    locale = _known(session, customer_id)
    now = datetime.now(UTC)
    found = recommender.decide(customer_id, now=now, level=LEVEL, k=3, channel=CHANNEL)
    insights = for_customer(insights_for(session.connection(), person_id=customer_id, now=now))
    return [recommendation_view(r, insights=insights, locale=locale) for r in found]


class OfferResponse(BaseModel):
    """The customer's answer to a recommendation."""

    response: Literal["accepted", "declined", "snoozed", "clicked"]
    option: str | None = Field(
        None,
        max_length=41,
        description="For an offer that gives a choice: the chosen option's code (accepts it).",
    )


class ResponseRecorded(BaseModel):
    """Where the answer was logged."""

    offer: str
    response: str
    option: str | None = None
    recorded_as: str = Field(description="The offer log's word for it.")
    offer_event_id: int


@router.post(
    "/recommendations/{offer}/response",
    response_model=ResponseRecorded,
    responses={
        **CUSTOMER_ONLY,
        **UNREADABLE_BODY,
        404: {"description": "No such offer in the catalogue, or the token's customer is gone."},
        422: {"description": "An option the offer does not give, or an option with a refusal."},
    },
)
def respond_to_recommendation(
    offer: str,
    body: OfferResponse,
    customer_id: CurrentCustomer,
    session: SessionDep,
    recommender: RecommenderDep,
) -> ResponseRecorded:
    """Record the customer's answer to an offer in the learning loop.

    An offer that gives a choice is accepted by choosing one of its options; the choice is kept
    in the audit log beside the offer log's row, for the team that carries it out.
    """
    if offer not in recommender.catalog:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="offer not found")
    _known(session, customer_id)
    if body.option is not None:
        variant = recommender.catalog[offer].variants.get(CHANNEL)
        choices = [o.code for o in variant.options] if variant is not None else []
        if body.option not in choices:
            raise HTTPException(
                status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
                detail=f"this offer's choices are: {', '.join(choices) or 'none'}",
            )
        if body.response != "accepted":
            raise HTTPException(
                status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
                detail="an option is chosen with the response 'accepted'",
            )
    logged = RESPONSES[body.response]
    now = datetime.now(UTC)
    conn = session.connection()
    row = recommender.respond(
        conn,
        person_id=customer_id,
        offer_code=offer,
        channel=CHANNEL,
        response=logged,
        at=now,
    )
    if body.option is not None:
        append_audit(
            conn,
            actor=f"customer:{customer_id}",
            action="offer_choice",
            resource="offer_event",
            resource_id=str(row),
            outcome="success",
            occurred_at=now,
            origin=CHANNEL,
            detail=f"{offer}:{body.option}",
        )
    session.commit()
    return ResponseRecorded(
        offer=offer,
        response=body.response,
        option=body.option,
        recorded_as=logged,
        offer_event_id=row,
    )
