"""A turn's state check and its run read the conversation's checkpoint from the store once."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt

from agents.runtime_patches.checkpoints import (
    RememberingSerde,
    one_load,
    remember_writes,
    share_loads,
)


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


# --- across turns: RememberingSerde -------------------------------------------------------


class CountingSerde:
    """JsonPlusSerializer, counting the msgpack values it really decodes."""

    def __init__(self) -> None:
        from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

        self.plain = JsonPlusSerializer()
        self.decoded = 0

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        return self.plain.dumps_typed(obj)

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        if data[0] == "msgpack":
            self.decoded += 1
        return self.plain.loads_typed(data)


def _sqlite_saver() -> Any:
    import sqlite3

    from langgraph.checkpoint.sqlite import SqliteSaver

    return SqliteSaver(sqlite3.connect(":memory:", check_same_thread=False))


SAVERS = {"memory": InMemorySaver, "sqlite": _sqlite_saver}


def _counted(kind: str) -> tuple[Any, CountingSerde]:
    saver = SAVERS[kind]()
    counting = CountingSerde()
    saver.serde = counting
    return saver, counting


@pytest.mark.parametrize("kind", sorted(SAVERS))
def test_a_turn_does_not_decode_the_checkpoint_the_last_turn_wrote(kind: str) -> None:
    saver, counting = _counted(kind)
    graph = _graph(remember_writes(saver, min_bytes=0))
    config = {"configurable": {"thread_id": "t"}}
    graph.invoke({"said": ["hi"]}, config)
    before = counting.decoded
    result = graph.invoke({"said": ["again"]}, config)
    assert result["said"] == ["hi", "reply 1", "again", "reply 3"]
    assert counting.decoded == before  # every large value read back was one it wrote


@pytest.mark.parametrize("kind", sorted(SAVERS))
def test_conversations_with_and_without_remembering_are_the_same(kind: str) -> None:
    remembering = _graph(remember_writes(SAVERS[kind](), min_bytes=0))
    plain = _graph(SAVERS[kind]())
    script: list[Any] = [{"said": ["hi"]}, {"said": ["ask me"]}, Command(resume="yes")]
    script += [{"said": ["ask me"]}, Command(resume="no"), {"said": ["bye"]}]
    config = {"configurable": {"thread_id": "t"}}
    for payload in script:
        one, two = remembering.invoke(payload, config), plain.invoke(payload, config)
        assert one["said"] == two["said"]
        assert _asked(one) == _asked(two)
        assert _graph_state(remembering) == _graph_state(plain)


def _checkpoint() -> dict[str, Any]:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

    messages = [
        SystemMessage("You are talking to Ada. " * 20, id="ctx"),
        HumanMessage("what's my balance?", id="h1"),
        AIMessage("", tool_calls=[{"name": "accounts", "args": {"k": 1}, "id": "c1"}], id="a1"),
        ToolMessage('{"accounts": [{"balance": "12.50"}]}', tool_call_id="c1", id="t1"),
        AIMessage("You have $12.50 in checking.", id="a2"),
    ]
    return {
        "v": 4,
        "ts": "2026-12-04T00:00:00+00:00",
        "id": "1",
        "channel_values": {"messages": messages},
        "channel_versions": {"messages": "00000000000000000000000000000002.0.5"},
        "versions_seen": {"agent": {"messages": "00000000000000000000000000000001.0.1"}},
        "pending_sends": [],
        "updated_channels": ["messages"],
    }


def test_what_it_hands_back_equals_a_decode_and_is_a_copy() -> None:
    counting = CountingSerde()
    serde = RememberingSerde(counting)
    written = _checkpoint()
    kind, data = serde.dumps_typed(written)
    written["channel_values"]["messages"].append("changed after writing")
    first = serde.loads_typed((kind, bytes(data)))
    assert counting.decoded == 0
    assert first == counting.plain.loads_typed((kind, data))  # as if decoded
    first["channel_values"]["messages"].clear()
    first["channel_versions"]["messages"] = "changed"
    first["versions_seen"]["agent"]["messages"] = "changed"
    second = serde.loads_typed((kind, memoryview(data)))
    assert second == counting.plain.loads_typed((kind, data))
    assert counting.decoded == 0


def test_bytes_it_never_saw_are_decoded_once_then_remembered() -> None:
    writer = CountingSerde()
    kind, data = writer.dumps_typed(_checkpoint())  # another process wrote these
    counting = CountingSerde()
    serde = RememberingSerde(counting)
    assert serde.loads_typed((kind, data)) == _checkpoint()
    assert serde.loads_typed((kind, data)) == _checkpoint()
    assert counting.decoded == 1


def _write_many(serde: RememberingSerde, count: int) -> list[tuple[str, bytes]]:
    """``count`` checkpoints written, each with its own id (so its own bytes)."""
    written = []
    for n in range(count):
        checkpoint = _checkpoint()
        checkpoint["id"] = str(n)
        written.append(serde.dumps_typed(checkpoint))
    return written


def test_it_keeps_only_the_last_few_and_leaves_small_values_alone() -> None:
    counting = CountingSerde()
    serde = RememberingSerde(counting, size=2, min_bytes=100)
    written = _write_many(serde, 3)
    assert len(serde) == 2
    serde.loads_typed(written[0])  # forgotten: decoded again
    assert counting.decoded == 1
    serde.loads_typed(written[2])
    assert counting.decoded == 1
    small = serde.dumps_typed(["a"])
    assert serde.loads_typed(small) == ["a"]
    assert counting.decoded == 2
    assert serde.loads_typed(serde.dumps_typed(None)) is None


def test_remembering_wraps_a_saver_once_and_keeps_the_inner_interface() -> None:
    saver = InMemorySaver()
    inner = saver.serde
    remember_writes(remember_writes(saver))
    assert isinstance(saver.serde, RememberingSerde)
    assert saver.serde.inner is inner
    assert saver.serde.with_msgpack_allowlist == inner.with_msgpack_allowlist


def test_it_keeps_at_most_max_bytes_and_no_single_huge_value() -> None:
    counting = CountingSerde()
    one = len(counting.dumps_typed(_checkpoint())[1])
    serde = RememberingSerde(counting, size=100, max_bytes=8 * one + 64)
    written = _write_many(serde, 12)
    assert len(serde) == 8
    assert serde.held_bytes <= serde.max_bytes
    serde.loads_typed(written[-1])
    assert counting.decoded == 0
    huge = _checkpoint()
    huge["channel_values"]["messages"] = huge["channel_values"]["messages"] * 3
    typed = serde.dumps_typed(huge)
    assert len(typed[1]) > serde.max_bytes // 8
    assert len(serde) == 8  # not kept
    serde.loads_typed(typed)
    assert counting.decoded == 1


def test_messages_are_encoded_once_and_the_bytes_are_langgraphs_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from langchain_core.messages import HumanMessage
    from langgraph.checkpoint.serde import jsonplus

    calls: list[Any] = []
    original = jsonplus._msgpack_default

    def counted(value: Any) -> Any:
        calls.append(value)
        return original(value)

    monkeypatch.setattr(jsonplus, "_msgpack_default", counted)
    plain = jsonplus.JsonPlusSerializer()
    serde = RememberingSerde(jsonplus.JsonPlusSerializer())
    checkpoint = _checkpoint()
    assert serde.dumps_typed(checkpoint) == plain.dumps_typed(checkpoint)
    later = _checkpoint()
    new = HumanMessage("thanks", id="h2")
    later["channel_values"]["messages"] = [*checkpoint["channel_values"]["messages"], new]
    calls.clear()
    written = serde.dumps_typed(later)
    assert [id(c) for c in calls] == [id(new)]  # only the new message was encoded
    assert written == plain.dumps_typed(later)


def test_values_langgraph_cannot_pack_fail_as_they_would_without_it() -> None:
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    class Opaque:
        __slots__ = ()

    for serde in (JsonPlusSerializer(), RememberingSerde(JsonPlusSerializer())):
        with pytest.raises(TypeError):
            serde.dumps_typed({"x": Opaque()})


def test_another_serializer_inside_is_used_as_it_is() -> None:
    counting = CountingSerde()
    serde = RememberingSerde(counting)
    written = serde.dumps_typed(_checkpoint())
    assert written == counting.plain.dumps_typed(_checkpoint())
    assert not serde._packs
