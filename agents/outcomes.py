"""What became of each tool call in a checkpointed conversation: run, declined, or still waiting.

An assistant message's ``tool_calls`` are only proposals. A read runs at once and its result
follows as a ``ToolMessage``; a write stops for the customer's confirmation (``agents.graph``)
and has a result only once it was approved and ran (``{"status": "done"}``, or ``"refused"``
when the bank would not do it) or was closed without running (``"declined"``, or ``"changed"``
when the customer asked for something else instead). A call with no result at all is still
waiting for the customer's answer. The advisor's summary says only what actually ran.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from tools.write import WRITE_TOOLS

WRITES = frozenset(t.name for t in WRITE_TOOLS)


@dataclass(frozen=True)
class Outcome:
    """One tool call and what became of it.

    Attributes:
        index: The position of the assistant message that proposed it.
        name: The tool's name.
        args: The arguments it was proposed (and, if approved, run) with.
        status: ``done`` (ran and succeeded), ``refused`` (ran; the bank would not do it),
            ``failed`` (ran with an error), ``declined`` or ``changed`` (closed by the customer
            without running), ``pending`` (no answer yet).
        result: The tool's JSON result, when it has one.
    """

    index: int
    name: str
    args: dict[str, Any]
    status: str
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def is_write(self) -> bool:
        """Whether the tool changes anything (and so needed the customer's confirmation)."""
        return self.name in WRITES

    @property
    def happened(self) -> bool:
        """Whether it was carried out: it ran and succeeded."""
        return self.status == "done"


def _parsed(message: ToolMessage) -> dict[str, Any]:
    try:
        data = json.loads(str(message.content))
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def outcomes(messages: Sequence[BaseMessage]) -> list[Outcome]:
    """Every tool call in ``messages``, in order, with what became of it."""
    results = {m.tool_call_id: m for m in messages if isinstance(m, ToolMessage)}
    out: list[Outcome] = []
    for n, m in enumerate(messages):
        if not isinstance(m, AIMessage):
            continue
        for call in m.tool_calls:
            answer = results.get(str(call.get("id")))
            data = _parsed(answer) if answer is not None else {}
            said = str(data.get("status", ""))
            if answer is None:
                status = "pending"
            elif said in ("declined", "changed", "refused"):
                status = said
            elif answer.status == "error" or said == "error":
                status = "failed"
            else:
                status = "done"
            out.append(Outcome(n, call["name"], dict(call.get("args") or {}), status, data))
    return out
