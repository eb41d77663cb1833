"""A person in the same chat: the customer's side of a live hand-off and the advisor's routes.

Customer side (:class:`CustomerLink`, one per chat socket): when a run hands the conversation
to an advisor (the ``handoff`` tool, after the customer's approval), the conversation joins the
advisors' queue and the customer hears their place and an honest wait (``{"type": "CUSTOM",
"name": "handoff", "value": {"status": "waiting", "position", "waitSeconds"}}``);
they may keep asking the assistant, which still answers, or leave a message and go
(``{"type": "LEAVE_MESSAGE", "threadId", "text"}``). Once an advisor claims it the customer hears
who joined (``status: "active"``, ``advisor``) and their messages go to the advisor, not the
assistant; the advisor's arrive as ``{"type": "CUSTOM", "name": "advisor_message", "value":
{"id", "text", "advisor"}}``. A write the advisor proposes arrives as the same
``CONFIRMATION_REQUIRED`` card and runs only on the customer's ``CONFIRM``. When the advisor
hands the conversation back (``status: "returned"``) the assistant answers again. Outside the
bank's advisor hours the customer is told when advisors are next in and the case stays open
(``status: "closed_hours"``). ``{"type": "RESUME", "threadId", "after": <line id>}`` after a
reload restores the state and every line since ``after``.

Advisor side (``/api/advisor/live``, advisor tokens only, each action audited): the queue, an
exactly-once claim, the conversation (assistant transcript and live lines), replies, proposed
writes, assist (articles with passages, the next best action, a drafted reply; which were used
is recorded), hand back and close; ``/ws/advisor`` pushes the queue and the held conversations'
lines as they happen. Every line is stored (:mod:`services.handoffs`) before it is announced on
the hub (:mod:`app.live`), and a listener reads the store from the last line it delivered, so
nothing is lost or shown twice, whichever process each side is connected to.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request, WebSocket, WebSocketDisconnect, status
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlmodel import Session, SQLModel
from starlette.concurrency import run_in_threadpool

from app.api.conversations import messages_of, transcript
from app.api.deps import CurrentAdvisor, RecordId, socket_principal
from app.api.queries import record_audit
from app.auth import Role
from app.chat_threads import in_chat_thread
from app.live import QUEUE, LiveHub, Subscription, handoff_of, topic_of
from app.notify import inbox_topic
from services import handoffs
from services.audit import append_audit
from services.banking.rules import Refused

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/advisor/live", tags=["advisor"])
socket_router = APIRouter()
POLL_SECONDS = 5.0  # a listener also reads the store this often, should an announcement be lost
DENIED: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body could not be read as JSON."},
    401: {"description": "Missing, invalid or expired token."},
    403: {"description": "Not an advisor's token."},
    404: {"description": "No such conversation, suggestion or transaction."},
    409: {"description": "The conversation is not held by this advisor."},
    422: {"description": "A value out of range, or an action the bank refuses."},
}


def _thread_key(person_id: int, thread: str) -> str:
    return f"customer-{person_id}:{thread}"


def hub_of(app: Any) -> LiveHub:
    """The app's live hub (built in the lifespan)."""
    hub: LiveHub = app.state.live_hub
    return hub


