"""Where the graph's background work runs: in the calling thread when it can, else one pool.

LangGraph starts a fresh thread pool for every run (it saves checkpoints through it) and its
tool node another for every batch of tool calls. Under a server's load that cost a chat turn
dearly: starting threads, and handing work between threads that all want the one interpreter
lock. :func:`share_thread_pool` changes two things, process-wide:

* the tool node runs its calls one after another in the run's own thread (the tools are
  database reads and writes; threads bought no parallelism, only hand-offs);
* a run's checkpoint saves run in the run's own thread (as ``durability="sync"`` would), and
  anything else LangGraph submits goes to one long-lived pool instead of a new one per run.

The pool's work is leaf work that never waits on other pool work, so sharing cannot deadlock;
it is sized well above the number of runs a process holds at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from typing import Any

from langchain_core.runnables.config import ContextThreadPoolExecutor
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.pregel._loop import SyncPregelLoop

WORKERS = 64

_pool: ContextThreadPoolExecutor | None = None
_lock = threading.Lock()


def shared_pool() -> ContextThreadPoolExecutor:
    """The process-wide pool (created on first use)."""
    global _pool
    with _lock:
        if _pool is None:
            _pool = ContextThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="graph")
        return _pool


def _now(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future[Any]:
    done: Future[Any] = Future()
    try:
        done.set_result(fn(*args, **kwargs))
    except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
        done.set_exception(exc)
    return done


class InlineExecutor(Executor):
    """Runs each submitted call at once, in the submitting thread."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run ``fn(*args, **kwargs)`` now; a finished future with its result or error."""
        return _now(fn, *args, **kwargs)


def _saves_a_checkpoint(args: tuple[Any, ...]) -> bool:
    # LangGraph submits ``ctx.run, fn, *args``: fn is what it wants done -- a saver's own
    # method (pending writes), or the loop's "save after the previous save" (whose previous
    # saves, all run inline, are done by then)
    fn = args[0] if args else None
    if isinstance(getattr(fn, "__self__", None), BaseCheckpointSaver):
        return True
    return getattr(fn, "__func__", None) is SyncPregelLoop._checkpointer_put_after_previous


class RunExecutor(Executor):
    """A run's executor: checkpoint saves inline, anything else on the shared pool."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Save checkpoints now; hand other work to :func:`shared_pool`."""
        if _saves_a_checkpoint(args):
            return _now(fn, *args, **kwargs)
        return shared_pool().submit(fn, *args, **kwargs)


@contextmanager
def _run_executor(config: Any) -> Iterator[Executor]:
    yield RunExecutor()


@contextmanager
def _inline_executor(config: Any) -> Iterator[Executor]:
    yield InlineExecutor()


def share_thread_pool() -> None:
    """Point LangGraph's runs and tool node at these executors (idempotent)."""
    import langgraph.prebuilt.tool_node as tool_node
    import langgraph.pregel._executor as pregel_executor

    pregel_executor.get_executor_for_config = _run_executor
    tool_node.get_executor_for_config = _inline_executor
