"""Sign-in: exchange a customer's username and password for a session token."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, Field

from app.api.deps import SessionDep, SettingsDep
from app.api.queries import record_audit
from app.auth import Role, issue_token
from services.credentials import authenticate

router = APIRouter(prefix="/api/auth", tags=["auth"])

# One message for an unknown user and a wrong password, so the reply never says which usernames
# exist.
BAD_CREDENTIALS = "invalid username or password"


class TokenRequest(BaseModel):
    """A customer's sign-in."""

    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1024)


class TokenResponse(BaseModel):
    """A session token and what it is for."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the token expires.")
    customer_id: int


@router.post(
    "/token",
    response_model=TokenResponse,
    responses={401: {"description": BAD_CREDENTIALS}},
)
def sign_in(
    body: TokenRequest, request: Request, session: SessionDep, settings: SettingsDep
) -> TokenResponse:
    """Sign a customer in and return a bearer token for the ``/api/me`` routes."""
    origin = request.client.host if request.client else None
    person_id = authenticate(session, username=body.username, password=body.password)
    if person_id is None:
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
    token = issue_token(
        person_id=person_id,
        role=Role.customer,
        key=request.app.state.secret_key,
        ttl=timedelta(minutes=settings.token_ttl_minutes),
    )
    record_audit(
        session,
        actor=f"customer:{person_id}",
        action="sign_in",
        resource="session",
        resource_id=str(person_id),
        outcome="success",
        origin=origin,
    )
    return TokenResponse(
        access_token=token, expires_in=settings.token_ttl_minutes * 60, customer_id=person_id
    )
