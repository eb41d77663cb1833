"""The signed-in customer's own data under ``/api/me``.

No route here takes a person id: whose data to show comes only from the bearer token.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from pydantic import Field

from app.api.deps import CUSTOMER_ONLY, GONE, CurrentCustomer, SessionDep
from app.api.queries import get_person, list_accounts
from app.api.views import GoalView, decimal_text, goal_view
from services.models import Account, AccountPublic, PersonPublic
from services.reads import records as queries

router = APIRouter(prefix="/api/me", tags=["me"])


class AccountView(AccountPublic):
    """An account as its owner sees it, with amounts as exact decimal strings."""

    balance: str = Field(description="Balance in the account's currency, e.g. '1234.50'.")
    overdraft_limit: str = Field(description="Arranged overdraft, e.g. '500.00'.")
    credit_limit: str | None = Field(
        default=None, description="Credit limit for cards and lines of credit, else null."
    )


def account_view(account: Account) -> AccountView:
    """Present an account with its amounts as decimal strings.

    Args:
        account: A stored account.
    """
    currency = account.currency
    return AccountView.model_validate(
        account,
        update={
            "balance": decimal_text(account.balance_minor, currency),
            "overdraft_limit": decimal_text(account.overdraft_limit_minor, currency),
            "credit_limit": (
                None
                if account.credit_limit_minor is None
                else decimal_text(account.credit_limit_minor, currency)
            ),
        },
    )


@router.get(
    "/profile",
    response_model=PersonPublic,
    responses={**CUSTOMER_ONLY, **GONE},
)
def my_profile(customer_id: CurrentCustomer, session: SessionDep) -> PersonPublic:
    """The signed-in customer's profile."""
    person = get_person(session, person_id=customer_id)
    if person is None:
        # A valid token for someone no longer on file (e.g. after a reseed).
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="customer not found")
    return PersonPublic.model_validate(person)


@router.get(
    "/accounts",
    response_model=list[AccountView],
    responses=CUSTOMER_ONLY,
)
def my_accounts(customer_id: CurrentCustomer, session: SessionDep) -> list[AccountView]:
    """The signed-in customer's accounts with their balances."""
    return [account_view(a) for a in list_accounts(session, person_id=customer_id)]


@router.get(
    "/goals",
    response_model=list[GoalView],
    responses=CUSTOMER_ONLY,
)
def my_goals(customer_id: CurrentCustomer, session: SessionDep) -> list[GoalView]:
    """The signed-in customer's savings goals and their progress."""
    return [goal_view(g) for g in queries.goals(session.connection(), person_id=customer_id)]