def _tx(engine: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
    with engine.begin() as conn:
        return fn(conn, *args, **kwargs)


async def db(app: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(conn, *args, **kwargs)`` in one transaction, off the event loop."""
    return await run_in_threadpool(_tx, app.state.engine, fn, *args, **kwargs)


def line_view(line: dict[str, Any]) -> dict[str, Any]:
    """A stored line (as :func:`services.handoffs.lines` reads it) as the sockets send it."""
    at = line["at"]
    view = {
        "id": line["id"],
        "author": line["author"],
        "kind": line["kind"],
        "text": line["text"],
        "at": at.isoformat() if isinstance(at, datetime) else str(at),
    }
    if line.get("advisor_id") is not None:
        view["advisorId"] = line["advisor_id"]
        if line.get("advisor_name"):
            view["advisor"] = line["advisor_name"]
    return view


def _lines_with_names(conn: Any, handoff_id: int, after: int) -> list[dict[str, Any]]:
    return [line_view(r) for r in handoffs.lines(conn, handoff_id, after=after)]


async def announce(app: Any, handoff_id: int, line: dict[str, Any]) -> None:
    """Tell both ends that ``line`` was stored; the line travels with the announcement.

    With it goes ``prev``, the conversation's line before it (when the caller knows it): a
    listener that last sent ``prev`` sends this line on as it is, any other reads the store
    from its last line, so a line missed in between is never skipped.
    """
    event = {"event": "line", "id": line["id"], "prev": line.get("prev"), "line": line_view(line)}
    await hub_of(app).publish(topic_of(handoff_id), event)


def sent_straight(event: dict[str, Any], seen: int) -> dict[str, Any] | None:
    """The announced line when it follows the last one sent (``seen``) directly, else None."""
    line = event.get("line")
    return line if line is not None and event.get("prev") == seen else None


class SharedRead:
    """One read of the store shared by every caller asking at once.

    Each caller gets the result of a read that began after it asked, so it is never older than
    the announcement that prompted it; callers arriving during a read share the next one. A
    queue change heard by a hundred waiting customers on one process costs one read, not a
    hundred. The result is shared: callers must not change it.
    """

    def __init__(self, app: Any, fn: Any) -> None:
        """Reads ``fn(conn)`` in one transaction (:func:`db`)."""
        self.app, self.fn = app, fn
        self.pending: asyncio.Future[Any] | None = None
        self.task: asyncio.Task[None] | None = None

    async def get(self) -> Any:
        """A result read after this call began."""
        if self.pending is None:
            self.pending = asyncio.get_running_loop().create_future()
            self.pending.add_done_callback(lambda f: f.cancelled() or f.exception())
        asked = self.pending
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._run())
        return await asyncio.shield(asked)

    async def _run(self) -> None:
        while self.pending is not None:
            answer, self.pending = self.pending, None
            try:
                answer.set_result(await db(self.app, self.fn))
            except Exception as exc:  # noqa: BLE001 - handed to every caller of this read
                answer.set_exception(exc)


def shared_read(app: Any, fn: Any) -> SharedRead:
    """The process's :class:`SharedRead` of ``fn``."""
    reads = getattr(app.state, "shared_reads", None)
    if reads is None:
        reads = app.state.shared_reads = {}
    return reads.setdefault(fn, SharedRead(app, fn))


async def announce_queue(app: Any) -> None:
    """Tell advisors and waiting customers the queue changed."""
    await hub_of(app).publish(QUEUE, {"event": "queue"})


# --- the customer's side ------------------------------------------------------------------


def _age(born: date | None, today: date) -> int | None:
    if born is None:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _case_of(added: list[BaseMessage]) -> tuple[int | None, str] | None:
    """The case a run's ``handoff`` call opened, and its reason; None when none was opened."""
    reason = "customer asked for a person"
    for m in added:
        if isinstance(m, AIMessage):
            for call in m.tool_calls:
                if call["name"] == "handoff":
                    reason = str(call["args"].get("reason") or reason)[:100]
        if isinstance(m, ToolMessage) and m.name == "handoff":
            try:
                data = json.loads(str(m.content))
            except ValueError:
                continue
            if isinstance(data, dict) and data.get("status") == "done":
                case = (data.get("ids") or {}).get("case_id")
                return (int(case) if isinstance(case, int) else None), reason
    return None


def _enqueue(
    conn: Any, *, person_id: int, thread: str, case: int | None, reason: str, said: list[str]
) -> dict[str, Any]:
    now = datetime.now(UTC)
    p = SQLModel.metadata.tables["person"]
    born = conn.execute(select(p.c.date_of_birth).where(p.c.id == person_id)).scalar_one_or_none()
    priority = handoffs.priority_of(reason, said, age=_age(born, now.date()))
    row = handoffs.enqueue(
        conn,
        person_id=person_id,
        thread=thread,
        reason=reason,
        now=now,
        case_id=case,
        priority=priority,
    )
    return {"row": row, "place": handoffs.place(conn, row["id"])}


def _customer_says(conn: Any, *, person_id: int, thread: str, text: str) -> dict[str, Any] | None:
    """The customer's line, stored when an advisor holds ``thread`` (None when none does)."""
    found = handoffs.current(conn, person_id=person_id, thread=thread)
    if found is None or found["status"] != "active":
        return None
    return handoffs.say(conn, found["id"], author="customer", text=text)


class CustomerLink:
    """The live side of one customer's chat socket: the queue, the advisor, the lines."""

    def __init__(self, websocket: WebSocket, person_id: int) -> None:
        """Nothing heard yet; :meth:`watch` starts listening."""
        self.ws, self.person_id, self.app = websocket, person_id, websocket.app
        self.sub: Subscription | None = None
        self.task: asyncio.Task[None] | None = None
        self.threads: dict[int, str] = {}  # hand-off id -> the customer's thread id
        self.seen: dict[int, int] = {}  # hand-off id -> the last line id sent
        self.places: dict[int, dict[str, int] | None] = {}
        self.sending = asyncio.Lock()

    async def handle(self, frame: dict[str, Any]) -> bool:
        """Answer the frames that are the live side's; True when the assistant must not run."""
        kind, thread = frame["type"], frame["threadId"]
        if kind == "RESUME":
            await self.resume(thread, int(frame.get("after") or 0))
            return True
        if kind == "LEAVE_MESSAGE":
            await self.leave(thread, frame["text"])
            return True
        if kind != "USER_MESSAGE":
            return False
        line = await db(
            self.app, _customer_says, person_id=self.person_id, thread=thread, text=frame["text"]
        )
        if line is None:
            return False
        handoff_id = line["handoff_id"]
        await self.watch(handoff_id, thread)
        # sent in order with any line stored before it and not yet sent (an advisor's, say)
        heard = {"id": line["id"], "prev": line["prev"], "line": line_view(line)}
        await self.take(handoff_id, heard)
        await announce(self.app, handoff_id, line)
        return True

    async def after_run(self, thread: str, added: list[BaseMessage]) -> None:
        """Queue the conversation when the run handed it to an advisor (or tell the hours)."""
        opened = _case_of(added)
        if opened is None:
            return
        case, reason = opened
        settings = self.app.state.settings
        hours = handoffs.Hours.parse(settings.advisor_hours, settings.bank_timezone)
        now = datetime.now(UTC)
        if not hours.open_at(now):
            opens = hours.next_opening(now)
            value = {
                "status": "closed_hours",
                "hours": hours.describe(),
                "opens": opens.isoformat() if opens else None,
                "case": case,
                "text": f"Our advisors chat {hours.describe()}; they're not in now. Your case "
                f"#{case} stays open and an advisor will pick it up when they're back.",
            }
            await self._send_status(thread, value)
            return
        said = [str(m.content) for m in added if getattr(m, "type", "") == "human"]
        found = await db(
            self.app,
            _enqueue,
            person_id=self.person_id,
            thread=thread,
            case=case,
            reason=reason,
            said=said,
        )
        await announce_queue(self.app)
        await self.watch(found["row"]["id"], thread)
        await self._tell_place(found["row"]["id"], found["place"])

    async def resume(self, thread: str, after: int) -> None:
        """After a reload: the conversation's live state and every line since ``after``."""
        found = await db(self.app, handoffs.current, person_id=self.person_id, thread=thread)
        if found is None:
            await self._send_status(thread, {"status": "none"})
            return
        handoff_id = found["id"]
        self.seen[handoff_id] = after
        await self.watch(handoff_id, thread)
        if found["status"] == "waiting":
            place = await db(self.app, handoffs.place, handoff_id)
            await self._tell_place(handoff_id, place)
        await self.catch_up(handoff_id)

    async def leave(self, thread: str, text: str) -> None:
        """The customer leaves a message for the advisor and goes; the case keeps it."""
        found = await db(self.app, handoffs.current, person_id=self.person_id, thread=thread)
        if found is None or found["status"] != "waiting":
            raise Refused("There is no conversation waiting for an advisor to leave a message in.")
        await db(
            self.app,
            handoffs.leave,
            found["id"],
            person_id=self.person_id,
            text=text,
            now=datetime.now(UTC),
        )
        await announce_queue(self.app)
        value = {
            "status": "left",
            "text": "Thanks — your message is with the case, and an advisor will get back to you.",
        }
        await self._no_longer_waiting(found["id"])
        await self._send_status(thread, value)

    def _listening(self) -> Subscription:
        if self.sub is None:
            self.sub = hub_of(self.app).subscribe()
            self.task = asyncio.create_task(self._forward())
        return self.sub

    async def hear_inbox(self) -> None:
        """Show new in-app notifications on this page as they are sent (a toast).

        Without the hub (Redis unreachable) the page goes without toasts; the inbox still
        holds every notification, and the chat is not held up.
        """
        try:
            await self._listening().listen(inbox_topic(self.person_id))
        except Exception:  # noqa: BLE001 - toasts are a convenience, the chat is not
            log.warning("new notifications will not show as toasts on this page", exc_info=True)

    async def watch(self, handoff_id: int, thread: str) -> None:
        """Hear the hand-off's lines from now on (and the queue while it waits: `_tell_place`)."""
        sub = self._listening()
        if handoff_id not in self.threads:
            self.threads[handoff_id] = thread
            self.seen.setdefault(handoff_id, 0)
            await sub.listen(topic_of(handoff_id))

    async def close(self) -> None:
        """Stop listening (the socket closed)."""
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
        if self.sub is not None:
            await self.sub.close()

    async def _forward(self) -> None:
        assert self.sub is not None
        idle = 0.0
        while True:
            event = await self.sub.next(1.0)
            if event is None:
                idle += 1.0
                if idle >= POLL_SECONDS:  # an announcement may have been lost: read the store
                    idle = 0.0
                    for handoff_id in list(self.threads):
                        await self.catch_up(handoff_id)
                continue
            try:
                await self._hear(event)
            except (WebSocketDisconnect, RuntimeError):
                return
            except Exception:  # noqa: BLE001 - one bad event must not end the conversation
                log.exception("could not forward a live event to the customer")

    async def _hear(self, event: dict[str, Any]) -> None:
        if event["topic"] == inbox_topic(self.person_id):
            frame = {"type": "CUSTOM", "name": "notification", "value": event["value"]}
            await self.ws.send_json(frame)
            return
        if event["topic"] == QUEUE:
            if not self.places:
                return
            places = await shared_read(self.app, handoffs.places).get()
            for handoff_id in list(self.places):
                place = places.get(handoff_id)
                if place is not None and place != self.places.get(handoff_id):
                    await self._tell_place(handoff_id, place)
            return
        handoff_id = handoff_of(event["topic"])
        if event.get("event") == "confirmation":
            await self.ws.send_json(
                {
                    "type": "CONFIRMATION_REQUIRED",
                    "threadId": self.threads.get(handoff_id, ""),
                    "runId": uuid.uuid4().hex,
                    "calls": event["calls"],
                    "text": event["text"],
                    "proposedBy": "advisor",
                }
            )
            return
        await self.take(handoff_id, event)

    async def take(self, handoff_id: int, event: dict[str, Any]) -> None:
        """Send an announced line; one already sent is not sent again.

        The line goes as it came when it follows the last one sent, else the store is read from
        the last one sent (:meth:`catch_up`), so a line missed in between goes first.
        """
        async with self.sending:
            seen = self.seen.get(handoff_id, 0)
            if event.get("id") is not None and event["id"] <= seen:
                return
            line = sent_straight(event, seen)
            if line is not None:
                self.seen[handoff_id] = line["id"]
                await self._deliver(handoff_id, line)
                return
        await self.catch_up(handoff_id)

    async def catch_up(self, handoff_id: int) -> None:
        """Send every line of the hand-off the customer has not been sent yet."""
        async with self.sending:  # one reader at a time, so lines go out once and in order
            after = self.seen.get(handoff_id, 0)
            for line in await db(self.app, _lines_with_names, handoff_id, after):
                if line["id"] <= self.seen.get(handoff_id, 0):
                    continue
                self.seen[handoff_id] = line["id"]
                await self._deliver(handoff_id, line)

    async def _deliver(self, handoff_id: int, line: dict[str, Any]) -> None:
        thread = self.threads.get(handoff_id, "")
        kind = line["kind"]
        if kind == "joined":
            name = line["text"].removesuffix(" joined the chat")
            value = {"status": "active", "advisor": name, "text": line["text"]}
            await self._no_longer_waiting(handoff_id)
            await self._send_status(thread, value, line_id=line["id"])
        elif kind in ("returned", "closed"):
            text = (
                "You're back with the assistant. Ask me anything."
                if kind == "returned"
                else "The advisor closed the conversation. Anything else, just ask."
            )
            await self._send_status(thread, {"status": kind, "text": text}, line_id=line["id"])
            self.threads.pop(handoff_id, None)
            if self.sub is not None:
                await self.sub.forget(topic_of(handoff_id))
        elif line["author"] == "advisor":
            await self.ws.send_json(
                {
                    "type": "CUSTOM",
                    "name": "advisor_message",
                    "threadId": thread,
                    "value": {
                        "id": line["id"],
                        "text": line["text"],
                        "advisor": line.get("advisor", "Advisor"),
                    },
                }
            )
        elif line["author"] == "customer" or kind == "result":
            await self._send_line(handoff_id, line)

    async def _send_line(self, handoff_id: int, line: dict[str, Any]) -> None:
        thread = self.threads.get(handoff_id, "")
        await self.ws.send_json(
            {"type": "CUSTOM", "name": "handoff_line", "threadId": thread, "value": line}
        )

    async def _no_longer_waiting(self, handoff_id: int) -> None:
        self.places.pop(handoff_id, None)
        if not self.places and self.sub is not None:
            await self.sub.forget(QUEUE)  # the queue's changes concern this socket no more

    async def _tell_place(self, handoff_id: int, place: dict[str, int] | None) -> None:
        if place is None:
            await self._no_longer_waiting(handoff_id)
            return
        self.places[handoff_id] = place
        if self.sub is not None:
            await self.sub.listen(QUEUE)  # each change of the queue may move it up
        minutes = max(1, round(place["wait_seconds"] / 60))
        value = {
            "status": "waiting",
            "handoffId": handoff_id,
            "position": place["position"],
            "waitSeconds": place["wait_seconds"],
            "text": f"You're number {place['position']} in the queue for an advisor — about "
            f"{minutes} minute{'s' if minutes != 1 else ''}. I can still help meanwhile, or "
            "you can leave a message and go.",
        }
        await self._send_status(self.threads.get(handoff_id, ""), value)

    async def _send_status(
        self, thread: str, value: dict[str, Any], *, line_id: int | None = None
    ) -> None:
        if line_id is not None:
            value = {**value, "lineId": line_id}
        await self.ws.send_json(
            {"type": "CUSTOM", "name": "handoff", "threadId": thread, "value": value}
        )


async def tell_result(app: Any, person_id: int, thread: str, added: list[BaseMessage]) -> None:
    """While an advisor holds the conversation, store what an approved action did for them."""
    found = await db(app, handoffs.current, person_id=person_id, thread=thread)
    if found is None or found["status"] != "active":
        return
    texts = [str(m.content) for m in added if isinstance(m, AIMessage) and m.content]
    results = [m for m in added if isinstance(m, ToolMessage)]
    if not results or not texts:
        return
    line = await db(
        app, handoffs.said, found["id"], author="system", kind="result", text=texts[-1][:2000]
    )
    await announce(app, found["id"], line)


def live_conversations(conn: Any, *, person_id: int, latest: int = 2) -> dict[str, list[Any]]:
    """The customer's latest live conversations as messages: theirs, and the advisors'."""
    from langchain_core.messages import HumanMessage

    t = SQLModel.metadata.tables["live_handoff"]
    ids = conn.execute(
        select(t.c.id).where(t.c.person_id == person_id).order_by(t.c.id.desc()).limit(latest)
    ).scalars()
    out: dict[str, list[Any]] = {}
    for handoff_id in ids:
        messages: list[Any] = []
        for line in _lines_with_names(conn, handoff_id, 0):
            if line["kind"] != "text":
                continue
            if line["author"] == "customer":
                messages.append(HumanMessage(line["text"]))
            elif line["author"] == "advisor":
                who = {"advisor": line.get("advisor", "Advisor")}
                messages.append(AIMessage(line["text"], name="advisor", additional_kwargs=who))
        if messages:
            out[f"live-{handoff_id}"] = messages
    return out


# --- the advisor's side -------------------------------------------------------------------


def _audit(
    engine: Any,
    request: Request,
    advisor_id: int,
    action: str,
    handoff_id: int,
    outcome: str,
    detail: str | None = None,
) -> None:
    with Session(engine) as session:
        record_audit(
            session,
            actor=f"advisor:{advisor_id}",
            action=action,
            resource="live_handoff",
            resource_id=str(handoff_id),
            outcome=outcome,
            origin=request.client.host if request.client else None,
            detail=detail,
        )


async def audited(
    request: Request, advisor_id: int, action: str, handoff_id: int, outcome: str, **kw: Any
) -> None:
    """Write one advisor action on a hand-off to the audit log."""
    await run_in_threadpool(
        _audit, request.app.state.engine, request, advisor_id, action, handoff_id, outcome, **kw
    )


class QueueItem(BaseModel):
    """A conversation waiting for an advisor."""

    id: int
    customer_id: int
    customer: str = Field(description="First name and last initial.")
    reason: str
    priority: int = Field(description="2 suspected fraud, 1 may need more care, 0 otherwise.")
    waiting_seconds: int
    requested_at: datetime


def _queue_view(conn: Any) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    out = []
    for r in handoffs.queue(conn):
        requested = handoffs._aware(r["requested_at"])
        out.append(
            {
                "id": r["id"],
                "customer_id": r["person_id"],
                "customer": f"{r['first_name']} {r['last_name'][:1]}.",
                "reason": r["reason"],
                "priority": r["priority"],
                "waiting_seconds": int((now - requested).total_seconds()),
                "requested_at": requested,
            }
        )
    return out


def _queue_frame(conn: Any) -> list[dict[str, Any]]:
    """The queue as ``/ws/advisor`` sends it (JSON-ready)."""
    return [
        {**item, "requested_at": item["requested_at"].isoformat()} for item in _queue_view(conn)
    ]


class LiveStats(BaseModel):
    """The live hand-off's figures over every conversation."""

    conversations: int
    handed_off: int
    handoff_rate: float
    containment: float = Field(description="Share of conversations finished without a person.")
    waiting: int
    wait_seconds_p50: float | None
    wait_seconds_p95: float | None
    assist_suggested: int
    assist_used: int


class LineView(BaseModel):
    """One stored line of a live conversation."""

    id: int
    author: str = Field(description="customer, advisor or system.")
    kind: str
    text: str
    at: str
    advisorId: int | None = None  # noqa: N815 - the sockets' spelling
    advisor: str | None = None


class ShownAction(BaseModel):
    """The confirmation card the customer now sees for a proposed write."""

    calls: list[dict[str, Any]]
    text: str


class Suggested(BaseModel):
    """What the assistant suggests for the customer's latest message."""

    message: str
    articles: list[dict[str, Any]]
    next_best_action: dict[str, Any] | None
    draft: dict[str, Any]


class Used(BaseModel):
    """A suggestion marked used."""

    used: int


@router.get("/queue", response_model=list[QueueItem], responses=DENIED)
async def live_queue(advisor_id: CurrentAdvisor, request: Request) -> list[dict[str, Any]]:
    """Conversations waiting for an advisor, the most urgent first, then the longest waiting."""
    await audited(request, advisor_id, "view_queue", 0, "success")
    return list(await db(request.app, _queue_view))


def live_stats(app: Any) -> dict[str, Any]:
    """Containment, hand-off rate, waits and assist use over every conversation."""
    from app.api.conversations import threads_count

    conversations = threads_count(app.state.saver)
    with app.state.engine.begin() as conn:
        return handoffs.stats(conn, conversations=conversations)


@router.get("/stats", response_model=LiveStats, responses=DENIED)
async def stats(advisor_id: CurrentAdvisor, request: Request) -> dict[str, Any]:
    """Containment, hand-off rate, waits and assist use.

    Containment is the share of conversations finished without a person; waits are p50/p95
    seconds from asking to being claimed; assist counts suggestions offered and used.
    """
    await audited(request, advisor_id, "view_live_stats", 0, "success")
    return dict(await run_in_threadpool(live_stats, request.app))


class HandoffView(BaseModel):
    """A live conversation: who, why, its state, and its lines."""

    id: int
    customer_id: int
    thread: str
    reason: str
    priority: int
    status: str
    advisor_id: int | None
    requested_at: datetime
    claimed_at: datetime | None
    lines: list[dict[str, Any]] = Field(default_factory=list)
    transcript: list[dict[str, Any]] = Field(
        default_factory=list, description="The conversation with the assistant so far."
    )


def _view(row: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "customer_id": row["person_id"],
        "thread": row["thread"],
        "reason": row["reason"],
        "priority": row["priority"],
        "status": row["status"],
        "advisor_id": row["advisor_id"],
        "requested_at": row["requested_at"],
        "claimed_at": row["claimed_at"],
        **extra,
    }


def _claim(conn: Any, handoff_id: int, advisor_id: int) -> dict[str, Any] | None:
    if not handoffs.claim(conn, handoff_id, advisor_id=advisor_id, now=datetime.now(UTC)):
        return None
    return handoffs.get(conn, handoff_id)


@router.post(
    "/{handoff}/claim",
    response_model=HandoffView,
    responses={**DENIED, 409: {"description": "Another advisor claimed it first, or it ended."}},
)
async def claim_conversation(
    handoff: RecordId, advisor_id: CurrentAdvisor, request: Request
) -> dict[str, Any]:
    """Take a waiting conversation; of advisors claiming at once, exactly one gets it."""
    row = await db(request.app, _claim, handoff, advisor_id)
    await audited(
        request, advisor_id, "claim_conversation", handoff, "success" if row else "failure"
    )
    if row is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "already claimed, or no longer waiting")
    await announce_queue(request.app)
    lines = await db(request.app, handoffs.lines, handoff, after=0)
    await announce(request.app, handoff, lines[-1])
    return _view(row)


async def held(request: Request, handoff: int, advisor_id: int, action: str) -> dict[str, Any]:
    """The hand-off, when ``advisor_id`` holds it (active); else 404/409, audited as ``action``."""
    row = await db(request.app, handoffs.get, handoff)
    if row is None or row["status"] != "active" or row["advisor_id"] != advisor_id:
        why = "not found" if row is None else "not held"
        await audited(request, advisor_id, action, handoff, "failure", detail=why)
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "conversation not found")
        raise HTTPException(status.HTTP_409_CONFLICT, "you do not hold this conversation")
    return dict(row)


