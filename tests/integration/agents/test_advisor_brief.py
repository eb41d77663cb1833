"""The advisor's brief from conversations driven through the real graph by a scripted model.

Maya's conversations run through ``agents.graph`` with the bank's own tools and a checkpointer,
as in the app; the summary is built from the checkpointed messages. The brief says what the
customer wants, what actually ran and what did not, and the risks in their words.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, BaseMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command
from sqlalchemy import Engine, text

from agents.customer import customer_context
from agents.graph import compile_graph
from agents.summaries import AdvisorSummary, build_summary
from tests.support.bank_world import NOW, World, build_world
from tests.support.scripted_model import ScriptedChatModel, call
from tools.bank import Bank
from tools.registry import all_tools
from tools.runtime import ChatContext

Turn = tuple[str, list[AIMessage]] | tuple[dict[str, Any], list[AIMessage]]


def _converse(engine: Engine, world: World, turns: list[Turn]) -> list[BaseMessage]:
    """Run the turns (customer words, or a confirmation answer) and return the messages kept."""
    script = [reply for _, replies in turns for reply in replies]
    graph = compile_graph(
        model=ScriptedChatModel(messages=iter(script)),
        tools=all_tools(),
        customer_context=customer_context,
        checkpointer=InMemorySaver(),
    )
    ctx = ChatContext(person_id=world.a.person, bank=Bank(engine), now=NOW)
    config: Any = {"configurable": {"thread_id": "brief"}}
    for said, _ in turns:
        if isinstance(said, str):
            graph.invoke({"messages": [("user", said)]}, config, context=ctx)
        else:
            graph.invoke(Command(resume=said), config, context=ctx)
    return list(graph.get_state(config).values["messages"])


def _summary(engine: Engine, world: World, turns: list[Turn]) -> AdvisorSummary:
    messages = _converse(engine, world, turns)
    return build_summary(
        Bank(engine), person_id=world.a.person, now=NOW, conversations={"brief": messages}
    )


def _transfer(world: World) -> AIMessage:
    args = {
        "from_account": f"acc-{world.a.everyday}",
        "to_account": f"acc-{world.a.rainy}",
        "amount": "200",
    }
    return call("transfer", args, 1)


def _balances(engine: Engine, world: World) -> tuple[int, int]:
    with engine.connect() as conn:
        rows: dict[int, int] = dict(
            conn.execute(
                text("SELECT id, balance_minor FROM account WHERE id IN (:a, :b)"),
                {"a": world.a.everyday, "b": world.a.rainy},
            ).all()
        )
    return rows[world.a.everyday], rows[world.a.rainy]


def test_a_fraud_report_and_a_request_for_a_person_is_flagged_and_no_handoff_is_claimed(
    engine: Engine,
) -> None:
    world = build_world(engine)
    summary = _summary(
        engine,
        world,
        [
            (
                "There are charges on my card I didn't make, someone stole my card. I'm desperate",
                [call("search_transactions", {}, 1), AIMessage("Here are your recent charges.")],
            ),
            ("I want to talk to a person", [call("handoff", {"reason": "fraud"}, 2)]),
        ],
    )
    brief = " ".join(summary.brief)
    assert "charges they do not recognise" in brief
    assert "possible fraud" in brief
    assert "asked for a person" in brief and "no advisor has joined yet" in brief
    assert "handed" not in brief.lower()
    assert summary.mood.label in ("negative", "distressed")
    assert "fraud" in summary.mood.flags and "distress" in summary.mood.flags
    facts = [f.text for f in summary.facts]
    assert "Assistant used handoff" not in facts
    assert "Assistant used search_transactions" in facts  # the read that did run
    assert any(t.startswith("Assistant proposed handoff; awaiting") for t in facts), facts
    [risk] = [f for f in summary.facts if f.text.startswith("Possible fraud")]
    [asked] = [f for f in summary.facts if f.source == risk.source and f.text.startswith("Asked")]
    assert "didn't make" in asked.text  # the risk cites the customer's own message
    assert summary.text().startswith("Brief: " + summary.brief[0])


def test_a_handoff_that_ran_is_said_to_have_happened(engine: Engine) -> None:
    world = build_world(engine)
    summary = _summary(
        engine,
        world,
        [
            ("I want to talk to a person", [call("handoff", {"reason": "wants a person"}, 1)]),
            ({"approve": True}, [AIMessage("An advisor will be with you shortly.")]),
        ],
    )
    brief = " ".join(summary.brief)
    assert "handed the conversation to an advisor (case #" in brief
    assert "no advisor has joined" not in brief
    assert "Assistant used handoff" in [f.text for f in summary.facts]


def test_a_declined_handoff_is_not_claimed(engine: Engine) -> None:
    world = build_world(engine)
    summary = _summary(
        engine,
        world,
        [
            ("can I speak to an advisor?", [call("handoff", {"reason": "asked"}, 1)]),
            ({"approve": False}, [AIMessage("No problem, I'm here if you need me.")]),
        ],
    )
    brief = " ".join(summary.brief)
    assert "the customer declined it" in brief and "handed" not in brief
    assert "Assistant used handoff" not in [f.text for f in summary.facts]


def test_a_plain_balance_question_is_neutral_with_no_flags(engine: Engine) -> None:
    world = build_world(engine)
    summary = _summary(
        engine,
        world,
        [
            (
                "what's my balance?",
                [call("get_accounts", {}, 1), AIMessage("Everyday has $2,450.00.")],
            )
        ],
    )
    brief = " ".join(summary.brief)
    assert summary.mood.label == "neutral" and summary.mood.flags == ()
    assert "no risk flags" in brief and "They sound neutral" in brief
    assert "asked about their balance" in brief
    assert "It looked up their accounts." in summary.brief
    assert "The assistant carried out no action for them." in summary.brief
    assert "Maya Patel is a retail customer." == summary.brief[0]


def test_an_approved_transfer_is_said_to_be_done_in_the_customers_money_format(
    engine: Engine,
) -> None:
    world = build_world(engine)
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE person SET customer_since = '2019-01-15', segment = 'mass_market' "
                "WHERE id = :p"
            ),
            {"p": world.a.person},
        )
    before = _balances(engine, world)
    summary = _summary(
        engine,
        world,
        [
            ("move 200 from everyday to savings", [_transfer(world)]),
            ({"approve": True}, [AIMessage("Done.")]),
        ],
    )
    assert _balances(engine, world) == (before[0] - 200_00, before[1] + 200_00)
    brief = " ".join(summary.brief)
    assert "The assistant moved $200.00 from Everyday (…4821) to Rainy Day (…1234)." in brief
    assert "Not done" not in brief
    assert summary.brief[0] == (
        "Maya Patel is an everyday-banking customer, with the bank for 7 years."
    )
    assert "they want to move money" in brief


def test_a_declined_transfer_is_said_not_to_be_done(engine: Engine) -> None:
    world = build_world(engine)
    before = _balances(engine, world)
    summary = _summary(
        engine,
        world,
        [
            ("move 200 from everyday to savings", [_transfer(world)]),
            ({"approve": False}, [AIMessage("Okay, I won't move anything.")]),
        ],
    )
    assert _balances(engine, world) == before
    brief = " ".join(summary.brief)
    assert "moved" not in brief
    assert (
        "Not done: move $200.00 from Everyday (…4821) to Rainy Day (…1234) — the customer "
        "declined." in summary.brief
    )
    facts = [f.text for f in summary.facts]
    assert "Assistant used transfer" not in facts
    assert "Assistant proposed transfer; the customer declined, not run" in facts


def test_a_transfer_awaiting_confirmation_is_not_done(engine: Engine) -> None:
    world = build_world(engine)
    summary = _summary(engine, world, [("move 200 from everyday to savings", [_transfer(world)])])
    brief = " ".join(summary.brief)
    assert "waiting for the customer's confirmation" in brief and "moved" not in brief
    assert "settle the action still waiting for their confirmation" in brief
