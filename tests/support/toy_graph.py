"""A toy graph for the graph and guardrail tests: a read and a write tool on the offline model."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from langchain_core.messages import AIMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.prebuilt import ToolRuntime

from agents.graph import compile_graph
from agents.offline.model import OfflineChatModel
from agents.state import ChatContext
from tests.support.chat_kit import CTX, Keywords

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
# What the toy transfer tool has done: tests clear it first, then check what ran.
DONE: list[dict[str, Any]] = []


@tool
def get_accounts(runtime: ToolRuntime[ChatContext]) -> str:
    """The customer's accounts and balances."""
    rows = [{"name": "Everyday", "last4": "4821", "balance": "2450.00"}]
    return json.dumps({"accounts": rows, "person": runtime.context.person_id})


@tool
def transfer(
    from_account: str,
    to_account: str,
    amount: str,
    currency: str,
    runtime: ToolRuntime[ChatContext],
) -> str:
    """Move money between the customer's own accounts.

    Args:
        from_account: Source account ref.
        to_account: Destination account ref.
        amount: Decimal amount.
        currency: ISO code.
    """
    DONE.append(
        {"person": runtime.context.person_id, "amount": amount, "key": runtime.tool_call_id}
    )
    return json.dumps({"status": "done", "summary": f"Moved ${amount}."})


transfer.metadata = {"write": True, "describe": lambda a, c: f"Move ${a['amount']} now?"}


def toy_graph():
    """The real graph on the offline model (keyword classifier) with these two tools."""
    model = OfflineChatModel(classifier=Keywords())
    return compile_graph(
        model=model,
        tools=[get_accounts, transfer],
        customer_context=lambda c: CTX,
        checkpointer=InMemorySaver(),
    )


def run_turn(graph, thread: str, payload: Any) -> dict[str, Any]:
    """One turn (or a resume) on ``thread``, as customer 7 at NOW."""
    config = {"configurable": {"thread_id": thread}}
    context = ChatContext(person_id=7, bank=None, now=NOW)
    return graph.invoke(payload, config, context=context)


def last_text(result: dict[str, Any]) -> str:
    """The last thing the assistant said."""
    return next(m.content for m in reversed(result["messages"]) if isinstance(m, AIMessage))
