"""A scripted chat model: stands in for an LLM in tests (tool calls in, answers out)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage


class ScriptedChatModel(GenericFakeChatModel):
    """Replies with the scripted messages in order, whatever tools are bound."""

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedChatModel:  # type: ignore[override]
        """LangChain's fake models do not bind tools; a script needs none."""
        return self


def call(name: str, args: dict[str, Any], n: int = 0) -> AIMessage:
    """An assistant message with one tool call."""
    return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": f"s{n}_{name}"}])
