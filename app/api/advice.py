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
from services.insights.detectors import insights_for
from services.recommendations.notifications import due_notifications

router = APIRouter(prefix="/api/me", tags=["me"])
LEVEL = "predictive"
CHANNEL = "in_app_card"
# The API's words -> the offer log's: a snooze is the log's "dismissed" (its own cool-down).
RESPONSES = {
    "accepted": "accepted",
    "declined": "declined",
    "snoozed": "dismissed",
    "clicked": "clicked",
}
ON_FILE = {**CUSTOMER_ONLY, **GONE}


def _known(session: SessionDep, customer_id: int) -> None:
    if get_person(session, person_id=customer_id) is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="customer not found")


@router.get("/insights", response_model=list[InsightView], responses=CUSTOMER_ONLY)
def my_insights(customer_id: CurrentCustomer, session: SessionDep) -> list[InsightView]:
    """What is worth knowing in the customer's accounts now, most severe first."""
    found = insights_for(session.connection(), person_id=customer_id, now=datetime.now(UTC))
    return [insight_view(i) for i in found]


@router.get("/notifications", response_model=list[NotificationView], responses=ON_FILE)
def my_notifications(
    customer_id: CurrentCustomer, session: SessionDep, recommender: RecommenderDep
) -> list[NotificationView]:
    """Insights the contact policy lets the bank push now (consent, caps, quiet hours)."""
    _known(session, customer_id)
    now = datetime.now(UTC)
    found = insights_for(session.connection(), person_id=customer_id, now=now)
    due = due_notifications(
        found,
        vector=recommender.vector(customer_id, now=now),
        catalog=recommender.catalog,
        now=now,
    )
    return [
        NotificationView(
            **insight_view(n.insight).model_dump(), channel=n.channel, reasons=list(n.reasons)
        )
        for n in due
    ]


@router.get("/recommendations", response_model=list[RecommendationView], responses=ON_FILE)
def my_recommendations(
    customer_id: CurrentCustomer, session: SessionDep, recommender: RecommenderDep
) -> list[RecommendationView]:
    """The customer's next best actions for the app, best first, each with why."""
    _known(session, customer_id)
    found = recommender.decide(
        customer_id, now=datetime.now(UTC), level=LEVEL, k=3, channel=CHANNEL
    )
    return [recommendation_view(r) for r in found]


class OfferResponse(BaseModel):
    """The customer's answer to a recommendation."""

    response: Literal["accepted", "declined", "snoozed", "clicked"]


class ResponseRecorded(BaseModel):
    """Where the answer was logged."""

    offer: str
    response: str
    recorded_as: str = Field(description="The offer log's word for it.")
    offer_event_id: int


@router.post(
    "/recommendations/{offer}/response",
    response_model=ResponseRecorded,
    responses={
        **CUSTOMER_ONLY,
        **UNREADABLE_BODY,
        404: {"description": "No such offer in the catalogue, or the token's customer is gone."},
    },
)
def respond_to_recommendation(
    offer: str,
    body: OfferResponse,
    customer_id: CurrentCustomer,
    session: SessionDep,
    recommender: RecommenderDep,
) -> ResponseRecorded:
    """Record the customer's answer to an offer in the learning loop."""
    if offer not in recommender.catalog:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="offer not found")
    _known(session, customer_id)
    logged = RESPONSES[body.response]
    row = recommender.respond(
        session.connection(),
        person_id=customer_id,
        offer_code=offer,
        channel=CHANNEL,
        response=logged,
        at=datetime.now(UTC),
    )
    session.commit()
    return ResponseRecorded(
        offer=offer, response=body.response, recorded_as=logged, offer_event_id=row
    )
