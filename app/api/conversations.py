"""Reading customers' chat conversations back out of LangGraph's checkpointer, for advisors.

The chat stores each conversation under the thread id ``customer-<person id>:<client thread>``
(``app/api/chat.py``), so a customer's threads are the ids with their prefix, and a thread's
owner can be read off its id. Listing asks the saver's table for distinct thread ids (SQLite or
PostgreSQL saver) and falls back to walking every checkpoint for other savers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

THREAD = re.compile(r"^customer-(\d+):(.{1,100})$", re.DOTALL)


@dataclass(frozen=True)
class Thread:
    """One conversation: its full id, the client's id for it, and when it last moved."""

    thread_id: str
    client_thread: str
    last_activity: datetime | None
    messages: int


def owner_of(thread_id: str) -> int | None:
    """The customer a checkpointer thread id belongs to, or None for any other id."""
    match = THREAD.match(thread_id)
    return int(match.group(1)) if match else None


def _thread_ids(saver: Any, prefix: str) -> list[str]:
    like = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    sql = "SELECT DISTINCT thread_id FROM checkpoints WHERE thread_id LIKE {} ESCAPE '\\'"
    if hasattr(saver, "cursor"):  # SqliteSaver
        with saver.cursor(transaction=False) as cur:
            cur.execute(sql.format("?"), (like,))
            return [str(row[0]) for row in cur.fetchall()]
    if hasattr(saver, "_cursor"):  # PostgresSaver (dict rows)
        with saver._cursor() as cur:
            cur.execute(sql.format("%s"), (like,))
            return [str(row["thread_id"]) for row in cur.fetchall()]
    seen = {t.config["configurable"]["thread_id"] for t in saver.list(None)}
    return sorted(t for t in seen if t.startswith(prefix))


def _messages(saver: Any, thread_id: str) -> tuple[list[BaseMessage], datetime | None] | None:
    found = saver.get_tuple({"configurable": {"thread_id": thread_id}})
    if found is None:
        return None
    values = found.checkpoint.get("channel_values", {})
    messages = [m for m in values.get("messages", []) if isinstance(m, BaseMessage)]
    stamp = found.checkpoint.get("ts")
    return messages, datetime.fromisoformat(stamp) if isinstance(stamp, str) else None


def threads_count(saver: Any) -> int:
    """How many customer conversations the checkpointer holds."""
    return len(_thread_ids(saver, "customer-"))


def threads_of(saver: Any, *, person_id: int) -> list[Thread]:
    """The customer's conversations, most recently active first.

    Args:
        saver: A LangGraph checkpointer.
        person_id: Whose conversations.
    """
    out = []
    for thread_id in _thread_ids(saver, f"customer-{person_id}:"):
        if owner_of(thread_id) != person_id:
            continue
        found = _messages(saver, thread_id)
        if found is None:
            continue
        messages, when = found
        client = thread_id.split(":", 1)[1]
        out.append(Thread(thread_id, client, when, len(messages)))
    never = datetime.min.replace(tzinfo=UTC)
    return sorted(out, key=lambda t: t.last_activity or never, reverse=True)


def messages_of(saver: Any, *, thread_id: str) -> list[BaseMessage] | None:
    """The messages of one conversation, or None when there is no such thread."""
    found = _messages(saver, thread_id)
    return None if found is None else found[0]


def transcript(messages: list[BaseMessage]) -> list[dict[str, Any]]:
    """The conversation as lines: who spoke (customer, assistant, advisor, tool) and what.

    An action an advisor proposed in the conversation is the advisor's line.
    """
    lines: list[dict[str, Any]] = []
    for n, m in enumerate(messages):
        text = m.content if isinstance(m.content, str) else str(m.content)
        if isinstance(m, HumanMessage):
            lines.append({"index": n, "role": "customer", "text": text})
        elif isinstance(m, AIMessage) and m.additional_kwargs.get("proposed_by"):
            calls = [c["name"] for c in m.tool_calls]
            lines.append({"index": n, "role": "advisor", "text": text, "tool_calls": calls})
        elif isinstance(m, AIMessage):
            calls = [c["name"] for c in m.tool_calls]
            if text or calls:
                lines.append({"index": n, "role": "assistant", "text": text, "tool_calls": calls})
        elif isinstance(m, ToolMessage):
            lines.append({"index": n, "role": "tool", "text": text, "tool": m.name})
    return lines
