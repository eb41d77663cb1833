"""Every tool takes its run context by injection: never an argument the model can write."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from langgraph.prebuilt import ToolRuntime

from tools.registry import all_tools
from tools.runtime import ChatContext


def _runtime() -> ToolRuntime[ChatContext]:
    heavy: dict[str, Any] = {"messages": [object()] * 10}  # dumping it would fail loudly
    return ToolRuntime(
        state=heavy,
        context=ChatContext(person_id=1, bank=object(), now=datetime(2026, 11, 28, tzinfo=UTC)),
        config={},
        stream_writer=lambda _: None,
        tool_call_id="call-1",
        store=None,
    )


def test_no_tool_shows_its_runtime_to_the_model() -> None:
    for tool in all_tools():
        shown = set(tool.tool_call_schema.model_fields)
        assert "runtime" not in shown, tool.name
        assert not {"person_id", "customer_id", "bank"} & shown, tool.name


def test_the_injected_runtime_is_validated_without_being_dumped() -> None:
    runtime = _runtime()
    for tool in all_tools():
        fields = tool.args_schema.model_fields  # type: ignore[union-attr]
        if "runtime" not in fields:
            continue
        args = {
            name: None
            for name, field in fields.items()
            if name != "runtime" and field.is_required()
        }
        model = tool.args_schema.model_construct(**args, runtime=runtime)  # type: ignore[union-attr]
        assert model.runtime is runtime
        assert model.model_dump()["runtime"] is None, tool.name