@router.get(
    "/{handoff}",
    response_model=HandoffView,
    responses={**DENIED, 404: {"description": "No such conversation."}},
)
async def one_conversation(
    handoff: RecordId, advisor_id: CurrentAdvisor, request: Request
) -> dict[str, Any]:
    """The conversation: its state, the assistant transcript so far and the live lines."""
    row = await db(request.app, handoffs.get, handoff)
    await audited(request, advisor_id, "view_live", handoff, "success" if row else "failure")
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "conversation not found")
    saver = request.app.state.saver
    messages = await run_in_threadpool(
        messages_of, saver, thread_id=_thread_key(row["person_id"], row["thread"])
    )
    lines = await db(request.app, _lines_with_names, handoff, 0)
    return _view(row, lines=lines, transcript=transcript(messages or []))


class Say(BaseModel):
    """What the advisor writes to the customer."""

    text: str = Field(min_length=1, max_length=2000)


@router.post(
    "/{handoff}/messages",
    response_model=LineView,
    responses={**DENIED, 409: {"description": "Not held by this advisor."}},
)
async def advisor_says(
    handoff: RecordId, body: Say, advisor_id: CurrentAdvisor, request: Request
) -> dict[str, Any]:
    """Send a message to the customer; stored and audited in one transaction, then delivered."""
    origin = request.client.host if request.client else None
    said = await db(request.app, _advisor_says, handoff, advisor_id, body.text, origin)
    if said["refused"] == "not found":
        raise HTTPException(status.HTTP_404_NOT_FOUND, "conversation not found")
    if said["refused"] == "not held":
        raise HTTPException(status.HTTP_409_CONFLICT, "you do not hold this conversation")
    if said["refused"]:
        raise HTTPException(status.HTTP_409_CONFLICT, said["refused"])
    await announce(request.app, handoff, said["line"])
    return line_view(said["line"])


