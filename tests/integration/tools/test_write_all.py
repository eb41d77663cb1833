"""Every write tool through the graph: confirm, decline, replay, a stranger's ids, a refusal.

The customers are ``tests.support.bank_world``'s Maya (a) and Ben (b). A scripted model plays
the LLM, so each tool is driven exactly as a model would drive it; the customer is always Maya,
from the run's context.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from langchain_core.messages import AIMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command
from sqlalchemy import Engine, text

from agents.customer import customer_context
from agents.graph import compile_graph
from services.banking.rules import DAILY_LIMIT_MINOR
from tests.support.bank_world import CASES, NOW, World, build_world, snapshot
from tests.support.scripted_model import ScriptedChatModel, call
from tools.bank import Bank
from tools.registry import all_tools
from tools.runtime import ChatContext
from tools.write import WRITE_TOOLS

REF = re.compile(r"^(acc|payee|card|sched|txn|goal)-\d+$")


class _Ids:
    """Placeholder ids, only to see which arguments are record refs."""

    def __getattr__(self, _name: str) -> int:
        return 1


TAKES_IDS = sorted(
    name for name, own in CASES.items() if any(REF.match(str(v)) for v in own(_Ids()).values())
)


@pytest.fixture
def world(engine: Engine) -> World:
    return build_world(engine)


def _drive(engine: Engine, world: World, script: list[AIMessage], answers: list[dict]) -> list:
    graph = compile_graph(
        model=ScriptedChatModel(messages=iter([*script, AIMessage("ok")])),
        tools=all_tools(),
        customer_context=customer_context,
        checkpointer=InMemorySaver(),
    )
    run = ChatContext(person_id=world.a.person, bank=Bank(engine), now=NOW)
    config = {"configurable": {"thread_id": "t"}}
    out = graph.invoke({"messages": [("user", "go")]}, config, context=run)
    for answer in answers:
        assert "__interrupt__" in out
        out = graph.invoke(Command(resume=answer), config, context=run)
    return [json.loads(m.content) for m in out["messages"] if isinstance(m, ToolMessage)]


def test_every_write_tool_is_covered_here() -> None:
    assert {t.name for t in WRITE_TOOLS} - {"unfreeze_card"} == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_confirmed_writes_run_once_even_when_replayed(engine: Engine, world: World, name: str):
    args = CASES[name](world.a)
    same_call = [call(name, args, 1), call(name, args, 1)]  # the same call id twice
    first, second = _drive(engine, world, same_call, [{"approve": True}, {"approve": True}])
    assert first["status"] == "done", first
    assert first["summary"] and not first["replayed"]
    assert second["status"] == "done" and second["replayed"] and second["ids"] == first["ids"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_declined_writes_change_nothing(engine: Engine, world: World, name: str) -> None:
    before = snapshot(engine)
    [result] = _drive(engine, world, [call(name, CASES[name](world.a))], [{"approve": False}])
    assert result == {"status": "declined"} and snapshot(engine) == before


@pytest.mark.parametrize("name", TAKES_IDS)
def test_another_customers_records_are_refused(engine: Engine, world: World, name: str) -> None:
    before = snapshot(engine)
    args = CASES[name](world.b)
    [result] = _drive(engine, world, [call(name, args)], [{"approve": True}])
    assert result["status"] == "refused" and "couldn't find" in result["reason"], result
    assert snapshot(engine) == before


def test_a_limit_refusal_changes_nothing(engine: Engine, world: World) -> None:
    # Funds for it are there: only the daily limit can refuse it.
    over = DAILY_LIMIT_MINOR + 1
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE account SET balance_minor = :b WHERE id = :a"),
            {"b": 2 * over, "a": world.a.everyday},
        )
    before = snapshot(engine)
    args = {
        "from_account": f"acc-{world.a.everyday}",
        "to_account": f"acc-{world.a.rainy}",
        "amount": f"{Decimal(over) / 100:.2f}",
    }
    [result] = _drive(engine, world, [call("transfer", args)], [{"approve": True}])
    assert result["status"] == "refused" and "daily limit" in result["reason"], result
    assert snapshot(engine) == before


def _card_status(engine: Engine, card: int) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(text("SELECT status FROM card WHERE id = :c"), {"c": card}).scalar_one()
        )


def test_unfreezing_follows_a_freeze(engine: Engine, world: World) -> None:
    card = {"card": f"card-{world.a.debit}"}
    script = [call("freeze_card", card, 1), AIMessage("ok"), call("unfreeze_card", card, 2)]
    graph = compile_graph(
        model=ScriptedChatModel(messages=iter([*script, AIMessage("ok")])),
        tools=all_tools(),
        customer_context=customer_context,
        checkpointer=InMemorySaver(),
    )
    run = ChatContext(person_id=world.a.person, bank=Bank(engine), now=NOW)
    config = {"configurable": {"thread_id": "t"}}
    assert _card_status(engine, world.a.debit) == "active"
    graph.invoke({"messages": [("user", "freeze it")]}, config, context=run)
    assert _card_status(engine, world.a.debit) == "active"  # nothing before approval
    graph.invoke(Command(resume={"approve": True}), config, context=run)
    assert _card_status(engine, world.a.debit) == "frozen"
    graph.invoke({"messages": [("user", "unfreeze it")]}, config, context=run)
    assert _card_status(engine, world.a.debit) == "frozen"
    graph.invoke(Command(resume={"approve": True}), config, context=run)
    assert _card_status(engine, world.a.debit) == "active"


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_confirmation_names_what_will_happen_with_no_blanks(
    engine: Engine, world: World, name: str
) -> None:
    [found] = [t for t in WRITE_TOOLS if t.name == name]
    run = ChatContext(person_id=world.a.person, bank=Bank(engine), now=NOW)
    text = found.metadata["describe"](CASES[name](world.a), run)
    assert text.endswith("?") and "(?)" not in text and "\x00" not in text, text
    assert not any(v in text for v in ("acc-", "payee-", "card-", "txn-", "sched-")), text
