"""The runtime context every tool runs in: who the customer is, the bank, the clock.

Set by the authenticated caller for each run of the graph; never part of the conversation
state or of anything the model writes, so no tool argument can name another customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from langchain_core.tools import InjectedToolArg
from langgraph.prebuilt import ToolRuntime
from pydantic import PlainSerializer


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


Runtime = Annotated[
    ToolRuntime[ChatContext], InjectedToolArg, PlainSerializer(lambda _: None, return_type=None)
]
"""How a tool asks for its run's :class:`ChatContext` (``runtime.context``) and state.

The same injection as a bare ``ToolRuntime[ChatContext]``, but LangChain validates a tool's
arguments by dumping them, the injected runtime included, to a dict whose values it then
drops: for a runtime that holds the whole conversation, a noticeable share of a chat turn.
Dumping it as None instead changes nothing a tool sees.
"""
