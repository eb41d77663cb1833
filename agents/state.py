"""The conversation's state and the runtime context the graph runs in.

The state is what the checkpointer keeps: the messages. Who the customer is travels in the
runtime context (``ChatContext``), set by the authenticated caller for every run; it is never
part of the state or of anything the model writes, so no tool argument can name another
customer.
"""

from __future__ import annotations

from typing import Annotated, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages

from tools.runtime import ChatContext


class ChatState(TypedDict):
    """The checkpointed conversation."""

    messages: Annotated[list[AnyMessage], add_messages]


__all__ = ["ChatContext", "ChatState"]
