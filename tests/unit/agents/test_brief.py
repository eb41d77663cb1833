"""The brief's parts without a bank: what became of tool calls, topics, tenure, money, wording."""

from __future__ import annotations

from datetime import date

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from agents.brief import Customer, Names, segment_words, tenure, topics, write_brief
from agents.outcomes import outcomes
from agents.sentiment import read_mood


def _call(name: str, args: dict[str, str], id_: str) -> AIMessage:
    return AIMessage("", tool_calls=[{"name": name, "args": args, "id": id_}])


MOVE = {"from_account": "acc-1", "to_account": "acc-2", "amount": "1234.5"}
NAMES = Names(
    refs={"acc-1": "Girokonto (…4821)", "acc-2": "Sparkonto (…1234)"},
    currencies={"acc-1": "EUR", "acc-2": "EUR"},
)


def test_only_calls_with_a_successful_result_happened() -> None:
    messages = [
        HumanMessage("hi"),
        _call("get_accounts", {}, "r1"),
        ToolMessage('{"accounts": []}', tool_call_id="r1", name="get_accounts"),
        _call("transfer", MOVE, "w1"),
        ToolMessage('{"status": "declined"}', tool_call_id="w1", name="transfer", status="error"),
        _call("transfer", MOVE, "w2"),
        ToolMessage('{"status": "refused", "reason": "not enough money"}', tool_call_id="w2"),
        _call("transfer", MOVE, "w3"),
        ToolMessage('{"status": "done", "kind": "transfer"}', tool_call_id="w3"),
        _call("handoff", {"reason": "x"}, "w4"),
    ]
    found = [(o.name, o.status, o.happened) for o in outcomes(messages)]
    assert found == [
        ("get_accounts", "done", True),
        ("transfer", "declined", False),
        ("transfer", "refused", False),
        ("transfer", "done", True),
        ("handoff", "pending", False),
    ]


def test_topics_are_the_customers_latest_requests_in_the_order_said() -> None:
    said = ["what's my balance?", "I don't recognise this payment", "I want to speak to someone"]
    assert topics(said)[-2:] == ["reported charges they do not recognise", "asked for a person"]
    assert topics(["what are the fees for an international transfer?"]) == ["asked about fees"]
    assert topics(["hello there"]) == []


def test_tenure_and_segment_in_plain_words() -> None:
    today = date(2026, 3, 2)
    assert tenure(date(2019, 1, 15), today) == "with the bank for 7 years"
    assert tenure(date(2025, 9, 1), today) == "with the bank for 6 months"
    assert tenure(date(2026, 2, 20), today) == "new to the bank"
    assert tenure(None, today) == ""
    assert segment_words("mass_market") == "an everyday-banking customer"
    assert segment_words("Private") == "a private-banking client"
    assert segment_words("small_business_plus") == "a small business plus customer"


def test_amounts_are_written_in_the_customers_locale() -> None:
    messages = [
        HumanMessage("überweise 1234,50 auf mein Sparkonto"),
        _call("transfer", MOVE, "w1"),
        ToolMessage('{"status": "done"}', tool_call_id="w1", name="transfer"),
    ]
    customer = Customer("Lena Vogel", "affluent", date(2024, 1, 1), "de_DE")
    brief = write_brief(
        customer,
        today=date(2026, 3, 2),
        conversations={"t": messages},
        mood=read_mood(["überweise 1234,50 auf mein Sparkonto"]),
        names=NAMES,
        next_offer="talk about “Premium savings”",
    )
    assert brief[0] == "Lena Vogel is an affluent customer, with the bank for 2 years."
    assert "The assistant moved 1.234,50\u00a0€ from Girokonto (…4821) to Sparkonto (…1234)." in (
        brief
    )
    assert brief[-1] == "Next best step: talk about “Premium savings”."


def test_a_brief_without_conversations_says_so() -> None:
    customer = Customer("Sam Lee", "youth", None, "en_US")
    brief = write_brief(
        customer, today=date(2026, 3, 2), conversations={}, mood=read_mood([]), names=Names()
    )
    assert brief == [
        "Sam Lee is a young customer (youth segment).",
        "No recent conversation with the assistant.",
        "They sound neutral; no risk flags.",
        "Next best step: nothing open; ask how you can help.",
    ]
