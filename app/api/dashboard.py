"""``GET /api/me/dashboard``: the signed-in customer's home screen in one call.

Everything is read through the system of record, which the live event consumer books events
into (``services.features.live``), with the feature store's live figures laid over the profile: a
transaction event that was accepted shows in the recent transactions, this month's spending,
the insights and the widgets as soon as it is applied.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from app.api.advice import CHANNEL, LEVEL
from app.api.customers import AccountView, account_view
from app.api.deps import (
    CUSTOMER_ONLY,
    GONE,
    CurrentCustomer,
    FeatureStoreDep,
    RecommenderDep,
    SessionDep,
)
from app.api.queries import get_person, list_accounts
from app.api.views import (
    BillView,
    BusinessOutgoings,
    CategorySpend,
    GoalView,
    InsightView,
    RecommendationView,
    SpendingView,
    TransactionView,
    WidgetView,
    bill_view,
    decimal_text,
    goal_view,
    insight_view,
    recommendation_view,
    transaction_view,
    widget_view,
)
from services.insights import for_customer
from services.insights.detectors import insights_for
from services.money import locale_for, web_locale
from services.reads import records as queries
from services.reads.dashboard import arrange_dashboard
from services.reads.profiles import load_profile
from services.reads.statements import StatementFilter, transaction_page

router = APIRouter(prefix="/api/me", tags=["me"])
RECENT = 5
BILL_DAYS = 14


class DashboardView(BaseModel):
    """The personalised home screen: what the customer has, spent, owes soon and should know."""

    first_name: str
    locale: str = Field(description="How the customer's amounts are written, e.g. 'en-US'.")
    accounts: list[AccountView]
    recent_transactions: list[TransactionView]
    spending: SpendingView
    upcoming_bills: list[BillView] = Field(description=f"Due in the next {BILL_DAYS} days.")
    insights: list[InsightView]
    recommendations: list[RecommendationView]
    goals: list[GoalView]
    widgets: list[WidgetView] = Field(description="Tiles, most relevant first, with reasons.")


@router.get(
    "/dashboard",
    response_model=DashboardView,
    responses={**CUSTOMER_ONLY, **GONE},
)
def my_dashboard(
    customer_id: CurrentCustomer,
    session: SessionDep,
    recommender: RecommenderDep,
    store: FeatureStoreDep,
) -> DashboardView:
    """The signed-in customer's dashboard."""
    person = get_person(session, person_id=customer_id)
    if person is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="customer not found")
    now = datetime.now(UTC)
    today = now.date()
    conn = session.connection()
    accounts = list(list_accounts(session, person_id=customer_id))
    currency = next((a.currency for a in accounts if a.type == "checking"), "USD")
    live = store.features(customer_id, now) or {}
    profile = load_profile(conn, person_id=customer_id, now=now, live=live)
    found = for_customer(insights_for(conn, person_id=customer_id, now=now))
    locale = locale_for(person.country)
    recent, _ = transaction_page(
        conn, person_id=customer_id, filters=StatementFilter(), limit=RECENT
    )
    start = today.replace(day=1)
    spent = queries.spending_summary(conn, person_id=customer_id, start=start, end=today)
    mine = [c for c in spent["by_category"] if c["currency"] == currency]
    costs = [c for c in spent["business_outgoings"]["by_category"] if c["currency"] == currency]
    bills = queries.upcoming_bills(conn, person_id=customer_id, today=today, days=BILL_DAYS)
    goals = queries.goals(conn, person_id=customer_id)
    offers = recommender.decide(customer_id, now=now, level=LEVEL, k=3, channel=CHANNEL)
    widgets = arrange_dashboard(profile, found, [r.code for r in offers])
    return DashboardView(
        first_name=person.first_name,
        locale=web_locale(locale),
        accounts=[account_view(a) for a in accounts],
        recent_transactions=[transaction_view(r) for r in recent],
        spending=SpendingView(
            period="this month",
            start=start,
            end=today,
            currency=currency,
            total=decimal_text(sum(int(c["spent"]) for c in mine), currency),
            by_category=[
                CategorySpend(
                    category=c["category"], amount=decimal_text(int(c["spent"]), currency)
                )
                for c in mine
            ],
            business_outgoings=BusinessOutgoings(
                total=decimal_text(sum(int(c["spent"]) for c in costs), currency),
                by_category=[
                    CategorySpend(
                        category=c["category"], amount=decimal_text(int(c["spent"]), currency)
                    )
                    for c in costs
                ],
            )
            if costs
            else None,
        ),
        upcoming_bills=[bill_view(b) for b in bills],
        insights=[insight_view(i) for i in found],
        recommendations=[
            recommendation_view(r, insights=found, locale=locale, currency=currency) for r in offers
        ],
        goals=[goal_view(g) for g in goals],
        widgets=[widget_view(w, insights=found) for w in widgets],
    )
