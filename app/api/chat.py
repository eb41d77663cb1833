"""``/ws/chat``: the assistant over a websocket, in AG-UI's event names.

The client connects with ``?token=<session token>`` (a customer's). Once the customer's context
is read, the server's first frame is ``{"type": "STATE_SNAPSHOT", "snapshot": {"ready": true,
"firstName": "..."}}`` (``ready`` false, and no name, when it could not be read ahead: the
first turn then reads it). Client frames:

* ``{"type": "USER_MESSAGE", "threadId": "...", "text": "..."}``
* ``{"type": "CONFIRM", "threadId": "...", "approve": true|false}`` or, to change the request,
  ``{"type": "CONFIRM", "threadId": "...", "text": "sorry, I meant 65"}``
* ``{"type": "RESUME", "threadId": "...", "after": 0}`` and ``{"type": "LEAVE_MESSAGE",
  "threadId": "...", "text": "..."}``: the live hand-off to an advisor (:mod:`app.api.live`,
  whose frames are ``CUSTOM`` ``handoff``, ``advisor_message`` and ``handoff_line``)

Each run answers with ``RUN_STARTED``, then ``TOOL_CALL_START/ARGS/END/RESULT`` for every tool
the run used, ``TEXT_MESSAGE_START/CONTENT/END`` for the reply, and ``RUN_FINISHED`` — or
``CONFIRMATION_REQUIRED`` with the exact action when a write waits for approval, and
``RUN_ERROR`` with a ``code`` for anything that fails. Recommendation and insight cards follow
the text as AG-UI ``CUSTOM`` frames (``name`` ``recommendation_cards`` or ``insight_cards``,
``value`` a list of cards). Thread ids are scoped to the signed-in
customer, so a thread id can never open someone else's conversation; reconnecting with the same
``threadId`` continues it from its checkpoint.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections import deque
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langgraph.types import Command
from sqlalchemy.exc import InterfaceError, OperationalError

from agents.runtime_patches.checkpoints import one_load
from app.api.deps import socket_principal
from app.api.live import CustomerLink, tell_result
from app.api.metrics import metrics_of
from app.auth import Role
from app.chat_threads import in_chat_thread
from app.warmup import assistant_once as _build_once
from services.banking.rules import Refused

log = logging.getLogger(__name__)

router = APIRouter()
MAX_FRAME_BYTES = 8_000
MAX_TEXT = 2_000
RATE = (20, 10.0)  # at most 20 client frames per 10 seconds per connection
# Characters per TEXT_MESSAGE_CONTENT delta. A reply is whole before it is sent, so cutting it
# into many small deltas shows nothing sooner; it only multiplies frames, each a send, a
# syscall and a parse on both ends. A typical reply is one delta; a long one stays bounded.
CHUNK = 1000


class ChatError(Exception):
    """A failure the client is told about with a code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _thread(person_id: int, thread_id: str) -> str:
    return f"customer-{person_id}:{thread_id}"


def frames_for(messages: list[BaseMessage], thread_id: str, run_id: str) -> list[dict[str, Any]]:
    """The AG-UI frames for the messages a run added."""
    out: list[dict[str, Any]] = []
    for m in messages:
        if isinstance(m, AIMessage):
            for call in m.tool_calls:
                cid = call.get("id") or uuid.uuid4().hex
                out.append(
                    {"type": "TOOL_CALL_START", "toolCallId": cid, "toolCallName": call["name"]}
                )
                out.append(
                    {"type": "TOOL_CALL_ARGS", "toolCallId": cid, "delta": json.dumps(call["args"])}
                )
                out.append({"type": "TOOL_CALL_END", "toolCallId": cid})
            if isinstance(m.content, str) and m.content:
                mid = m.id or uuid.uuid4().hex
                out.append({"type": "TEXT_MESSAGE_START", "messageId": mid, "role": "assistant"})
                for i in range(0, len(m.content), CHUNK):
                    out.append(
                        {
                            "type": "TEXT_MESSAGE_CONTENT",
                            "messageId": mid,
                            "delta": m.content[i : i + CHUNK],
                        }
                    )
                out.append({"type": "TEXT_MESSAGE_END", "messageId": mid})
        elif isinstance(m, ToolMessage):
            out.append(
                {
                    "type": "TOOL_CALL_RESULT",
                    "toolCallId": m.tool_call_id,
                    "content": str(m.content),
                    "role": "tool",
                }
            )
    return out


