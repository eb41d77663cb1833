"""Dependencies for routes, as ``Annotated`` aliases.

``EngineDep`` and ``SessionDep`` reach the engine the lifespan built; ``CurrentCustomer`` is the
id of the customer a valid bearer token names, the only way a route learns whose data to show;
``CurrentAdvisor`` is the id of the advisor a valid advisor token names (a customer's token is
refused with 403, and the refusal is audited). ``RecommenderDep``, ``EventBusDep``,
``FeatureStoreDep`` and ``SaverDep`` reach what the lifespan built.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Request, WebSocket, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlmodel import Session

from app.api.queries import record_audit
from app.auth import Principal, Role, TokenError, read_token
from services.events import EventBus
from services.features.store import FeatureStore
from services.recommendations.recommender import Recommender
from services.settings import Settings

# Documented refusals of every customer route (``responses=`` of the route decorator), so the
# OpenAPI schema lists each status a route can answer with.
CUSTOMER_ONLY: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing, invalid or expired token."},
    403: {"description": "A valid token, but not a customer's."},
}
# Ids are signed 64-bit integers in SQLite and PostgreSQL alike; a larger number in a path or
# query would fail in the database driver (a 500) instead of finding nothing.
MAX_ID = 2**63 - 1
RecordId = Annotated[int, Path(ge=1, le=MAX_ID, description="A record's id.")]
# FastAPI answers a body that is not even text (not UTF-8) with 400, before validation's 422.
UNREADABLE_BODY: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body could not be read as JSON (e.g. not UTF-8)."}
}
GONE: dict[int | str, dict[str, Any]] = {
    404: {"description": "The token's customer is no longer on file (e.g. after a reseed)."}
}

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


def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Whoever the request's bearer token names, customer or advisor.

    Raises:
        HTTPException: 401 when the token is missing, malformed, wrongly signed or expired.
    """
    if credentials is None:
        raise _unauthorized("missing bearer token")
    try:
        return read_token(credentials.credentials, key=request.app.state.secret_key)
    except TokenError as exc:
        raise _unauthorized(f"invalid token: {exc}", error="invalid_token") from None


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def current_customer(principal: CurrentPrincipal) -> int:
    """The id of the customer the request's bearer token names.

    Raises:
        HTTPException: 401 when the token is missing, malformed, wrongly signed or expired;
            403 when it is valid but not a customer's.
    """
    if principal.role is not Role.customer:
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN, detail="this route is for customers only"
        )
    return principal.person_id


CurrentCustomer = Annotated[int, Depends(current_customer)]


def current_advisor(principal: CurrentPrincipal, request: Request, session: SessionDep) -> int:
    """The id of the advisor the request's bearer token names.

    Raises:
        HTTPException: 401 as for customers; 403 (audited as ``denied``) for a customer's token.
    """
    if principal.role is not Role.advisor:
        record_audit(
            session,
            actor=f"{principal.role.value}:{principal.person_id}",
            action="advisor_access",
            resource="advisor_api",
            resource_id=request.url.path[:100],
            outcome="denied",
            origin=request.client.host if request.client else None,
        )
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN, detail="this route is for advisors only"
        )
    return principal.person_id


CurrentAdvisor = Annotated[int, Depends(current_advisor)]


def _state(request: Request, name: str) -> Any:
    found = getattr(request.app.state, name, None)
    if found is None:
        raise HTTPException(
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE, detail=f"{name} is not running"
        )
    return found


def get_recommender(request: Request) -> Recommender:
    """The decision engine's cache the lifespan built (shared with the chat)."""
    recommender: Recommender = _state(request, "recommender")
    return recommender


def get_event_bus(request: Request) -> EventBus:
    """The event bus the lifespan built."""
    bus: EventBus = _state(request, "event_bus")
    return bus


def get_feature_store(request: Request) -> FeatureStore:
    """The feature store the live consumer keeps."""
    store: FeatureStore = _state(request, "feature_store")
    return store


def get_saver(request: Request) -> Any:
    """LangGraph's checkpointer, where conversations are kept."""
    return _state(request, "saver")


RecommenderDep = Annotated[Recommender, Depends(get_recommender)]
EventBusDep = Annotated[EventBus, Depends(get_event_bus)]
FeatureStoreDep = Annotated[FeatureStore, Depends(get_feature_store)]
SaverDep = Annotated[Any, Depends(get_saver)]


async def socket_principal(
    websocket: WebSocket, role: Role, *, error: str, refusal: str
) -> Principal | None:
    """Accept ``websocket`` and read its ``?token=``; None once a wrong one is refused.

    A token that is missing, invalid, expired or not ``role``'s gets one ``error`` frame
    (code ``unauthorized``; ``refusal`` says why for another role) and close code 4401.
    """
    await websocket.accept()
    try:
        principal = read_token(
            websocket.query_params.get("token", ""), key=websocket.app.state.secret_key
        )
        if principal.role != role:
            raise TokenError(refusal)
    except TokenError as exc:
        await websocket.send_json({"type": error, "code": "unauthorized", "message": str(exc)})
        await websocket.close(code=4401)
        return None
    return principal
