"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.api.deps import EngineDep

router = APIRouter(tags=["health"])


@router.get("/health")
def health() -> dict[str, str]:
    """Liveness: 200 whenever the process is serving requests."""
    return {"status": "ok"}


@router.get(
    "/ready",
    responses={503: {"description": "The database does not answer."}},
)
def ready(engine: EngineDep) -> JSONResponse:
    """Readiness: 200 when the database answers ``SELECT 1``, else 503."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError):
        return JSONResponse(
            status_code=503, content={"status": "unavailable", "database": "unreachable"}
        )
    return JSONResponse(status_code=200, content={"status": "ok", "database": "ok"})