def _advisor_says(
    conn: Any, handoff_id: int, advisor_id: int, text: str, origin: str | None
) -> dict[str, Any]:
    """The advisor's line stored with its audit row, or the refusal audited (``refused``)."""
    row = handoffs.get(conn, handoff_id)
    refused: str | None = None
    if row is None:
        refused = "not found"
    elif row["status"] != "active" or row["advisor_id"] != advisor_id:
        refused = "not held"
    line = None
    if refused is None:
        try:
            line = handoffs.say(
                conn, handoff_id, author="advisor", text=text, advisor_id=advisor_id
            )
        except Refused as exc:
            refused = str(exc)
    a = SQLModel.metadata.tables["advisor"]
    if line is not None:
        name = conn.execute(select(a.c.display_name).where(a.c.id == advisor_id)).scalar()
        line["advisor_name"] = name
    append_audit(
        conn,
        actor=f"advisor:{advisor_id}",
        action="send_message",
        resource="live_handoff",
        resource_id=str(handoff_id),
        outcome="failure" if refused else "success",
        origin=origin,
        detail=refused,
    )
    return {"line": line, "refused": refused}


class Proposal(BaseModel):
    """A write the advisor proposes: the tool and its arguments, as the assistant would."""

    tool: str = Field(min_length=1, max_length=60)
    args: dict[str, Any] = Field(default_factory=dict)