def _json_of(text: str) -> dict[str, Any]:
    try:
        found = json.loads(text)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def cards_for(messages: list[BaseMessage], offer: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Structured ``CUSTOM`` frames for what a run showed: recommendation and insight cards.

    ``offer`` is the next best action of the run's customer context; it becomes a card when
    the assistant brought it up in this run.
    """
    out: list[dict[str, Any]] = []
    for m in messages:
        if isinstance(m, ToolMessage) and m.name == "get_recommendations":
            rows = _json_of(str(m.content)).get("recommendations", [])
            cards = [
                {"offer": r.get("code"), "title": r.get("title"), "body": r.get("body")}
                | {"why": r.get("why"), "options": r.get("options") or []}
                for r in rows
            ]
            out.append({"type": "CUSTOM", "name": "recommendation_cards", "value": cards})
        elif isinstance(m, ToolMessage) and m.name == "get_insights":
            rows = _json_of(str(m.content)).get("insights", [])
            out.append({"type": "CUSTOM", "name": "insight_cards", "value": rows})
        elif isinstance(m, AIMessage) and offer:
            shown = (m.additional_kwargs.get("concierge") or {}).get("shown")
            if shown and shown == offer.get("code"):
                card = {k: offer.get(k) for k in ("title", "body", "why")}
                card["options"] = offer.get("options") or []
                value = [{"offer": shown, **card}]
                out.append({"type": "CUSTOM", "name": "recommendation_cards", "value": value})
    return out


def _offer_of(messages: list[BaseMessage]) -> dict[str, Any] | None:
    for m in reversed(messages):
        context = m.additional_kwargs.get("concierge_context")
        if isinstance(context, dict):
            offer = context.get("offer")
            return offer if isinstance(offer, dict) else None
    return None


class Limiter:
    """A sliding window of frame times."""

    def __init__(self, count: int, seconds: float) -> None:
        self.count, self.seconds = count, seconds
        self.times: deque[float] = deque()

    def allow(self, now: float) -> bool:
        """Whether one more frame fits the window."""
        while self.times and now - self.times[0] > self.seconds:
            self.times.popleft()
        if len(self.times) >= self.count:
            return False
        self.times.append(now)
        return True


def _plain(value: object) -> bool:
    """Whether ``value`` is text any store accepts: valid UTF-8 and no NUL.

    PostgreSQL refuses NUL in text, and a JSON escape of half a surrogate pair makes a string
    no encoder accepts.
    """
    if not isinstance(value, str) or "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _parse(raw: str | None) -> dict[str, Any]:
    if raw is None:
        raise ChatError("bad_frame", "frames must be text (JSON objects), not binary")
    if len(raw.encode("utf-8", "surrogatepass")) > MAX_FRAME_BYTES:
        raise ChatError("frame_too_large", f"frames are limited to {MAX_FRAME_BYTES} bytes")
    try:
        frame = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nesting too deep to decode
        raise ChatError("bad_frame", "frames must be JSON objects") from None
    if not isinstance(frame, dict):
        raise ChatError("bad_frame", "frames must be JSON objects")
    thread = frame.get("threadId")
    if not isinstance(thread, str) or not 1 <= len(thread) <= 100:
        raise ChatError("bad_frame", "threadId must be a string of 1 to 100 characters")
    if not all(_plain(v) for v in (thread, frame.get("text", "")) if isinstance(v, str)):
        raise ChatError("bad_frame", "threadId and text must be valid text without NUL")
    kind = frame.get("type")
    if kind == "USER_MESSAGE":
        text = frame.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ChatError("bad_frame", "USER_MESSAGE needs a non-empty text")
        if len(text) > MAX_TEXT:
            raise ChatError("message_too_long", f"messages are limited to {MAX_TEXT} characters")
    elif kind == "CONFIRM":
        approve, text = frame.get("approve"), frame.get("text")
        if not isinstance(approve, bool) and not (isinstance(text, str) and text.strip()):
            raise ChatError("bad_frame", "CONFIRM needs approve (true/false) or a text")
    elif kind == "LEAVE_MESSAGE":
        text = frame.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
            raise ChatError(
                "bad_frame", f"LEAVE_MESSAGE needs a text of 1 to {MAX_TEXT} characters"
            )
    elif kind == "RESUME":
        after = frame.get("after", 0)
        if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after < 2**63:
            raise ChatError("bad_frame", "RESUME's after must be a line id (0 or more)")
    else:
        raise ChatError("unknown_frame", f"unknown frame type {kind!r}")
    return frame


async def assistant_of(app: Any) -> Any:
    """The app's assistant: warm from start-up, else built on first use (off the event loop)."""
    found = getattr(app.state, "assistant", None)
    return found if found is not None else await asyncio.to_thread(_build_once, app)


def _turn(assistant: Any, person_id: int, frame: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Read the thread, check the frame fits it, run the graph: ``(messages before, result)``.

    One function, so a turn costs one hand-off to a worker thread; the run starts from the
    checkpoint the check read (:func:`~agents.runtime_patches.checkpoints.one_load`).
    """
    with one_load():
        return _check_and_run(assistant, person_id, frame)


def _check_and_run(
    assistant: Any, person_id: int, frame: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    config_thread = _thread(person_id, frame["threadId"])
    state = assistant.graph.get_state({"configurable": {"thread_id": config_thread}})
    pending = bool(state.next) and bool(getattr(state, "interrupts", ()))
    if frame["type"] == "CONFIRM":
        if not pending:
            raise ChatError("nothing_to_confirm", "there is no action waiting for confirmation")
        resume = (
            {"approve": frame["approve"]}
            if isinstance(frame.get("approve"), bool)
            else {"text": frame["text"]}
        )
        payload: Any = Command(resume=resume)
    else:
        if pending:
            raise ChatError("confirmation_pending", "approve or decline the waiting action first")
        payload = {"messages": [("user", frame["text"])]}
    before = len(state.values.get("messages", [])) if state.values else 0
    return before, assistant.run(config_thread, person_id, payload)


async def _run(websocket: WebSocket, person_id: int, frame: dict[str, Any]) -> list[BaseMessage]:
    metrics_of(websocket.app).chat_turns.inc()
    assistant = await assistant_of(websocket.app)
    thread, run_id = frame["threadId"], uuid.uuid4().hex
    await websocket.send_json({"type": "RUN_STARTED", "threadId": thread, "runId": run_id})
    before, result = await in_chat_thread(websocket.app, _turn, assistant, person_id, frame)
    added = list(result.get("messages", []))[before:]
    for out in frames_for(added, thread, run_id):
        await websocket.send_json(out)
    for card in cards_for(added, _offer_of(list(result.get("messages", [])))):
        await websocket.send_json({**card, "threadId": thread, "runId": run_id})
    if "__interrupt__" in result:
        ask = result["__interrupt__"][0].value
        await websocket.send_json(
            {
                "type": "CONFIRMATION_REQUIRED",
                "threadId": thread,
                "runId": run_id,
                "calls": ask["calls"],
                "text": ask["text"],
            }
        )
        return added
    await websocket.send_json({"type": "RUN_FINISHED", "threadId": thread, "runId": run_id})
    if frame["type"] == "CONFIRM" and frame.get("approve") is True:
        # the write changed the customer's records: read them again while the customer reads
        # the answer, not when they next speak (but only when no other turn is waiting)
        _background(_prepare(websocket.app, person_id, background=True))
    return added


_pending: set[asyncio.Task[None]] = set()


def _background(job: Any) -> None:
    task = asyncio.ensure_future(job)
    _pending.add(task)  # the loop keeps only weak references to tasks
    task.add_done_callback(_pending.discard)


@router.websocket("/ws/chat")
async def chat(websocket: WebSocket) -> None:
    """One customer's chat connection (see the module docstring for the frames)."""
    principal = await socket_principal(
        websocket, Role.customer, error="RUN_ERROR", refusal="only customers chat here"
    )
    if principal is None:
        return
    limiter = Limiter(*RATE)
    link = CustomerLink(websocket, principal.person_id)
    try:
        await _open(websocket, principal.person_id)
        await link.hear_inbox()
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            # A binary frame has no "text": refused below like any other bad frame.
            raw = message.get("text")
            frame: dict[str, Any] = {}
            try:
                if not limiter.allow(time.monotonic()):
                    raise ChatError("rate_limited", "too many messages; wait a few seconds")
                frame = _parse(raw)
                if await link.handle(frame):
                    continue  # the advisor holds the conversation, or a live-side frame
                added = await _run(websocket, principal.person_id, frame)
                await link.after_run(frame["threadId"], added)
                if frame["type"] == "CONFIRM":
                    await tell_result(websocket.app, principal.person_id, frame["threadId"], added)
            except WebSocketDisconnect:
                # The page closed or lost its connection while the answer was being sent, not
                # a failure: what the run finished is checkpointed, and a reconnect with the
                # same threadId continues from it.
                log.info("client left mid-answer (conversation %s)", frame.get("threadId"))
                return
            except ChatError as exc:
                metrics_of(websocket.app).chat_errors.labels(exc.code).inc()
                await websocket.send_json(
                    {"type": "RUN_ERROR", "code": exc.code, "message": str(exc)}
                )
            except Refused as exc:
                metrics_of(websocket.app).chat_errors.labels("refused").inc()
                await websocket.send_json(
                    {"type": "RUN_ERROR", "code": "refused", "message": str(exc)}
                )
            except (OperationalError, InterfaceError):
                metrics_of(websocket.app).chat_errors.labels("unavailable").inc()
                log.warning("chat run failed: the database is unavailable", exc_info=True)
                await websocket.send_json(
                    {
                        "type": "RUN_ERROR",
                        "code": "unavailable",
                        "message": "the bank's records are unavailable for a moment; nothing "
                        "was changed — please try again",
                    }
                )
            except Exception:  # noqa: BLE001 - the connection survives one failed run
                log.exception("chat run failed")
                metrics_of(websocket.app).chat_errors.labels("internal").inc()
                await websocket.send_json(
                    {"type": "RUN_ERROR", "code": "internal", "message": "something went wrong"}
                )
    except WebSocketDisconnect:
        return
    finally:
        await link.close()


async def _open(websocket: WebSocket, person_id: int) -> None:
    """Read the customer's context, then say the chat is ready (one ``STATE_SNAPSHOT``).

    As an advisor opens a customer's file when they sit down: the context, insights and next
    best action are read once here, so no turn computes them while the customer waits, and
    the snapshot tells the client when its first message will be answered without that wait.
    """
    found = await _prepare(websocket.app, person_id)
    snapshot: dict[str, Any] = {"ready": found is not None}
    if found is not None:
        snapshot["firstName"] = found.first_name
    await websocket.send_json({"type": "STATE_SNAPSHOT", "snapshot": snapshot})


async def _prepare(app: Any, person_id: int, *, background: bool = False) -> Any:
    """The customer's context, now kept in memory; None when it could not be read.

    Best effort: a failure here only means the next turn reads the context itself.
    """
    try:
        assistant = await assistant_of(app)
        return await in_chat_thread(app, assistant.prepare, person_id, background=background)
    except Exception:  # noqa: BLE001 - logged; the conversation goes on without it
        log.warning("could not prepare the customer's context ahead of the chat", exc_info=True)
        return None
