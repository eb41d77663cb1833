"""The offline language model: a LangChain chat model that understands customers on a CPU.

It reads the conversation like any chat model and answers with an ``AIMessage`` — text, or
``tool_calls`` for the tools bound to it — so the LangGraph graph is the same whichever model drives
it. Understanding comes from the trained intent classifier (:mod:`agents.nlu`) and slot extraction
against the customer's own records (:mod:`agents.offline.slots`, :mod:`agents.offline.tasks`); the
turn-taking is :mod:`agents.offline.dialogue`. Nothing is sent anywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, Field

from agents.offline.dialogue import Turn
from agents.offline.scope import decline
from agents.offline.understand import IntentClassifier


class ReadOnce:
    """An intent classifier that answers each text once (for the length of one turn)."""

    def __init__(self, classifier: IntentClassifier) -> None:
        self.classifier = classifier
        self.readings: dict[str, tuple[str, float]] = {}

    def predict(self, text: str) -> tuple[str, float]:
        """The wrapped classifier's reading of ``text``, asked for at most once."""
        if text not in self.readings:
            self.readings[text] = self.classifier.predict(text)
        return self.readings[text]


class OfflineChatModel(BaseChatModel):
    """Intent classifier + slot filling + templated answers, as a ``BaseChatModel``."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    classifier: Any = Field(exclude=True)
    tool_names: tuple[str, ...] = ()

    @property
    def _llm_type(self) -> str:
        return "concierge-offline"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"tools": list(self.tool_names)}

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """A copy of the model that may call exactly these tools."""
        names = tuple(convert_to_openai_tool(t)["function"]["name"] for t in tools)
        return self.model_copy(update={"tool_names": names})

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        # one reading per text within a turn: the scope check and the dialogue read the same
        # message, and an encoder pass is most of a turn's cost
        classifier: IntentClassifier = ReadOnce(self.classifier)
        turn = Turn(messages, classifier, set(self.tool_names))
        # out of scope with nothing under way: an honest answer, no task
        message = decline(turn.messages, classifier) or turn.reply()
        return ChatResult(generations=[ChatGeneration(message=message)])
