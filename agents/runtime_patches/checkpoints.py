"""One checkpoint read per chat turn: the state a turn checks is the state its run starts from.

A chat turn first reads the conversation's state (is an approval waiting? how many messages
are there?) and then runs the graph, which reads the same checkpoint again from the saver —
the whole conversation, deserialised twice in a row. Inside :func:`one_load`, a
saver prepared with :func:`share_loads` keeps a copy of the latest checkpoint it read for a
thread and hands it to the next read of that thread's latest checkpoint, once; every other
read (a named checkpoint, a second run, anything outside the block) goes to the store as
before.

The copy is taken before the first reader sees the tuple (LangGraph applies pending writes
to the checkpoint it reads), with LangGraph's own ``copy_checkpoint``; the messages inside
are shared, as LangGraph never changes a stored message in place.

Across turns, a saver prepared with :func:`remember_writes` does not decode what this process
encoded: the checkpoint a turn ends with is the one the next turn of that conversation starts
from (see :class:`RememberingSerde`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import ormsgpack
from langchain_core.messages import BaseMessage
from langgraph.checkpoint.base import CheckpointTuple, copy_checkpoint
from langgraph.checkpoint.serde import jsonplus

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


# --- across turns: what this process wrote is not decoded again ---------------------------


def _fresh(value: Any) -> Any:
    """``value`` with every dict and list in it copied; anything else (a message) shared.

    LangGraph changes a checkpoint's versions and channel lists in place as a run goes on, but
    never a stored message.
    """
    if type(value) is dict:
        return {k: _fresh(v) for k, v in value.items()}
    if type(value) is list:
        return [_fresh(v) for v in value]
    return value


def _rememberable(value: Any) -> bool:
    # a checkpoint (whole, or without its values) or a channel's value
    return type(value) is dict or type(value) is list


class RememberingSerde:
    """A checkpoint serializer that knows the objects behind the bytes it last wrote or read.

    Every turn reads the conversation's latest checkpoint and decodes all of it — the whole
    conversation, though this same process encoded it at the end of the previous turn. This
    wrapper keeps, for the last ``size`` large dicts and lists (a checkpoint, a channel's
    messages; at most ``max_bytes`` of them encoded) it encoded or decoded, the object behind
    the bytes; when exactly those bytes come back it hands out a copy (:func:`_fresh`) instead
    of decoding them. Keyed by the bytes themselves, it cannot serve anything but what the
    store holds, whichever process wrote it; other values, small ones and other encodings go
    to ``inner`` as before.
    """

    def __init__(
        self,
        inner: Any,
        *,
        size: int = 512,
        min_bytes: int = 1024,
        max_bytes: int = 32 * 1024 * 1024,
    ) -> None:
        self.inner, self.size, self.min_bytes, self.max_bytes = inner, size, min_bytes, max_bytes
        self._kept: OrderedDict[bytes, Any] = OrderedDict()
        self._held = 0  # bytes of the keys kept (the objects behind them take a few times more)
        self._lock = threading.Lock()
        self._packs = _packer_for(inner)
        if self._packs:  # LangGraph's own encoding of one value, and its packing options
            self._base_default, self._option = jsonplus._msgpack_default, jsonplus._option
        # a message's encoding, by the message (held, so its id is not reused while kept)
        self._encoded: OrderedDict[int, tuple[Any, Any]] = OrderedDict()

    def __getattr__(self, name: str) -> Any:  # the rest of the inner serializer's interface
        if name == "inner":  # not set yet (a copy being made): no recursion
            raise AttributeError(name)
        return getattr(self.inner, name)

    def __len__(self) -> int:
        return len(self._kept)

    @property
    def held_bytes(self) -> int:
        """The size of the encoded values remembered (at most ``max_bytes``)."""
        return self._held

    def _keep(self, data: bytes, value: Any) -> None:
        if len(data) > self.max_bytes // 8:  # one huge conversation does not flush the rest
            return
        with self._lock:
            if data not in self._kept:
                self._held += len(data)
            self._kept[data] = value
            self._kept.move_to_end(data)
            while len(self._kept) > self.size or self._held > self.max_bytes:
                gone, _ = self._kept.popitem(last=False)
                self._held -= len(gone)

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        """``inner.dumps_typed(obj)``, remembering a copy of a large dict or list.

        The messages of a conversation are encoded again at the end of every turn, though
        only the new ones changed: with LangGraph's own serializer inside, each message's
        encoding is kept (by the message object, which is never changed once stored) and
        reused, giving the very bytes ``inner`` would.
        """
        rememberable = _rememberable(obj)
        kind, data = self._pack(obj) if self._packs and rememberable else (None, b"")
        if kind is None:
            kind, data = self.inner.dumps_typed(obj)
        if kind == "msgpack" and len(data) >= self.min_bytes and rememberable:
            self._keep(bytes(data), _fresh(obj))
        return kind, data

    def _pack(self, obj: Any) -> tuple[str | None, bytes]:
        try:
            return "msgpack", ormsgpack.packb(obj, default=self._default, option=self._option)
        except ormsgpack.MsgpackEncodeError:
            return None, b""  # the inner serializer decides (it may fall back to pickle)

    def _default(self, value: Any) -> Any:
        if not isinstance(value, BaseMessage):
            return self._base_default(value)
        key = id(value)
        kept = self._encoded.get(key)  # a dict read is atomic; the order is kept under the lock
        if kept is not None and kept[0] is value:
            with self._lock:
                if key in self._encoded:
                    self._encoded.move_to_end(key)
            return kept[1]
        encoded = self._base_default(value)
        with self._lock:
            self._encoded[key] = (value, encoded)
            while len(self._encoded) > self.size * 16:  # about the messages of `size` chats
                self._encoded.popitem(last=False)
        return encoded

    def loads_typed(self, data: tuple[str, bytes | memoryview]) -> Any:
        """A copy of what these bytes were made from, else ``inner.loads_typed(data)``."""
        kind, raw = data
        if kind != "msgpack" or len(raw) < self.min_bytes:
            return self.inner.loads_typed(data)
        key = bytes(raw)  # the Postgres driver may hand a memoryview
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None:
                self._kept.move_to_end(key)
        if kept is not None:
            return _fresh(kept)
        found = self.inner.loads_typed(data)
        if _rememberable(found):
            self._keep(key, _fresh(found))
        return found


def _packer_for(inner: Any) -> bool:
    """Whether ``inner`` is LangGraph's own serializer, whose encoding this module can repeat."""
    return (
        type(inner) is jsonplus.JsonPlusSerializer
        and callable(getattr(jsonplus, "_msgpack_default", None))
        and hasattr(jsonplus, "_option")
    )


def remember_writes(saver: Any, *, size: int = 512, min_bytes: int = 1024) -> Any:
    """Give ``saver`` a :class:`RememberingSerde` around its serializer (idempotent)."""
    if not isinstance(saver.serde, RememberingSerde):
        saver.serde = RememberingSerde(saver.serde, size=size, min_bytes=min_bytes)
    return saver
