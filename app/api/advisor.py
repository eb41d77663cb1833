"""``/api/advisor``: what a call-centre advisor needs before saying hello.

Only advisor tokens reach these routes (a customer's gets 403), and every access is written
to the audit log: who (``advisor:<id>``), what (action), which record, when, from where, and
whether it succeeded.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import BaseModel, Field

from app.api.conversations import messages_of, owner_of, threads_of, transcript
from app.api.deps import (
    MAX_ID,
    CurrentAdvisor,
    EngineDep,
    RecommenderDep,
    RecordId,
    SaverDep,
    SessionDep,
)
from app.api.live import live_conversations
from app.api.queries import record_audit
from services.reads.advisory import MAX_RESULTS, person_exists, search_customers

router = APIRouter(prefix="/api/advisor", tags=["advisor"])
SUMMARY_THREADS = 3  # the latest conversations the summary reads
DENIED: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing, invalid or expired token."},
    403: {"description": "Not an advisor's token."},
}


def audit(
    session: SessionDep,
    request: Request,
    *,
    advisor_id: int,
    action: str,
    resource: str,
    outcome: str,
    resource_id: str | None = None,
    detail: str | None = None,
) -> None:
    """Record one advisor access in the audit log."""
    record_audit(
        session,
        actor=f"advisor:{advisor_id}",
        action=action,
        resource=resource,
        resource_id=resource_id,
        outcome=outcome,
        origin=request.client.host if request.client else None,
        detail=detail,
    )


def _not_found(what: str) -> HTTPException:
    return HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=f"{what} not found")


class CustomerMatch(BaseModel):
    """A customer an advisor's search found."""

    id: int
    full_name: str
    email: str | None
    phone: str | None
    segment: str
    accounts_last4: list[str]


@router.get("/customers", response_model=list[CustomerMatch], responses=DENIED)
def find_customers(
    advisor_id: CurrentAdvisor,
    request: Request,
    session: SessionDep,
    q: Annotated[
        str,
        Query(min_length=1, max_length=100, description="Name, email, phone or account last4."),
    ],
) -> list[CustomerMatch]:
    """Search customers by name, email, phone or an account's last four digits (at most 20)."""
    found = search_customers(session.connection(), q=q, limit=MAX_RESULTS)
    audit(
        session,
        request,
        advisor_id=advisor_id,
        action="search_customers",
        resource="customer",
        outcome="success",
        detail=f"{len(found)} results",
    )
    return [CustomerMatch.model_validate(row) for row in found]


class FactView(BaseModel):
    """One statement of the summary and the record it came from."""

    section: str
    text: str
    source: str = Field(description="e.g. 'account:41', 'ledger:8812', 'conversation:<id>#3'.")
    details: list[str] = Field(
        default_factory=list, description="The exact codes behind the text (an offer's reasons)."
    )


class MoodView(BaseModel):
    """How the customer sounds in their conversations, and the risks heard in their words."""

    label: str = Field(description="distressed, negative, neutral or positive.")
    cues: list[str] = Field(description="The customer's words that set the label.")
    flags: list[str] = Field(description="Risks: fraud, vulnerability, distress.")


class SummaryView(BaseModel):
    """The advisor's context summary of one customer: the brief, then every fact with its source."""

    customer_id: int
    generated_at: datetime
    brief: list[str] = Field(
        description="A few plain sentences: who, why in touch, what was and was not done, "
        "risks and the next best step."
    )
    mood: MoodView
    text: str
    facts: list[FactView]
    talking_points: list[FactView]
    sources: list[str] = Field(description="Every record cited, in order of first mention.")


