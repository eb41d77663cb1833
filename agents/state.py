"""The conversation's state and the runtime context the graph runs in.

The state is what the checkpointer keeps: the messages, and a question the customer typed with
an approval, kept until the approved action has run. Who the customer is travels in the
runtime context (``ChatContext``), set by the authenticated caller for every run; it is never
part of the state or of anything the model writes, so no tool argument can name another
customer.
"""

from __future__ import annotations

from typing import Annotated, NotRequired, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages

from tools.runtime import ChatContext


class ChatState(TypedDict):
    """The checkpointed conversation."""

    messages: Annotated[list[AnyMessage], add_messages]
    # a question typed with an approval ("yes, when will it arrive?"): asked once the
    # approved action has run and its result has been told
    asked_after: NotRequired[str]


__all__ = ["ChatContext", "ChatState"]
