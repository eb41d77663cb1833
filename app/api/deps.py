"""Dependencies for routes, as ``Annotated`` aliases.

``EngineDep`` and ``SessionDep`` reach the engine the lifespan built; ``CurrentCustomer`` is the
id of the customer a valid bearer token names, the only way a route learns whose data to show.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlmodel import Session

from app.auth import Role, TokenError, read_token
from services.settings import Settings

_bearer = HTTPBearer(
    auto_error=False,
    description="A session token from `POST /api/auth/token`.",
)


def get_settings_from_app(request: Request) -> Settings:
    """The settings the app was built with."""
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    """The engine the lifespan stored on ``app.state``."""
    engine: Engine = request.app.state.engine
    return engine


SettingsDep = Annotated[Settings, Depends(get_settings_from_app)]
EngineDep = Annotated[Engine, Depends(get_engine)]


def get_session(engine: EngineDep) -> Iterator[Session]:
    """A database session for one request, closed when the response is sent."""
    with Session(engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def _unauthorized(message: str, *, error: str | None = None) -> HTTPException:
    # RFC 6750: say which scheme is expected and, for a bad token, that the token was the problem.
    header = f'Bearer error="{error}"' if error else "Bearer"
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=message,
        headers={"WWW-Authenticate": header},
    )


def current_customer(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> int:
    """The id of the customer the request's bearer token names.

    Raises:
        HTTPException: 401 when the token is missing, malformed, wrongly signed or expired;
            403 when it is valid but not a customer's.
    """
    if credentials is None:
        raise _unauthorized("missing bearer token")
    try:
        principal = read_token(credentials.credentials, key=request.app.state.secret_key)
    except TokenError as exc:
        raise _unauthorized(f"invalid token: {exc}", error="invalid_token") from None
    if principal.role is not Role.customer:
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN, detail="this route is for customers only"
        )
    return principal.person_id


CurrentCustomer = Annotated[int, Depends(current_customer)]