@router.get(
    "/customers/{customer}/summary",
    response_model=SummaryView,
    responses={**DENIED, 404: {"description": "No such customer."}},
)
def customer_summary(
    customer: RecordId,
    advisor_id: CurrentAdvisor,
    request: Request,
    session: SessionDep,
    engine: EngineDep,
    recommender: RecommenderDep,
    saver: SaverDep,
) -> SummaryView:
    """The brief first, then what the customer holds and what happened, each with its source.

    The brief says who the customer is, why they are in touch, what was and was not done, the
    risks heard in their words and the next best step.
    """
    from agents.summaries import build_summary
    from tools.bank import Bank

    now = datetime.now(UTC)
    conversations: dict[str, Any] = {}
    for thread in threads_of(saver, person_id=customer)[:SUMMARY_THREADS]:
        conversations[thread.thread_id] = messages_of(saver, thread_id=thread.thread_id) or []
    conversations |= live_conversations(session.connection(), person_id=customer)
    try:
        summary = build_summary(
            Bank(engine, recommender=recommender),
            person_id=customer,
            now=now,
            conversations=conversations,
        )
    except LookupError:
        audit(
            session,
            request,
            advisor_id=advisor_id,
            action="view_summary",
            resource="customer",
            resource_id=str(customer),
            outcome="failure",
            detail="no such customer",
        )
        raise _not_found("customer") from None
    audit(
        session,
        request,
        advisor_id=advisor_id,
        action="view_summary",
        resource="customer",
        resource_id=str(customer),
        outcome="success",
    )
    facts = [
        FactView(section=f.section, text=f.text, source=f.source, details=list(f.details))
        for f in summary.facts
    ]
    points = [
        FactView(section=f.section, text=f.text, source=f.source) for f in summary.talking_points
    ]
    mood = summary.mood
    return SummaryView(
        customer_id=customer,
        generated_at=now,
        brief=summary.brief,
        mood=MoodView(label=mood.label, cues=list(mood.cues), flags=list(mood.flags)),
        text=summary.text(),
        facts=facts,
        talking_points=points,
        sources=list(dict.fromkeys(f.source for f in [*facts, *points])),
    )


class ThreadView(BaseModel):
    """One of a customer's chat conversations."""

    thread_id: str = Field(description="The checkpointer's id: 'customer-<id>:<thread>'.")
    thread: str = Field(description="The id the customer's app used for it.")
    last_activity: datetime | None
    messages: int


@router.get(
    "/customers/{customer}/conversations",
    response_model=list[ThreadView],
    responses={**DENIED, 404: {"description": "No such customer."}},
)
def customer_conversations(
    customer: RecordId,
    advisor_id: CurrentAdvisor,
    request: Request,
    session: SessionDep,
    saver: SaverDep,
) -> list[ThreadView]:
    """The customer's chat conversations, most recently active first."""
    known = person_exists(session.connection(), person_id=customer)
    audit(
        session,
        request,
        advisor_id=advisor_id,
        action="list_conversations",
        resource="customer",
        resource_id=str(customer),
        outcome="success" if known else "failure",
    )
    if not known:
        raise _not_found("customer")
    return [
        ThreadView(
            thread_id=t.thread_id,
            thread=t.client_thread,
            last_activity=t.last_activity,
            messages=t.messages,
        )
        for t in threads_of(saver, person_id=customer)
    ]


class TranscriptLine(BaseModel):
    """One turn of a conversation."""

    index: int
    role: str = Field(description="customer, assistant or tool.")
    text: str
    tool_calls: list[str] | None = Field(default=None, description="Tools the assistant used.")
    tool: str | None = Field(default=None, description="The tool that answered.")


class TranscriptView(BaseModel):
    """A whole conversation and whose it is."""

    thread_id: str
    customer_id: int
    lines: list[TranscriptLine]


@router.get(
    "/conversations/{thread}/transcript",
    response_model=TranscriptView,
    responses={**DENIED, 404: {"description": "No such conversation (for that customer)."}},
)
def conversation_transcript(
    thread: str,
    advisor_id: CurrentAdvisor,
    request: Request,
    session: SessionDep,
    saver: SaverDep,
    customer: Annotated[
        int | None,
        Query(ge=1, le=MAX_ID, description="Only if the conversation is this customer's."),
    ] = None,
) -> TranscriptView:
    """The transcript of a customer's conversation (thread id as the conversations list gives)."""
    owner = owner_of(thread)
    messages = None
    if owner is not None and (customer is None or owner == customer):
        messages = messages_of(saver, thread_id=thread)
    audit(
        session,
        request,
        advisor_id=advisor_id,
        action="view_transcript",
        resource="conversation",
        resource_id=thread[:100],
        outcome="success" if messages is not None else "failure",
    )
    if messages is None or owner is None:
        raise _not_found("conversation")
    lines = [TranscriptLine.model_validate(line) for line in transcript(messages)]
    return TranscriptView(thread_id=thread, customer_id=owner, lines=lines)
