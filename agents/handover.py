"""One checkpoint read per chat turn: the state a turn checks is the state its run starts from.

A chat turn first reads the conversation's state (is an approval waiting? how many messages
are there?) and then runs the graph, which reads the same checkpoint again from the saver —
the whole conversation, deserialised twice within a millisecond. Inside :func:`one_load`, a
saver prepared with :func:`share_loads` keeps a copy of the latest checkpoint it read for a
thread and hands it to the next read of that thread's latest checkpoint, once; every other
read (a named checkpoint, a second run, anything outside the block) goes to the store as
before.

The copy is taken before the first reader sees the tuple (LangGraph applies pending writes
to the checkpoint it reads), with LangGraph's own ``copy_checkpoint``; the messages inside
are shared, as LangGraph never changes a stored message in place.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from langgraph.checkpoint.base import CheckpointTuple, copy_checkpoint

Key = tuple[str, str]
_loaded: ContextVar[dict[Key, CheckpointTuple] | None] = ContextVar(
    "concierge_checkpoint_handover", default=None
)
_MARK = "_concierge_shares_loads"


@contextmanager
def one_load() -> Iterator[None]:
    """Within this block, the latest checkpoint of a thread is read from the store once."""
    token = _loaded.set({})
    try:
        yield
    finally:
        _loaded.reset(token)


def _copy(found: CheckpointTuple) -> CheckpointTuple:
    return found._replace(
        checkpoint=copy_checkpoint(found.checkpoint),
        metadata=found.metadata.copy() if found.metadata is not None else None,
        pending_writes=list(found.pending_writes) if found.pending_writes is not None else None,
    )


def share_loads(saver: Any) -> Any:
    """Make ``saver`` hand a latest checkpoint read inside :func:`one_load` on (idempotent)."""
    if getattr(saver, _MARK, False):
        return saver
    read = saver.get_tuple

    def get_tuple(config: Any) -> CheckpointTuple | None:
        kept = _loaded.get()
        conf = (config or {}).get("configurable", {})
        if kept is None or conf.get("checkpoint_id") or "thread_id" not in conf:
            return read(config)
        key = (str(conf["thread_id"]), str(conf.get("checkpoint_ns", "")))
        handed = kept.pop(key, None)
        if handed is not None:
            return handed
        found = read(config)
        if found is not None:
            kept[key] = _copy(found)
        return found

    saver.get_tuple = get_tuple
    setattr(saver, _MARK, True)
    return saver