def _propose(app: Any, row: dict[str, Any], advisor_id: int, body: Proposal) -> dict[str, Any]:
    from tools.write import WRITE_TOOLS

    names = {t.name for t in WRITE_TOOLS}
    if body.tool not in names:
        raise HTTPException(
            422,
            f"tool must be one of the writes: {', '.join(sorted(names))}",
        )
    from app.warmup import assistant_once

    assistant = assistant_once(app)
    config = {"configurable": {"thread_id": _thread_key(row["person_id"], row["thread"])}}
    state = assistant.graph.get_state(config)
    if state.next and getattr(state, "interrupts", ()):
        raise HTTPException(status.HTTP_409_CONFLICT, "an action already waits for the customer")
    call = {
        "name": body.tool,
        "args": body.args,
        "id": f"advisor-{advisor_id}-{uuid.uuid4().hex[:12]}",
        "type": "tool_call",
    }
    proposal = AIMessage(
        content="", tool_calls=[call], additional_kwargs={"proposed_by": f"advisor:{advisor_id}"}
    )
    assistant.graph.update_state(config, {"messages": [proposal]}, as_node="agent")
    try:
        result = assistant.run(config["configurable"]["thread_id"], row["person_id"], None)
    except Exception as exc:  # noqa: BLE001 - the proposal is withdrawn; the advisor hears why
        log.warning("an advisor's proposal could not be described", exc_info=True)
        raise HTTPException(422, f"the action cannot be proposed: {exc}") from None
    interrupts = result.get("__interrupt__") or []
    if not interrupts:
        raise HTTPException(422, "the action was not proposed")
    ask = interrupts[0].value
    return {"calls": ask["calls"], "text": ask["text"]}


