"""``/api/advisor/cases``: conversations the assistant handed to a human, newest first.

Advisors only; every access is audited (see ``app/api/advisor.py``).
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel

from app.api.advisor import DENIED, audit
from app.api.deps import CurrentAdvisor, RecordId, SessionDep
from services.reads.advisory import get_case, list_cases

router = APIRouter(prefix="/api/advisor", tags=["advisor"])


class CaseView(BaseModel):
    """A handoff case and the context it carries."""

    id: int
    customer_id: int
    customer_name: str
    reason: str
    summary: str
    status: str
    opened_at: datetime


def _view(row: dict[str, object]) -> CaseView:
    return CaseView.model_validate({**row, "customer_id": row["person_id"]})


@router.get("/cases", response_model=list[CaseView], responses=DENIED)
def open_cases(advisor_id: CurrentAdvisor, request: Request, session: SessionDep) -> list[CaseView]:
    """Open (and assigned) handoff cases, newest first."""
    rows = list_cases(session.connection(), open_only=True)
    audit(
        session,
        request,
        advisor_id=advisor_id,
        action="list_cases",
        resource="handoff_case",
        outcome="success",
        detail=f"{len(rows)} cases",
    )
    return [_view(r) for r in rows]


@router.get(
    "/cases/{case}",
    response_model=CaseView,
    responses={**DENIED, 404: {"description": "No such case."}},
)
def one_case(
    case: RecordId, advisor_id: CurrentAdvisor, request: Request, session: SessionDep
) -> CaseView:
    """One handoff case, whatever its status."""
    row = get_case(session.connection(), case_id=case)
    audit(
        session,
        request,
        advisor_id=advisor_id,
        action="view_case",
        resource="handoff_case",
        resource_id=str(case),
        outcome="success" if row else "failure",
    )
    if row is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="case not found")
    return _view(row)
