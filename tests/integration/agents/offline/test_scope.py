"""Out of scope: the offline model with its real classifier declines honestly and starts nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from agents.nlu import IntentModel
from agents.offline.model import OfflineChatModel
from agents.offline.scope import DECLINE, ScopeGuard
from tests.integration.agents.offline.test_understanding import SCHEMAS
from tests.support.chat_kit import CTX


@pytest.fixture(scope="module")
def classifier(classifier_dir: Path) -> IntentModel:
    return IntentModel.load(classifier_dir)


def _chat(classifier: IntentModel, *texts: str) -> list[AIMessage]:
    model = OfflineChatModel(classifier=classifier).bind_tools(SCHEMAS)
    messages: list[BaseMessage] = [CTX.message()]
    replies: list[AIMessage] = []
    for text in texts:
        messages.append(HumanMessage(text))
        reply = model.invoke(messages)
        assert isinstance(reply, AIMessage)
        messages.append(reply)
        replies.append(reply)
    return replies


@pytest.mark.parametrize(
    "text", ["what's the weather in Paris", "book me a table for two", "tell me a joke"]
)
def test_an_out_of_scope_first_message_starts_no_task_and_says_what_it_can_do(
    classifier: IntentModel, text: str
) -> None:
    (reply,) = _chat(classifier, text)
    assert not reply.tool_calls
    assert not reply.additional_kwargs.get("concierge")  # nothing left under way
    assert reply.content == DECLINE
    assert "outside what I can help with" in DECLINE and "balances" in DECLINE


def test_banking_requests_still_route_to_their_tools(classifier: IntentModel) -> None:
    (balance,) = _chat(classifier, "what's my balance")
    assert [c["name"] for c in balance.tool_calls] == ["get_accounts"]
    (freeze,) = _chat(classifier, "freeze my card")
    assert freeze.tool_calls or freeze.additional_kwargs["concierge"]["frame"]["intent"] == (
        "freeze_card"
    )


def test_a_task_under_way_reads_its_answers_without_the_scope_guard(
    classifier: IntentModel,
) -> None:
    asked, answered = _chat(classifier, "send money to my savings", "250")
    assert asked.additional_kwargs.get("concierge")  # a question is pending
    assert answered.content != DECLINE


class _Fixed:
    def __init__(self, label: str, confidence: float) -> None:
        self.answer = (label, confidence)

    def predict(self, text: str) -> tuple[str, float]:
        return self.answer


def test_the_guard_declines_only_weak_guesses_at_tasks_and_reads() -> None:
    strict = 0.45
    assert ScopeGuard(_Fixed("transfer_money", 0.40), strict).predict("x")[0] == "out_of_scope"
    assert ScopeGuard(_Fixed("check_balance", 0.40), strict).predict("x")[0] == "out_of_scope"
    assert ScopeGuard(_Fixed("transfer_money", 0.90), strict).predict("x") == (
        "transfer_money",
        0.90,
    )
    assert ScopeGuard(_Fixed("faq", 0.40), strict).predict("x") == ("faq", 0.40)
    # below the dialogue's own "not sure" line the guess is left for the dialogue to question
    assert ScopeGuard(_Fixed("transfer_money", 0.20), strict).predict("x") == (
        "transfer_money",
        0.20,
    )
    # by default only the classifier's own out-of-scope reading declines
    assert ScopeGuard(_Fixed("schedule_payment", 0.38)).predict("x") == ("schedule_payment", 0.38)
