"""The offline model's conversation moves, driven through LangChain's chat-model interface.

The intent classifier is a keyword stand-in here (the trained one has its own tests and the
integration tests run the two together), so each test pins one move of the dialogue: slot
filling, corrections, cancellation, digressions and resuming, ambiguity, low confidence, and
that nothing the customer does not hold or did not say is ever put in a tool call.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool

from agents.offline.model import OfflineChatModel
from tests.support.chat_kit import CTX, Keywords


@tool
def transfer(from_account: str, to_account: str, amount: str, currency: str) -> str:
    """Move money between the customer's own accounts."""
    return ""


@tool
def pay_payee(payee: str, amount: str, from_account: str, currency: str) -> str:
    """Pay one of the customer's payees."""
    return ""


@tool
def get_accounts() -> str:
    """The customer's accounts and balances."""
    return ""


@tool
def search_knowledge(query: str) -> str:
    """Search the bank's help articles."""
    return ""


@tool
def search_transactions(merchant: str = "", amount: str = "") -> str:
    """Find the customer's transactions."""
    return ""


@tool
def dispute_transaction(transaction: str) -> str:
    """Dispute a transaction."""
    return ""


@tool
def handoff(reason: str) -> str:
    """Hand the conversation to an advisor."""
    return ""


TOOLS = [
    transfer,
    pay_payee,
    get_accounts,
    search_knowledge,
    search_transactions,
    dispute_transaction,
    handoff,
]


class Chat:
    """A conversation with the model, tools answered by the test."""

    def __init__(self, tools: list[Any] = TOOLS) -> None:
        self.model = OfflineChatModel(classifier=Keywords()).bind_tools(tools)
        self.messages: list[BaseMessage] = [CTX.message()]

    def say(self, text: str) -> AIMessage:
        self.messages.append(HumanMessage(text))
        return self._turn()

    def tool_result(self, result: dict[str, Any]) -> AIMessage:
        call = self.messages[-1].tool_calls[0]  # type: ignore[attr-defined]
        self.messages.append(
            ToolMessage(json.dumps(result), tool_call_id=call["id"], name=call["name"])
        )
        return self._turn()

    def _turn(self) -> AIMessage:
        reply = self.model.invoke(self.messages)
        assert isinstance(reply, AIMessage)
        self.messages.append(reply)
        return reply


def only_call(reply: AIMessage) -> tuple[str, dict[str, Any]]:
    [call] = reply.tool_calls
    return call["name"], call["args"]


def test_a_complete_request_becomes_one_tool_call() -> None:
    reply = Chat().say("move 200 from everyday to rainy day")
    assert only_call(reply) == (
        "transfer",
        {
            "from_account": "acc-everyday",
            "to_account": "acc-rainy",
            "amount": "200.00",
            "currency": "USD",
        },
    )


def test_missing_slots_are_asked_for_one_at_a_time() -> None:
    chat = Chat()
    assert "How much" in chat.say("I want to transfer money").content
    asked = chat.say("200 bucks")
    assert "come from" in asked.content and "Everyday" in asked.content
    assert "go to" in chat.say("everyday").content
    name, args = only_call(chat.say("savings"))
    assert name == "transfer" and args["amount"] == "200.00"
    assert (args["from_account"], args["to_account"]) == ("acc-everyday", "acc-rainy")


def test_a_correction_changes_only_that_slot_and_asks_again() -> None:
    chat = Chat()
    first = only_call(chat.say("pay tom baker 60"))
    assert first[1]["amount"] == "60.00" and first[1]["payee"] == "payee-tom"
    name, args = only_call(chat.say("sorry, I meant 65"))
    assert name == "pay_payee" and args == {**first[1], "amount": "65.00"}


def test_cancelling_drops_the_task_and_nothing_is_called() -> None:
    chat = Chat()
    chat.say("I want to transfer money")
    reply = chat.say("never mind")
    assert not reply.tool_calls and "cancelled" in reply.content
    assert "nothing in progress" in chat.say("cancel").content


