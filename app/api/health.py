"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.api.deps import EngineDep
from app.warmup import FAILED, WARMING, WarmUp

router = APIRouter(tags=["health"])


@router.get("/health")
def health() -> dict[str, str]:
    """Liveness: 200 whenever the process is serving requests, warm or not."""
    return {"status": "ok"}


@router.get(
    "/ready",
    responses={
        503: {
            "description": "The database does not answer, or the warm start is still loading "
            "the parts named in `warming` (or could not load those in `failed`)."
        }
    },
)
def ready(request: Request, engine: EngineDep) -> JSONResponse:
    """Readiness: 200 when the database answers ``SELECT 1`` and every warm-start part is warm.

    With ``CONCIERGE_WARM_START`` on, the assistant's models and the knowledge index load in
    the background after start-up; until they have, a 503 names them (``warming``), so the
    first question a customer asks here is answered as fast as any later one.
    """
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError):
        return JSONResponse(
            status_code=503, content={"status": "unavailable", "database": "unreachable"}
        )
    warm_up: WarmUp | None = getattr(request.app.state, "warm_up", None)
    if warm_up is not None and not warm_up.ready:
        body: dict[str, Any] = {"status": "warming", "database": "ok"}
        body["warming"] = warm_up.parts_in(WARMING)
        failed = warm_up.parts_in(FAILED)
        if failed:
            body["failed"] = failed
            if not body["warming"]:
                body["status"] = "unavailable"
        return JSONResponse(status_code=503, content=body)
    return JSONResponse(status_code=200, content={"status": "ok", "database": "ok"})
