"""Write tools through the graph: confirmed writes run once, declines and strangers do nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from langchain_core.messages import AIMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command
from sqlalchemy import text

from agents.customer import customer_context
from agents.graph import compile_graph
from agents.nlu import IntentModel
from agents.offline.model import OfflineChatModel
from services.synth.writer import seed_bank
from tests.support.scripted_model import ScriptedChatModel, call
from tools.bank import Bank
from tools.registry import all_tools
from tools.runtime import ChatContext

NOW = datetime(2026, 11, 28, 15, tzinfo=UTC)


@pytest.fixture
def seeded(engine):
    seed_bank(engine, customers=4, seed=3, as_of=NOW.date())
    return engine


def _pair(engine) -> tuple[int, dict[str, int]]:
    """A customer with open checking and savings accounts, and those accounts' ids."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT person_id, type, MIN(id) FROM account WHERE status = 'open' "
                "AND type IN ('checking', 'savings') GROUP BY person_id, type ORDER BY person_id"
            )
        ).all()
    found: dict[int, dict[str, int]] = {}
    for person, kind, account in rows:
        found.setdefault(int(person), {})[kind] = int(account)
    person = next(p for p, kinds in found.items() if len(kinds) == 2)
    return person, found[person]


def _balances(engine) -> dict[int, int]:
    with engine.connect() as conn:
        return {
            int(i): int(b) for i, b in conn.execute(text("SELECT id, balance_minor FROM account"))
        }


