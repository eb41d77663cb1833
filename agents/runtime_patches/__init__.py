"""Speed patches of LangGraph's and LangChain's internals, installed by one explicit call.

A chat turn is CPU-bound Python; three places in the libraries cost it dearly under a server's
load, and each is replaced here with something that gives the same results faster:

* :mod:`.signatures` — signatures and type hints LangChain and LangGraph inspect on every
  call, remembered per function;
* :mod:`.thread_pool` — LangGraph's per-run thread pools and the tool node's per-batch pool
  replaced with inline execution and one shared pool;
* :mod:`.checkpoints` — a checkpoint read once per turn, and the checkpoints a process wrote
  not decoded again (a wrapper of the saver and its serializer).

They reach private names, which a library upgrade may remove or change. :data:`PATCHED`
lists every one; :func:`install` checks them all first and refuses with
:class:`PatchTargetMissing`, naming the symbol, instead of running half-patched. The
composition root (``app.bootstrap``) calls :func:`install` and :func:`prepare_saver`; the
dependency range in ``pyproject.toml`` is the one these were verified on.
"""

from __future__ import annotations

import importlib
from typing import Any

from agents.runtime_patches.checkpoints import remember_writes, share_loads
from agents.runtime_patches.signatures import remember_signatures
from agents.runtime_patches.thread_pool import share_thread_pool

# (module, attribute path): every private name the patches replace or read.
PATCHED: tuple[tuple[str, str], ...] = (
    ("langchain_core.utils._signature", "_signature_parameters"),
    ("langchain_core.tools.base", "_get_type_hints"),
    ("langgraph.pregel._checkpoint", "put_writes_accepts_task_path"),
    ("langgraph.pregel._executor", "get_executor_for_config"),
    ("langgraph.prebuilt.tool_node", "get_executor_for_config"),
    ("langgraph.pregel._loop", "SyncPregelLoop._checkpointer_put_after_previous"),
    ("langgraph.checkpoint.serde.jsonplus", "_msgpack_default"),
    ("langgraph.checkpoint.serde.jsonplus", "_option"),
    ("langgraph.checkpoint.serde.jsonplus", "JsonPlusSerializer"),
)


class PatchTargetMissing(RuntimeError):
    """A name a runtime patch needs is gone from the installed library."""


def missing() -> list[str]:
    """The ``module.attribute`` of every patched name the installed libraries lack."""
    gone = []
    for module_name, path in PATCHED:
        try:
            found: Any = importlib.import_module(module_name)
        except ImportError:
            gone.append(f"{module_name}.{path}")
            continue
        for part in path.split("."):
            found = getattr(found, part, None)
            if found is None:
                gone.append(f"{module_name}.{path}")
                break
    return gone


def check() -> None:
    """Refuse to patch libraries that no longer have what the patches replace.

    Raises:
        PatchTargetMissing: naming every missing symbol.
    """
    gone = missing()
    if gone:
        raise PatchTargetMissing(
            "the runtime patches (agents.runtime_patches) need names this LangGraph/LangChain "
            f"no longer has: {', '.join(gone)}; install the versions pyproject.toml pins"
        )


def install() -> None:
    """Install the process-wide patches (idempotent), after :func:`check`."""
    check()
    share_thread_pool()
    remember_signatures()


def prepare_saver(saver: Any) -> Any:
    """``saver`` reading a thread once per turn and not decoding what it wrote (idempotent)."""
    share_loads(saver)  # a turn's state check and its run read the thread once
    remember_writes(saver)  # and the next turn does not decode what this one wrote
    return saver


__all__ = ["PATCHED", "PatchTargetMissing", "check", "install", "missing", "prepare_saver"]
