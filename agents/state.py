"""The conversation's state and the runtime context the graph runs in.

The state is what the checkpointer keeps: the messages. Who the customer is travels in the
runtime context (``ChatContext``), set by the authenticated caller for every run; it is never
part of the state or of anything the model writes, so no tool argument can name another
customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages


class ChatState(TypedDict):
    """The checkpointed conversation."""

    messages: Annotated[list[AnyMessage], add_messages]


@dataclass(frozen=True)
class ChatContext:
    """Per run: the authenticated customer and the bank the tools act on.

    Attributes:
        person_id: The signed-in customer (from the session, never from the model).
        bank: The services the tools use (``tools.bank.Bank``).
        now: The clock for this run (aware UTC), fixed so a run is repeatable.
    """

    person_id: int
    bank: Any
    now: datetime