@router.post(
    "/{handoff}/propose",
    response_model=ShownAction,
    responses={
        **DENIED,
        409: {"description": "Not held by this advisor, or an action already waits."},
        422: {"description": "Not a write, or arguments the action cannot take."},
    },
)
async def propose_action(
    handoff: RecordId, body: Proposal, advisor_id: CurrentAdvisor, request: Request
) -> dict[str, Any]:
    """Propose a write; the customer sees the confirmation card and it runs only on their yes."""
    row = await held(request, handoff, advisor_id, "propose_action")
    try:
        shown = await in_chat_thread(request.app, _propose, request.app, row, advisor_id, body)
    except HTTPException as exc:
        await audited(
            request, advisor_id, "propose_action", handoff, "failure", detail=str(exc.detail)[:200]
        )
        raise
    await audited(request, advisor_id, "propose_action", handoff, "success", detail=body.tool)
    line = await db(
        request.app,
        handoffs.said,
        handoff,
        author="system",
        kind="proposal",
        text=f"Proposed to the customer: {shown['text']}"[:2000],
        advisor_id=advisor_id,
    )
    await hub_of(request.app).publish(topic_of(handoff), {"event": "confirmation", **shown})
    await announce(request.app, handoff, line)
    return shown


class FeeView(BaseModel):
    """One fee the bank charged the customer, and whether it was refunded."""

    transaction: int
    booked_at: datetime
    amount: str
    description: str
    refunded: bool


def _fees(conn: Any, person_id: int) -> list[dict[str, Any]]:
    from services.banking.refunds import FEES, refunded_fees
    from services.money import format_money

    e = SQLModel.metadata.tables["ledger_entry"]
    rows = conn.execute(
        select(e)
        .where(e.c.person_id == person_id, e.c.category == FEES, e.c.amount_minor < 0)
        .order_by(e.c.booked_at.desc())
    ).all()
    refunded = refunded_fees(conn, person_id=person_id)
    return [
        {
            "transaction": r.id,
            "booked_at": r.booked_at,
            "amount": format_money(-r.amount_minor, r.currency, plain=True),
            "description": r.description,
            "refunded": r.id in refunded,
        }
        for r in rows
    ]


