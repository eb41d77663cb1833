"""The graph's background work: tools and checkpoint saves in the run's thread, no pool per run."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from datetime import UTC, datetime

import pytest
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.prebuilt import ToolRuntime
from langgraph.types import Command

from agents import runtime_patches
from agents.graph import compile_graph
from agents.offline.model import OfflineChatModel
from agents.runtime_patches.thread_pool import InlineExecutor, RunExecutor, shared_pool
from agents.state import ChatContext
from tests.support.chat_kit import CTX, Keywords

SEEN: list[str] = []
NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


@tool
def get_accounts(runtime: ToolRuntime[ChatContext]) -> str:
    """The customer's accounts and balances."""
    SEEN.append(threading.current_thread().name)
    return '{"accounts": [{"name": "Everyday", "last4": "4821", "balance": "2450.00"}]}'


class CountingSaver(InMemorySaver):
    """Remembers which thread saved each checkpoint."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[str] = []

    def put(self, config, checkpoint, metadata, new_versions):  # type: ignore[no-untyped-def]
        self.threads.append(threading.current_thread().name)
        return super().put(config, checkpoint, metadata, new_versions)


def _graph(saver: CountingSaver):  # type: ignore[no-untyped-def]
    runtime_patches.install()  # as the composition root does before it compiles the graph
    return compile_graph(
        model=OfflineChatModel(classifier=Keywords()),
        tools=[get_accounts],
        customer_context=lambda c: CTX,
        checkpointer=saver,
    )


def test_tools_and_checkpoint_saves_run_in_the_runs_thread_and_start_no_threads() -> None:
    saver = CountingSaver()
    graph = _graph(saver)
    context = ChatContext(person_id=7, bank=None, now=NOW)
    graph.invoke(
        {"messages": [("user", "balance")]}, {"configurable": {"thread_id": "w"}}, context=context
    )  # warm
    SEEN.clear()
    saver.threads.clear()
    before = {t.ident for t in threading.enumerate()}
    runner = threading.current_thread().name
    for i in range(10):
        config = {"configurable": {"thread_id": f"t{i}"}}
        graph.invoke({"messages": [("user", "what's my balance")]}, config, context=context)
    started = {t.ident for t in threading.enumerate()} - before
    assert SEEN == [runner] * 10
    assert saver.threads and set(saver.threads) == {runner}
    assert started == set()  # no thread pool was started for any run


def test_inline_executor_hands_back_results_and_errors_through_futures() -> None:
    ok = InlineExecutor().submit(lambda x: x * 2, 21)
    assert ok.done() and ok.result() == 42

    def broken() -> None:
        raise ValueError("tool broke")

    failed = InlineExecutor().submit(broken)
    assert isinstance(failed, Future) and failed.done()
    with pytest.raises(ValueError, match="tool broke"):
        failed.result()
    assert list(InlineExecutor().map(lambda x: x + 1, [1, 2, 3])) == [2, 3, 4]


def test_work_that_is_not_a_checkpoint_save_goes_to_the_shared_pool() -> None:
    gate = threading.Event()
    names: list[str] = []

    def wait_for_gate() -> str:
        names.append(threading.current_thread().name)
        return "opened" if gate.wait(5) else "timed out"

    # submitted the way LangGraph does: ctx.run, fn, *args; this must not run inline, or the
    # caller could never open the gate
    import contextvars

    pending = RunExecutor().submit(contextvars.copy_context().run, wait_for_gate)
    gate.set()
    assert pending.result(timeout=10) == "opened"
    assert names and names[0].startswith("graph")
    assert shared_pool() is shared_pool()


def test_a_resumed_write_still_saves_its_checkpoint_inline() -> None:
    saver = CountingSaver()
    graph = _graph(saver)
    context = ChatContext(person_id=7, bank=None, now=NOW)
    config = {"configurable": {"thread_id": "r"}}
    graph.invoke({"messages": [("user", "balance")]}, config, context=context)
    state = graph.get_state(config)
    assert state.values["messages"]  # the checkpoint was saved and reads back
    graph.invoke(Command(resume={"approve": False}), config, context=context)
    assert set(saver.threads) == {threading.current_thread().name}
