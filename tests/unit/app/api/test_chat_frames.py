"""A run's messages become AG-UI frames: text in bounded deltas, tool calls with their results."""

from __future__ import annotations

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from app.api.chat import CHUNK, frames_for


def _deltas(frames: list[dict]) -> list[str]:
    return [f["delta"] for f in frames if f["type"] == "TEXT_MESSAGE_CONTENT"]


def test_a_reply_is_one_delta_and_a_long_one_is_split_without_loss() -> None:
    short = AIMessage("Your Everyday account holds $1,234.00.", id="m1")
    frames = frames_for([HumanMessage("balance?"), short], "t", "r")
    assert [f["type"] for f in frames] == [
        "TEXT_MESSAGE_START",
        "TEXT_MESSAGE_CONTENT",
        "TEXT_MESSAGE_END",
    ]
    assert _deltas(frames) == [short.content]
    long_text = "".join(f"line {i}: a long answer from the knowledge base. " for i in range(80))
    parts = _deltas(frames_for([AIMessage(long_text, id="m2")], "t", "r"))
    assert len(parts) == -(-len(long_text) // CHUNK) > 1
    assert all(len(p) <= CHUNK for p in parts) and "".join(parts) == long_text


def test_tool_calls_and_results_are_framed_in_order() -> None:
    call = AIMessage("", tool_calls=[{"name": "get_accounts", "args": {}, "id": "c1"}])
    result = ToolMessage('{"accounts": []}', tool_call_id="c1", name="get_accounts")
    kinds = [f["type"] for f in frames_for([call, result], "t", "r")]
    assert kinds == ["TOOL_CALL_START", "TOOL_CALL_ARGS", "TOOL_CALL_END", "TOOL_CALL_RESULT"]
