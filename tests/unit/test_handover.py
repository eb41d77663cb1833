"""A turn's state check and its run read the conversation's checkpoint from the store once."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt

from agents.handover import one_load, share_loads


class State(TypedDict):
    said: Annotated[list[str], operator.add]


def _graph(saver: Any) -> Any:
    def speak(state: State) -> dict[str, Any]:
        return {"said": [f"reply {len(state['said'])}"]}

    def ask(state: State) -> dict[str, Any]:
        answer = interrupt("sure?")
        return {"said": [f"answer {answer}"]}

    graph = StateGraph(State)
    graph.add_node("speak", speak)
    graph.add_node("ask", ask)
    graph.add_edge(START, "speak")
    graph.add_conditional_edges(
        "speak", lambda s: "ask" if s["said"][-2:-1] == ["ask me"] else END, ["ask", END]
    )
    graph.add_edge("ask", END)
    return graph.compile(checkpointer=saver)


class Counting(InMemorySaver):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def get_tuple(self, config: Any) -> Any:
        self.reads += 1
        return super().get_tuple(config)


def _turn(graph: Any, thread: str, payload: Any) -> tuple[Any, dict[str, Any]]:
    config = {"configurable": {"thread_id": thread}}
    with one_load():
        state = graph.get_state(config)
        return state, graph.invoke(payload, config)


def test_inside_one_load_the_state_check_and_the_run_read_the_store_once() -> None:
    saver = Counting()
    graph = _graph(share_loads(saver))
    _turn(graph, "t", {"said": ["hello"]})
    before = saver.reads
    state, result = _turn(graph, "t", {"said": ["again"]})
    assert saver.reads - before == 1
    assert state.values["said"] == ["hello", "reply 1"]
    assert result["said"] == ["hello", "reply 1", "again", "reply 3"]


def test_outside_one_load_every_read_goes_to_the_store() -> None:
    saver = Counting()
    graph = _graph(share_loads(saver))
    config = {"configurable": {"thread_id": "t"}}
    graph.invoke({"said": ["hello"]}, config)
    before = saver.reads
    graph.get_state(config)
    graph.invoke({"said": ["again"]}, config)
    assert saver.reads - before == 2


def test_runs_with_and_without_the_handover_leave_the_same_conversation() -> None:
    shared, plain = _graph(share_loads(InMemorySaver())), _graph(InMemorySaver())
    script: list[Any] = [{"said": ["hi"]}, {"said": ["ask me"]}, Command(resume="yes")]
    script += [{"said": ["ask me"]}, Command(resume="no"), {"said": ["bye"]}]
    for payload in script:
        _, one = _turn(shared, "t", payload)
        config = {"configurable": {"thread_id": "t"}}
        plain.get_state(config)
        two = plain.invoke(payload, config)
        assert one["said"] == two["said"]
        assert _asked(one) == _asked(two)
        pending_one = _graph_state(shared)
        pending_two = _graph_state(plain)
        assert pending_one == pending_two


def _asked(result: dict[str, Any]) -> list[Any]:
    return [i.value for i in result.get("__interrupt__", [])]


def _graph_state(graph: Any) -> tuple[Any, ...]:
    state = graph.get_state({"configurable": {"thread_id": "t"}})
    return state.values["said"], state.next, [i.value for i in state.interrupts]


def test_a_handed_over_checkpoint_is_a_copy_the_first_reader_cannot_change() -> None:
    saver = share_loads(InMemorySaver())
    graph = _graph(saver)
    graph.invoke({"said": ["hi"]}, {"configurable": {"thread_id": "t"}})
    config = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}
    with one_load():
        first = saver.get_tuple(config)
        first.checkpoint["channel_versions"]["said"] = "changed"
        first.checkpoint["channel_values"]["said"] = ["changed"]
        second = saver.get_tuple(config)
    assert second is not first
    assert second.checkpoint["channel_versions"]["said"] != "changed"
    assert second.checkpoint["channel_values"]["said"] == ["hi", "reply 1"]


def test_a_named_checkpoint_is_always_read_from_the_store() -> None:
    saver = Counting()
    graph = _graph(share_loads(saver))
    graph.invoke({"said": ["hi"]}, {"configurable": {"thread_id": "t"}})
    latest = saver.get_tuple({"configurable": {"thread_id": "t", "checkpoint_ns": ""}})
    named = {
        "configurable": {"thread_id": "t", "checkpoint_ns": "", **latest.config["configurable"]}
    }
    before = saver.reads
    with one_load():
        saver.get_tuple(named)
        saver.get_tuple(named)
    assert saver.reads - before == 2


def test_sharing_loads_twice_wraps_the_saver_once() -> None:
    saver = Counting()
    share_loads(share_loads(saver))
    with one_load():
        saver.get_tuple({"configurable": {"thread_id": "x"}})
    assert saver.reads == 1
