"""Sign-in: exchange a customer's or an advisor's username and password for a session token."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, Field

from app.api.deps import UNREADABLE_BODY, SessionDep, SettingsDep
from app.api.queries import record_audit
from app.auth import Role, issue_token
from services.credentials import authenticate_any

router = APIRouter(prefix="/api/auth", tags=["auth"])

# One message for an unknown user and a wrong password, so the reply never says which usernames
# exist.
BAD_CREDENTIALS = "invalid username or password"


class TokenRequest(BaseModel):
    """A customer's or an advisor's sign-in."""

    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1024)


class TokenResponse(BaseModel):
    """A session token and what it is for."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the token expires.")
    role: Literal["customer", "advisor"]
    customer_id: int | None = Field(description="The customer's id; null for advisors.")
    advisor_id: int | None = Field(description="The advisor's id; null for customers.")


@router.post(
    "/token",
    response_model=TokenResponse,
    responses={**UNREADABLE_BODY, 401: {"description": BAD_CREDENTIALS}},
)
def sign_in(
    body: TokenRequest, request: Request, session: SessionDep, settings: SettingsDep
) -> TokenResponse:
    """Sign a customer (for ``/api/me``) or an advisor (for ``/api/advisor``) in."""
    origin = request.client.host if request.client else None
    found = authenticate_any(session, username=body.username, password=body.password)
    if found is None:
        record_audit(
            session,
            actor=body.username.strip().lower(),
            action="sign_in",
            resource="session",
            outcome="failure",
            origin=origin,
        )
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail=BAD_CREDENTIALS,
            headers={"WWW-Authenticate": "Bearer"},
        )
    role = Role(found.role)
    token = issue_token(
        person_id=found.id,
        role=role,
        key=request.app.state.secret_key,
        ttl=timedelta(minutes=settings.token_ttl_minutes),
    )
    record_audit(
        session,
        actor=f"{role.value}:{found.id}",
        action="sign_in",
        resource="session",
        resource_id=str(found.id),
        outcome="success",
        origin=origin,
    )
    return TokenResponse(
        access_token=token,
        expires_in=settings.token_ttl_minutes * 60,
        role=found.role,
        customer_id=found.id if role is Role.customer else None,
        advisor_id=found.id if role is Role.advisor else None,
    )