@router.get("/{handoff}/fees", response_model=list[FeeView], responses=DENIED)
async def customer_fees(
    handoff: RecordId, advisor_id: CurrentAdvisor, request: Request
) -> list[dict[str, Any]]:
    """The fees the customer was charged (newest first), for the advisor to refund one."""
    row = await held(request, handoff, advisor_id, "view_fees")
    await audited(request, advisor_id, "view_fees", handoff, "success")
    return list(await db(request.app, _fees, row["person_id"]))


class Refund(BaseModel):
    """The fee to refund: its transaction id."""

    transaction: int = Field(ge=1, le=2**63 - 1)


def _refund(conn: Any, row: dict[str, Any], advisor_id: int, entry_id: int) -> dict[str, Any]:
    from services.banking.refunds import refund_fee

    done = refund_fee(
        conn,
        person_id=row["person_id"],
        entry_id=entry_id,
        advisor_id=advisor_id,
        idempotency_key=f"advisor-{advisor_id}-refund-{entry_id}",
        now=datetime.now(UTC),
    )
    line = handoffs.said(
        conn,
        row["id"],
        author="system",
        kind="result",
        text=done.summary,
        advisor_id=advisor_id,
    )
    return {"summary": done.summary, "line": line, "replayed": done.replayed}


class Refunded(BaseModel):
    """What the refund did, as the customer is told."""

    summary: str


@router.post(
    "/{handoff}/refund-fee",
    response_model=Refunded,
    responses={
        **DENIED,
        404: {"description": "No such transaction of this customer's."},
        409: {"description": "Not held by this advisor."},
        422: {"description": "Not a fee, or already refunded."},
    },
)
async def refund_a_fee(
    handoff: RecordId, body: Refund, advisor_id: CurrentAdvisor, request: Request
) -> dict[str, str]:
    """Refund one of the customer's fees: an advisor's action, audited with their identity."""
    from services.banking import NotFound
    from services.banking import Refused as BankRefused

    row = await held(request, handoff, advisor_id, "refund_fee")
    try:
        done = await db(request.app, _refund, row, advisor_id, body.transaction)
    except NotFound:
        await audited(request, advisor_id, "refund_fee", handoff, "failure", detail="not found")
        raise HTTPException(status.HTTP_404_NOT_FOUND, "transaction not found") from None
    except BankRefused as exc:
        await audited(request, advisor_id, "refund_fee", handoff, "failure", detail=str(exc))
        raise HTTPException(422, str(exc)) from None
    if done["replayed"]:  # a refund booked now is audited by the write itself
        await audited(
            request, advisor_id, "refund_fee", handoff, "success", detail=str(body.transaction)
        )
    await announce(request.app, handoff, done["line"])
    return {"summary": done["summary"]}


def _assist(app: Any, row: dict[str, Any], now: datetime) -> dict[str, Any]:
    from app.warmup import assistant_once
    from tools.read import knowledge_answer

    assistant = assistant_once(app)
    with app.state.engine.begin() as conn:
        said = [
            r["text"]
            for r in handoffs.lines(conn, row["id"])
            if r["author"] == "customer" and r["kind"] == "text"
        ]
    if not said:
        config = {"configurable": {"thread_id": _thread_key(row["person_id"], row["thread"])}}
        values = assistant.graph.get_state(config).values or {}
        said = [
            str(m.content) for m in values.get("messages", []) if getattr(m, "type", "") == "human"
        ]
    latest = said[-1] if said else row["reason"]
    hits = knowledge_answer(assistant.bank.knowledge, latest)["hits"][:3]
    ctx = assistant.prepare(row["person_id"], now)
    offer = ctx.offer
    first = ctx.first_name
    if hits:
        draft = f"Hi {first}, {hits[0]['passage']}"
    elif offer:
        draft = f"Hi {first}, {offer.get('body') or offer.get('title')}"
    else:
        draft = f"Hi {first}, thanks for waiting — I'm looking into that for you now."
    items = [("article", h["article_id"]) for h in hits]
    if offer:
        items.append(("action", str(offer.get("code"))))
    items.append(("draft", draft[:200]))
    with app.state.engine.begin() as conn:
        ids = handoffs.suggested(conn, row["id"], items, now)
    articles = [{**h, "suggestion": sid} for h, sid in zip(hits, ids, strict=False)]
    action = None
    if offer:
        action = {
            "code": offer.get("code"),
            "title": offer.get("title"),
            "why": offer.get("why"),
            "suggestion": ids[len(hits)],
        }
    return {
        "message": latest,
        "articles": articles,
        "next_best_action": action,
        "draft": {"text": draft[:2000], "suggestion": ids[-1]},
    }


@router.get(
    "/{handoff}/assist",
    response_model=Suggested,
    responses={**DENIED, 409: {"description": "Not held."}},
)
async def assist(handoff: RecordId, advisor_id: CurrentAdvisor, request: Request) -> dict[str, Any]:
    """What helps answer the customer's latest message, each suggestion with an id to mark used.

    The articles that answer it (with the passage), the next best action allowed now with its
    reason, and a drafted reply the advisor can send, edit or ignore.
    """
    row = await held(request, handoff, advisor_id, "assist")
    found = await in_chat_thread(request.app, _assist, request.app, row, datetime.now(UTC))
    await audited(request, advisor_id, "assist", handoff, "success")
    return dict(found)