def test_a_question_mid_task_is_answered_and_the_task_resumed() -> None:
    chat = Chat()
    chat.say("transfer 300 to rainy day")
    assert "come from" in chat.messages[-1].content
    assert only_call(chat.say("what's my balance?"))[0] == "get_accounts"
    balances = {"accounts": [{"name": "Everyday", "last4": "4821", "balance": "2450.00"}]}
    answer = chat.tool_result(balances)
    assert "$2,450.00" in answer.content and "get back to the transfer" in answer.content
    assert "come from" in chat.say("yes").content
    name, args = only_call(chat.say("everyday"))
    assert name == "transfer" and args["amount"] == "300.00" and args["to_account"] == "acc-rainy"


def test_an_ambiguous_payee_is_asked_with_the_customers_own_options() -> None:
    chat = Chat()
    ask = chat.say("pay tom 50")
    assert not ask.tool_calls and "Tom Baker" in ask.content and "Tom Hardy" in ask.content
    name, args = only_call(chat.say("the second one"))
    assert name == "pay_payee" and args["payee"] == "payee-tomh" and args["amount"] == "50.00"


def test_low_confidence_offers_an_advisor_and_yes_hands_over() -> None:
    chat = Chat()
    reply = chat.say("blorp the zazzle")
    assert not reply.tool_calls and "advisor" in reply.content
    assert only_call(chat.say("yes"))[0] == "handoff"


def test_nothing_is_invented_for_people_accounts_or_amounts_not_given() -> None:
    chat = Chat()
    ask = chat.say("pay Jessica")
    assert not ask.tool_calls and "Who would you like to pay" in ask.content
    chat = Chat()
    ask = chat.say("transfer 100 to my brokerage account")
    assert not ask.tool_calls
    chat = Chat()
    asked = chat.say("pay city electric")
    assert not asked.tool_calls and "How much" in asked.content


def test_all_of_it_is_the_source_accounts_own_balance() -> None:
    name, args = only_call(Chat().say("move all of it from everyday to rainy day"))
    assert name == "transfer" and args["amount"] == "2450.00"


def test_faq_questions_search_the_knowledge_base_and_cite_it() -> None:
    chat = Chat()
    name, args = only_call(chat.say("what is the fee for atm withdrawals abroad?"))
    assert name == "search_knowledge" and "atm" in args["query"]
    hits = {"hits": [{"article_id": "atm-fees", "title": "ATM fees", "passage": "It is $2.50."}]}
    answer = chat.tool_result(hits)
    assert "It is $2.50." in answer.content and "atm-fees" in answer.content


def test_a_dispute_finds_the_transaction_then_asks_which_one() -> None:
    chat = Chat()
    name, args = only_call(chat.say("I don't recognise the $54.99 charge at Amazon"))
    assert name == "search_transactions" and args["merchant"] == "Amazon"
    assert args["amount"] == "54.99"
    rows = [
        {"ref": "txn-1", "date": "2026-11-20", "merchant": "Amazon", "amount": "-54.99"},
        {"ref": "txn-2", "date": "2026-11-22", "merchant": "Amazon", "amount": "-54.99"},
    ]
    ask = chat.tool_result({"transactions": rows})
    assert "Which one" in ask.content and "2026-11-22" in ask.content
    assert only_call(chat.say("the second")) == ("dispute_transaction", {"transaction": "txn-2"})


def test_a_tool_that_is_not_bound_is_never_called() -> None:
    reply = Chat(tools=[get_accounts]).say("move 200 from everyday to rainy day")
    assert not reply.tool_calls and "can't do that" in reply.content


def test_out_of_scope_and_greetings_use_the_customers_name() -> None:
    chat = Chat()
    assert "Maya" in chat.say("hello").content
    reply = chat.say("what's the weather like")
    assert not reply.tool_calls and "outside" in reply.content


@pytest.mark.parametrize(
    "text", ["pay 50 to someone", "send money to my landlord", "freeze my card"]
)
def test_every_tool_call_names_only_the_customers_own_records(text: str) -> None:
    reply = Chat().say(text)
    own = {a.ref for a in CTX.accounts} | {p.ref for p in CTX.payees} | {c.ref for c in CTX.cards}
    for call in reply.tool_calls:
        for key in ("from_account", "to_account", "payee", "card"):
            if key in call["args"]:
                assert call["args"][key] in own


@tool
def schedule_payment(
    amount: str, currency: str, from_account: str, first_date: str, frequency: str
) -> str:
    """Schedule a future or recurring transfer."""
    return ""


