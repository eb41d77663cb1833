"""Typed replies to a waiting action go through the same gate as the approval button."""

from __future__ import annotations

from langgraph.types import Command

from tests.support.toy_graph import DONE, last_text, run_turn, toy_graph

ASK = {"messages": [("user", "move 200 from everyday to rainy day")]}


def test_typed_acceptance_runs_exactly_the_shown_action() -> None:
    DONE.clear()
    graph = toy_graph()
    paused = run_turn(graph, "typed-1", ASK)
    shown = paused["__interrupt__"][0].value["calls"][0]["id"]
    done = run_turn(graph, "typed-1", Command(resume={"text": "yes please go ahead"}))
    assert "__interrupt__" not in done and len(DONE) == 1
    assert DONE[0]["key"] == shown and DONE[0]["amount"] == "200.00"
    assert "Moved $200.00." in last_text(done)


def test_typed_refusal_declines_and_runs_nothing() -> None:
    DONE.clear()
    graph = toy_graph()
    run_turn(graph, "typed-2", ASK)
    done = run_turn(graph, "typed-2", Command(resume={"text": "no, don't"}))
    assert "__interrupt__" not in done and DONE == []


def test_a_changed_amount_is_proposed_afresh() -> None:
    DONE.clear()
    graph = toy_graph()
    run_turn(graph, "typed-3", ASK)
    again = run_turn(graph, "typed-3", Command(resume={"text": "make it 60"}))
    [pending] = again["__interrupt__"]
    assert pending.value["calls"][0]["args"]["amount"] == "60.00" and DONE == []


def test_a_question_is_answered_and_the_action_offered_again() -> None:
    DONE.clear()
    graph = toy_graph()
    first = run_turn(graph, "typed-4", ASK)["__interrupt__"][0].value["calls"][0]
    held = run_turn(graph, "typed-4", Command(resume={"text": "hang on, what's my balance?"}))
    assert "$2,450.00" in "\n".join(str(m.content) for m in held["messages"][-4:])
    [pending] = held["__interrupt__"]
    call = pending.value["calls"][0]
    assert call["args"] == first["args"] and call["id"] != first["id"] and DONE == []
    run_turn(graph, "typed-4", Command(resume={"approve": True}))
    assert len(DONE) == 1 and DONE[0]["key"] == call["id"]


def test_a_question_typed_with_the_approval_is_answered_after_the_action_runs() -> None:
    DONE.clear()
    graph = toy_graph()
    run_turn(graph, "typed-5", ASK)
    done = run_turn(graph, "typed-5", Command(resume={"text": "yes, and what's my balance?"}))
    assert "__interrupt__" not in done and len(DONE) == 1
    texts = [str(m.content) for m in done["messages"]]
    moved = max(i for i, t in enumerate(texts) if "Moved $200.00." in t)
    asked = max(i for i, t in enumerate(texts) if t == "what's my balance?")
    # the result is told first, then the question is the customer's and is answered
    assert moved < asked and "$2,450.00" in "\n".join(texts[asked:])
    assert not done.get("asked_after")
    later = run_turn(graph, "typed-5", {"messages": [("user", "thanks")]})
    assert len(DONE) == 1 and "what's my balance?" not in last_text(later)


def test_a_plain_yes_asks_nothing_after() -> None:
    DONE.clear()
    graph = toy_graph()
    run_turn(graph, "typed-6", ASK)
    done = run_turn(graph, "typed-6", Command(resume={"text": "yes please"}))
    assert len(DONE) == 1 and "Moved $200.00." in last_text(done)
    assert [m for m in done["messages"] if m.type == "human"][-1].content == ASK["messages"][0][1]


def test_ok_before_a_question_answers_it_and_runs_nothing() -> None:
    DONE.clear()
    graph = toy_graph()
    run_turn(graph, "typed-7", ASK)
    held = run_turn(graph, "typed-7", Command(resume={"text": "ok, what's my balancce?"}))
    assert DONE == [] and held["__interrupt__"]
