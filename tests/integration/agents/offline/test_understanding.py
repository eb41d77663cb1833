"""The offline model with its real intent classifier (trained on the repository's utterances)."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from agents.nlu import IntentModel
from agents.offline.classifier import default_classifier, model_dir
from agents.offline.model import OfflineChatModel
from tests.support.chat_kit import CTX

TOOL_NAMES = [
    "transfer",
    "pay_payee",
    "schedule_payment",
    "create_savings_rule",
    "cancel_scheduled_payment",
    "freeze_card",
    "unfreeze_card",
    "replace_card",
    "dispute_transaction",
    "create_goal",
    "set_preferences",
    "get_accounts",
    "search_transactions",
    "spending_summary",
    "upcoming_bills",
    "get_insights",
    "get_recommendations",
    "get_goals",
    "search_knowledge",
    "handoff",
]
SCHEMAS = [
    {"type": "function", "function": {"name": n, "description": n, "parameters": {}}}
    for n in TOOL_NAMES
]


@pytest.fixture(scope="module")
def classifier(classifier_dir: Path) -> IntentModel:
    assert (classifier_dir / "metadata.json").is_file()
    return IntentModel.load(classifier_dir)


def _reply(classifier: IntentModel, *texts: str) -> AIMessage:
    model = OfflineChatModel(classifier=classifier).bind_tools(SCHEMAS)
    messages: list[BaseMessage] = [CTX.message()]
    reply = None
    for text in texts:
        messages.append(HumanMessage(text))
        reply = model.invoke(messages)
        messages.append(reply)
    assert isinstance(reply, AIMessage)
    return reply


@pytest.mark.parametrize(
    ("text", "tool"),
    [
        ("move 200 from everyday to rainy day", "transfer"),
        ("send 50 bucks to tom baker", "pay_payee"),
        ("whats my balance", "get_accounts"),
        ("how much did i spend on restaurants last month", "spending_summary"),
        ("any bills coming up this week?", "upcoming_bills"),
        ("freeze my debit card", "freeze_card"),
        ("unlock my credit card please", "unfreeze_card"),
        ("how long does an international transfer take?", "search_knowledge"),
        ("can i talk to a real person", "handoff"),
        ("show me my last amazon purchases", "search_transactions"),
        ("how are my savings goals doing", "get_goals"),
        ("do you have any offers for me", "get_recommendations"),
        ("anything unusual going on with my money?", "get_insights"),
        ("pay tom baker 40 dollars every month starting next friday", "schedule_payment"),
        ("put 100 into rainy day every payday automatically", "create_savings_rule"),
        ("cancel my streamflix monthly payment", "cancel_scheduled_payment"),
        ("my debit card was stolen, block it and send a new one", "replace_card"),
        ("I don't recognise a $54.99 charge from amazon", "search_transactions"),
        ("start a savings goal for a trip to japan, target 3000", "create_goal"),
        ("turn off push notifications", "set_preferences"),
    ],
)
def test_the_trained_model_routes_real_phrasings(classifier, text: str, tool: str) -> None:
    reply = _reply(classifier, text)
    assert [c["name"] for c in reply.tool_calls] == [tool], reply.content


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("hello there", "Maya"),
        ("what's the weather in paris tomorrow", "outside what I can help with"),
        ("what can you do for me", "I can check balances"),
        ("thanks a lot", "welcome"),
        ("bye for now", "Goodbye"),
    ],
)
def test_small_talk_and_out_of_scope_get_words_not_tools(classifier, text, words) -> None:
    reply = _reply(classifier, text)
    assert not reply.tool_calls and words in reply.content


def test_a_bill_payment_filled_over_two_turns(classifier) -> None:
    reply = _reply(classifier, "I need to pay my electric bill", "120")
    [call] = reply.tool_calls
    assert call["name"] == "pay_payee"
    assert call["args"]["payee"] == "payee-city" and call["args"]["amount"] == "120.00"


def test_the_model_is_reused_until_the_utterances_change(tmp_path: Path, classifier) -> None:
    data = tmp_path / "u.csv"
    data.write_text("text,category\nhi,greeting\nhello,greeting\nbye,goodbye\nsee ya,goodbye\n")
    first = model_dir(tmp_path, data)
    default_classifier(tmp_path, data=data)
    assert first.is_dir()
    data.write_text(data.read_text() + "cheers,goodbye\n")
    assert model_dir(tmp_path, data) != first


def test_a_file_of_more_examples_is_learned_beside_the_utterances(tmp_path: Path) -> None:
    data = tmp_path / "u.csv"
    data.write_text(
        "text,category\nhi,greeting\nhello,greeting\nbye,goodbye\nsee ya,goodbye\n", "utf-8"
    )
    log = tmp_path / "log.csv"
    log.write_text(
        "text,category\nwhat's the weather in paris,out_of_scope\nbook me a table for two,"
        "out_of_scope\nset a timer for ten minutes,out_of_scope\nmy card has not arrived,"
        "card_arrival\nwhere is my new card,card_arrival\n",
        "utf-8",
    )
    model = default_classifier(tmp_path, data=data, examples=log)
    assert model_dir(tmp_path, data, log) != model_dir(tmp_path, data)
    assert set(model.labels) == {"greeting", "goodbye", "out_of_scope", "faq"}
    assert model.predict("what's the weather in rome")[0] == "out_of_scope"
    assert model.predict("hello")[0] == "greeting"
    # trained once: the same folder is loaded the next time
    assert default_classifier(tmp_path, data=data, examples=log).labels == model.labels