@tool
def create_savings_rule(
    amount: str, currency: str, from_account: str, to_account: str, frequency: str
) -> str:
    """Put money aside automatically."""
    return ""


def test_a_transfer_said_to_repeat_is_scheduled_never_run_once() -> None:
    chat = Chat([*TOOLS, schedule_payment, create_savings_rule])
    reply = chat.say("move 200 from everyday to rainy day every month")
    assert reply.tool_calls == [] and "When should it start" in reply.content
    name, args = only_call(chat.say("starting on the 1st"))
    assert name == "schedule_payment"
    assert (args["frequency"], args["first_date"], args["amount"]) == (
        "monthly",
        "2026-12-01",
        "200.00",
    )
    rule = Chat([*TOOLS, schedule_payment, create_savings_rule]).say(
        "move 50 to rainy day every payday"
    )
    name, args = only_call(rule)
    assert name == "create_savings_rule"
    assert args["frequency"] == "payday" and args["amount"] == "50.00"


def test_the_answer_to_shall_we_get_back_may_be_the_missing_detail() -> None:
    chat = Chat()
    assert "How much" in chat.say("I want to transfer money").content
    aside = chat.say("what's my balance?")
    assert only_call(aside)[0] == "get_accounts"
    back = chat.tool_result({"accounts": []})
    assert "get back to" in back.content
    assert "come from" in chat.say("75").content


def test_a_suggestion_states_its_reason_once_and_asks_once() -> None:
    from agents.offline.dialogue import _suggestion

    asked = _suggestion({"body": "Your trial became a paid plan. Keep it?", "why": "trial ending"})
    assert asked == "By the way: Your trial became a paid plan. Keep it?"
    told = _suggestion(
        {"body": "A savings pot earns 4%.", "why": "Because your cash sits idle in checking."}
    )
    assert told == (
        "By the way: A savings pot earns 4%. I'm mentioning it because your cash sits idle in "
        "checking. Want to hear more?"
    )


@tool
def get_recommendations() -> str:
    """Offers for the customer."""
    return ""


@tool
def respond_to_offer(offer: str, response: str) -> str:
    """Record an answer to an offer."""
    return ""


class _Said:
    """Intents by exact text, for the offer moves."""

    KNOWN = {"any offers?": "show_offers", "yes please": "affirm", "no thanks": "deny"}

    def predict(self, text: str) -> tuple[str, float]:
        return (self.KNOWN[text], 0.9) if text in self.KNOWN else ("faq", 0.2)


def _offers_chat() -> Chat:
    chat = Chat([*TOOLS, get_recommendations, respond_to_offer])
    tools = [*TOOLS, get_recommendations, respond_to_offer]
    chat.model = OfflineChatModel(classifier=_Said()).bind_tools(tools)
    return chat


def test_a_yes_after_a_list_of_offers_accepts_the_first_and_ordinals_pick_another() -> None:
    listed = {
        "recommendations": [
            {"code": "alerts", "title": "Low-balance alerts"},
            {"code": "hysa", "title": "High-yield savings"},
        ]
    }
    for answer, code in (("yes please", "alerts"), ("the second one", "hysa")):
        chat = _offers_chat()
        assert only_call(chat.say("any offers?"))[0] == "get_recommendations"
        shown = chat.tool_result(listed)
        assert "Shall I go ahead with the first one (Low-balance alerts)" in shown.content
        assert only_call(chat.say(answer)) == (
            "respond_to_offer",
            {"offer": code, "response": "accepted"},
        )
    chat = _offers_chat()
    chat.say("any offers?")
    chat.tool_result(listed)
    assert chat.say("no thanks").tool_calls == []


def test_a_turn_reads_the_customers_message_once() -> None:
    asked: list[str] = []

    class Counting(Keywords):
        def predict(self, text: str) -> tuple[str, float]:
            asked.append(text)
            return super().predict(text)

    model = OfflineChatModel(classifier=Counting()).bind_tools(TOOLS)
    reply = model.invoke([CTX.message(), HumanMessage("what's my balance?")])
    assert reply.tool_calls  # the scope check and the dialogue both read it
    assert asked.count("what's my balance?") <= 1, asked