def _ledger_rows(engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT COUNT(*) FROM ledger_entry")).scalar())


def _graph(model):
    return compile_graph(
        model=model,
        tools=all_tools(),
        customer_context=customer_context,
        checkpointer=InMemorySaver(),
    )


def _run(graph, engine, person: int, payload, thread: str = "w"):
    run = ChatContext(person_id=person, bank=Bank(engine), now=NOW)
    return graph.invoke(payload, {"configurable": {"thread_id": thread}}, context=run)


def _text(result) -> str:
    return next(m.content for m in reversed(result["messages"]) if isinstance(m, AIMessage))


@pytest.fixture(scope="module")
def offline(classifier_dir):
    return OfflineChatModel(classifier=IntentModel.load(classifier_dir))


def test_a_confirmed_transfer_moves_the_money_once(seeded, offline) -> None:
    person, acc = _pair(seeded)
    before, rows = _balances(seeded), _ledger_rows(seeded)
    graph = _graph(offline)
    paused = _run(
        graph, seeded, person, {"messages": [("user", "move 50 from checking to savings")]}
    )
    ask = paused["__interrupt__"][0].value
    assert "$50.00" in ask["text"] and ask["calls"][0]["name"] == "transfer"
    assert _balances(seeded) == before  # nothing until approved
    done = _run(graph, seeded, person, Command(resume={"approve": True}))
    after = _balances(seeded)
    assert after[acc["checking"]] == before[acc["checking"]] - 5000
    assert after[acc["savings"]] == before[acc["savings"]] + 5000
    assert sum(after.values()) == sum(before.values()) and _ledger_rows(seeded) == rows + 2
    assert "$50.00" in _text(done)


def test_a_declined_transfer_changes_nothing(seeded, offline) -> None:
    person, _ = _pair(seeded)
    before, rows = _balances(seeded), _ledger_rows(seeded)
    graph = _graph(offline)
    _run(graph, seeded, person, {"messages": [("user", "move 50 from checking to savings")]})
    result = _run(graph, seeded, person, Command(resume={"approve": False}))
    assert _balances(seeded) == before and _ledger_rows(seeded) == rows
    assert "haven't done anything" in _text(result)


def test_a_changed_amount_is_confirmed_again_and_only_it_runs(seeded, offline) -> None:
    person, acc = _pair(seeded)
    before = _balances(seeded)
    graph = _graph(offline)
    _run(graph, seeded, person, {"messages": [("user", "move 50 from checking to savings")]})
    again = _run(graph, seeded, person, Command(resume={"text": "sorry, I meant 65"}))
    assert "$65.00" in again["__interrupt__"][0].value["text"]
    _run(graph, seeded, person, Command(resume={"approve": True}))
    assert _balances(seeded)[acc["checking"]] == before[acc["checking"]] - 6500


def test_another_customers_account_cannot_be_touched_even_when_approved(seeded) -> None:
    person, acc = _pair(seeded)
    with seeded.connect() as conn:
        stranger = int(
            conn.execute(
                text("SELECT MIN(id) FROM account WHERE person_id != :p AND status = 'open'"),
                {"p": person},
            ).scalar()
        )
    before = _balances(seeded)
    script = [
        call(
            "transfer",
            {
                "from_account": f"acc-{stranger}",
                "to_account": f"acc-{acc['savings']}",
                "amount": "10.00",
            },
        ),
        AIMessage("ok"),
    ]
    graph = _graph(ScriptedChatModel(messages=iter(script)))
    _run(graph, seeded, person, {"messages": [("user", "x")]})
    result = _run(graph, seeded, person, Command(resume={"approve": True}))
    tool_reply = [m for m in result["messages"] if m.type == "tool"][-1]
    assert '"refused"' in tool_reply.content and "couldn't find that account" in tool_reply.content
    assert _balances(seeded) == before


def test_a_card_freeze_needs_approval_then_sticks(seeded, offline) -> None:
    with seeded.connect() as conn:
        person, card, last4 = conn.execute(
            text(
                "SELECT person_id, id, last4 FROM card WHERE status = 'active' ORDER BY id LIMIT 1"
            )
        ).one()
    graph = _graph(offline)
    paused = _run(
        graph, seeded, int(person), {"messages": [("user", f"freeze my card ending {last4}")]}
    )
    assert last4 in paused["__interrupt__"][0].value["text"]
    with seeded.connect() as conn:
        waiting = conn.execute(text("SELECT status FROM card WHERE id = :c"), {"c": card}).scalar()
    assert waiting == "active"  # asked, not yet approved: nothing happened
    _run(graph, seeded, int(person), Command(resume={"approve": True}))
    with seeded.connect() as conn:
        status = conn.execute(text("SELECT status FROM card WHERE id = :c"), {"c": card}).scalar()
    assert status == "frozen"


def test_a_goal_is_created_then_changed_each_after_its_own_confirmation(seeded) -> None:
    person, _ = _pair(seeded)
    create = [call("create_goal", {"name": "Japan trip", "target": "3000.00"}), AIMessage("ok")]
    graph = _graph(ScriptedChatModel(messages=iter(create)))
    ask = _run(graph, seeded, person, {"messages": [("user", "x")]}, thread="g1")
    assert ask["__interrupt__"][0].value["text"] == (
        "Start a savings goal 'Japan trip' with a target of $3,000.00?"
    )
    _run(graph, seeded, person, Command(resume={"approve": True}), thread="g1")
    with seeded.connect() as conn:
        goal = conn.execute(
            text("SELECT id FROM savings_goal WHERE person_id = :p AND name = 'Japan trip'"),
            {"p": person},
        ).scalar()
    assert goal is not None
    change = [call("update_goal", {"goal": f"goal-{goal}", "target": "3500.00"}), AIMessage("ok")]
    graph = _graph(ScriptedChatModel(messages=iter(change)))
    ask = _run(graph, seeded, person, {"messages": [("user", "y")]}, thread="g2")
    assert "'Japan trip'" in ask["__interrupt__"][0].value["text"]
    _run(graph, seeded, person, Command(resume={"approve": True}), thread="g2")
    with seeded.connect() as conn:
        target = conn.execute(
            text("SELECT target_minor FROM savings_goal WHERE id = :g"), {"g": goal}
        ).scalar()
    assert target == 350_000


def _goal_of(engine, person: int) -> tuple[int, int]:
    """A goal of ``person`` (made here) and the id of another customer's goal (made here too)."""
    with engine.begin() as conn:
        other = int(
            conn.execute(text("SELECT MIN(id) FROM person WHERE id != :p"), {"p": person}).scalar()
        )
        ids = []
        for who, name in ((person, "Road trip"), (other, "Someone else's")):
            ids.append(
                conn.execute(
                    text(
                        "INSERT INTO savings_goal (person_id, name, target_minor, saved_minor, "
                        "currency) VALUES (:p, :n, 200000, 50000, 'USD') RETURNING id"
                    ),
                    {"p": who, "n": name},
                ).scalar()
            )
    return int(ids[0]), int(ids[1])


def _goal_row(engine, goal: int) -> tuple:
    with engine.connect() as conn:
        return tuple(
            conn.execute(
                text("SELECT name, target_minor, target_date FROM savings_goal WHERE id = :g"),
                {"g": goal},
            ).one()
        )


def test_a_goal_change_shows_only_what_changes_and_moves_the_date(seeded) -> None:
    person, _ = _pair(seeded)
    goal, _ = _goal_of(seeded, person)
    args = {"goal": f"goal-{goal}", "target": "2500.00", "target_date": "2027-06-30"}
    graph = _graph(ScriptedChatModel(messages=iter([call("update_goal", args), AIMessage("ok")])))
    ask = _run(graph, seeded, person, {"messages": [("user", "x")]}, thread="gd")
    shown = ask["__interrupt__"][0].value["text"]
    assert shown == "Change your goal 'Road trip': target to $2,500.00, date to June 30, 2027?"
    assert "?" not in shown[:-1] and "name" not in shown  # no blank field is shown
    _run(graph, seeded, person, Command(resume={"approve": True}), thread="gd")
    name, target, when = _goal_row(seeded, goal)
    assert (name, target, str(when)[:10]) == ("Road trip", 250_000, "2027-06-30")


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ({"target_date": "2020-01-01"}, "future"),
        ({"target_date": "next june"}, "not a date"),
        ({"target": "-5"}, ""),
        ({}, "nothing to change"),
    ],
)
def test_a_bad_goal_change_is_refused_and_changes_nothing(seeded, args, reason) -> None:
    person, _ = _pair(seeded)
    goal, _ = _goal_of(seeded, person)
    before = _goal_row(seeded, goal)
    script = [call("update_goal", {"goal": f"goal-{goal}", **args}), AIMessage("ok")]
    graph = _graph(ScriptedChatModel(messages=iter(script)))
    _run(graph, seeded, person, {"messages": [("user", "x")]}, thread="gb")
    out = _run(graph, seeded, person, Command(resume={"approve": True}), thread="gb")
    results = [m.content for m in out["messages"] if getattr(m, "type", "") == "tool"]
    assert '"refused"' in results[-1] and reason in results[-1]
    assert _goal_row(seeded, goal) == before


def test_another_customers_goal_can_be_neither_named_nor_changed(seeded) -> None:
    person, _ = _pair(seeded)
    _, theirs = _goal_of(seeded, person)
    before = _goal_row(seeded, theirs)
    script = [call("update_goal", {"goal": f"goal-{theirs}", "name": "Mine now"}), AIMessage("ok")]
    graph = _graph(ScriptedChatModel(messages=iter(script)))
    ask = _run(graph, seeded, person, {"messages": [("user", "x")]}, thread="go")
    assert "Someone else's" not in ask["__interrupt__"][0].value["text"]
    out = _run(graph, seeded, person, Command(resume={"approve": True}), thread="go")
    results = [m.content for m in out["messages"] if getattr(m, "type", "") == "tool"]
    assert '"refused"' in results[-1]
    assert _goal_row(seeded, theirs) == before