@router.post(
    "/{handoff}/assist/{suggestion}/used",
    response_model=Used,
    responses={**DENIED, 404: {"description": "No such suggestion in this conversation."}},
)
async def suggestion_used(
    handoff: RecordId,
    suggestion: Annotated[int, RecordId],
    advisor_id: CurrentAdvisor,
    request: Request,
) -> dict[str, Any]:
    """Record that the advisor used one of the assistant's suggestions."""
    await held(request, handoff, advisor_id, "use_suggestion")
    found = await db(request.app, handoffs.used, handoff, suggestion)
    await audited(request, advisor_id, "use_suggestion", handoff, "success" if found else "failure")
    if not found:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "suggestion not found")
    return {"used": suggestion}


class Close(BaseModel):
    """How the conversation ended."""

    outcome: str = Field(description=f"One of {', '.join(handoffs.OUTCOMES)}.")


async def _end(
    request: Request, handoff: int, advisor_id: int, end_as: str, outcome: str | None = None
) -> dict[str, Any]:
    action = f"{end_as}_conversation"
    await held(request, handoff, advisor_id, action)
    try:
        row = await db(
            request.app,
            handoffs.end,
            handoff,
            advisor_id=advisor_id,
            status=end_as,
            now=datetime.now(UTC),
            outcome=outcome,
        )
    except Refused as exc:
        await audited(request, advisor_id, action, handoff, "failure", detail=str(exc))
        raise HTTPException(422, str(exc)) from None
    await audited(request, advisor_id, action, handoff, "success", detail=outcome)
    await announce(request.app, handoff, row["line"])
    return _view(row)


@router.post("/{handoff}/return", response_model=HandoffView, responses=DENIED)
async def hand_back(
    handoff: RecordId, advisor_id: CurrentAdvisor, request: Request
) -> dict[str, Any]:
    """Hand the conversation back to the assistant; the customer sees it."""
    return await _end(request, handoff, advisor_id, "returned")


@router.post("/{handoff}/close", response_model=HandoffView, responses=DENIED)
async def close_conversation(
    handoff: RecordId, body: Close, advisor_id: CurrentAdvisor, request: Request
) -> dict[str, Any]:
    """Close the conversation with an outcome (resolved, follow_up, no_answer, referred)."""
    return await _end(request, handoff, advisor_id, "closed", body.outcome)


# --- the advisor's socket -----------------------------------------------------------------


@socket_router.websocket("/ws/advisor")
async def advisor_socket(websocket: WebSocket) -> None:
    """The queue as it changes, and the lines of the conversations the advisor watches.

    Server frames: ``{"type": "QUEUE", "items": [...]}`` and ``{"type": "LINE", "handoffId",
    "line"}``. Client frames: ``{"type": "WATCH", "handoffId", "after"}`` (a conversation the
    advisor holds; every line after ``after`` follows).
    """
    principal = await socket_principal(
        websocket, Role.advisor, error="ERROR", refusal="only advisors listen here"
    )
    if principal is None:
        return
    app, advisor_id = websocket.app, principal.person_id
    sub = hub_of(app).subscribe()
    seen: dict[int, int] = {}
    lock = asyncio.Lock()

    async def send_queue() -> None:
        items = await shared_read(app, _queue_frame).get()
        await websocket.send_json({"type": "QUEUE", "items": items})

    async def take(handoff_id: int, event: dict[str, Any]) -> None:
        async with lock:  # as the customer's side does (:meth:`CustomerLink.take`)
            if handoff_id not in seen or event["id"] <= seen[handoff_id]:
                return
            line = sent_straight(event, seen[handoff_id])
            if line is not None:
                seen[handoff_id] = line["id"]
                await websocket.send_json({"type": "LINE", "handoffId": handoff_id, "line": line})
                return
        await catch_up(handoff_id)

    async def catch_up(handoff_id: int) -> None:
        async with lock:
            for line in await db(app, _lines_with_names, handoff_id, seen.get(handoff_id, 0)):
                if line["id"] > seen.get(handoff_id, 0):
                    seen[handoff_id] = line["id"]
                    await websocket.send_json(
                        {"type": "LINE", "handoffId": handoff_id, "line": line}
                    )

    async def forward() -> None:
        idle = 0.0
        while True:
            event = await sub.next(1.0)
            if event is None:
                idle += 1.0
                if idle >= POLL_SECONDS:
                    idle = 0.0
                    for handoff_id in list(seen):
                        await catch_up(handoff_id)
                continue
            try:
                if event["topic"] == QUEUE:
                    await send_queue()
                elif event.get("event") == "line":
                    await take(handoff_of(event["topic"]), event)
            except (WebSocketDisconnect, RuntimeError):
                return
            except Exception:  # noqa: BLE001 - one bad event must not stop the console's updates
                log.exception("could not forward a live event to the advisor")

    await sub.listen(QUEUE)
    task = asyncio.create_task(forward())
    try:
        await send_queue()
        while True:
            frame = await websocket.receive_json()
            if not isinstance(frame, dict) or frame.get("type") != "WATCH":
                await websocket.send_json({"type": "ERROR", "code": "unknown_frame"})
                continue
            handoff_id = frame.get("handoffId")
            row = await db(app, handoffs.get, handoff_id) if isinstance(handoff_id, int) else None
            if not isinstance(handoff_id, int) or row is None or row["advisor_id"] != advisor_id:
                await websocket.send_json({"type": "ERROR", "code": "not_yours"})
                continue
            after = frame.get("after")
            seen[handoff_id] = after if isinstance(after, int) and after >= 0 else 0
            await sub.listen(topic_of(handoff_id))
            await catch_up(handoff_id)
    except (WebSocketDisconnect, ValueError, RuntimeError):
        return
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        await sub.close()
