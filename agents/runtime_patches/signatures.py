"""Signatures and type hints that LangChain and LangGraph read on every call, read once.

On every model call, tool call and graph run, LangChain asks ``inspect.signature`` whether a
method takes ``run_manager`` or ``config``, resolves a tool function's type hints to find
injected arguments, and LangGraph asks whether the saver's ``put_writes`` takes
``task_path``. The answers depend only on the function, yet computing them was a measurable
share of a chat turn's CPU (docs/performance.md). :func:`remember_signatures` swaps those
three helpers, process-wide, for versions that keep their answer per function:

* ``_signature_parameters(obj)`` — keyed by the function (for a bound method, the function
  it binds: every instance of a class has the same method signature);
* ``_get_type_hints(func, include_extras=…)`` — keyed the same way; only found hints are
  kept (a failure may succeed once a forward reference can be resolved), and each caller
  gets its own copy of the dictionary;
* ``put_writes_accepts_task_path(put_writes)`` — keyed by the saver method's function.

Callables that cannot be keyed (unhashable ones) are inspected every time, as before. The
caches are bounded (least recently used), so callables made per call cannot grow them.
"""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Callable
from typing import Any

CACHE_SIZE = 4096

_ORIGINALS: dict[str, Callable[..., Any]] = {}
_installing = threading.Lock()


def _key(obj: Any) -> tuple[Any, bool] | None:
    """What the answer for ``obj`` depends on: its function, and whether it is bound."""
    func = getattr(obj, "__func__", None)
    if func is not None and getattr(obj, "__self__", None) is not None:
        obj, bound = func, True
    else:
        bound = False
    try:
        hash(obj)
    except TypeError:
        return None
    return obj, bound


class _Unhashed:
    """Carries a value through ``lru_cache`` without making it part of the key."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __hash__(self) -> int:
        return 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Unhashed)


def _remembered(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``original(obj)``, computed once per :func:`_key` of ``obj`` (bounded, LRU)."""

    @functools.lru_cache(maxsize=CACHE_SIZE)
    def by_key(key: tuple[Any, bool], carried: _Unhashed) -> Any:
        # ``carried`` rides along uncompared: the first caller's bound method answers for
        # every instance (the parameters are the function's, less the bound first one)
        return original(carried.value)

    def remembered(obj: Any) -> Any:
        key = _key(obj)
        return original(obj) if key is None else by_key(key, _Unhashed(obj))

    remembered.cache_info = by_key.cache_info  # type: ignore[attr-defined]
    remembered.__wrapped__ = original  # type: ignore[attr-defined]
    return remembered


def _hints_cache(original: Callable[..., dict[str, Any] | None]) -> Callable[..., Any]:
    found: dict[tuple[Any, bool, bool], dict[str, Any]] = {}

    def hints(func: Any, *, include_extras: bool = False) -> dict[str, Any] | None:
        target = func.func if isinstance(func, functools.partial) else func
        key = _key(target)
        if key is None:
            return original(func, include_extras=include_extras)
        full = (*key, include_extras)
        hit = found.get(full)
        if hit is None:
            resolved = original(func, include_extras=include_extras)
            if resolved is None:
                return None
            if len(found) >= CACHE_SIZE:
                found.clear()
            found[full] = hit = resolved
        return dict(hit)

    hints.__wrapped__ = original  # type: ignore[attr-defined]
    return hints


def _swap(module_prefixes: tuple[str, ...], name: str, original: Any, replacement: Any) -> None:
    """Point each loaded module under the prefixes that holds ``original`` at ``replacement``."""
    for module_name, module in list(sys.modules.items()):
        if module is None or not module_name.startswith(module_prefixes):
            continue
        if getattr(module, name, None) is original:
            setattr(module, name, replacement)


def remember_signatures() -> None:
    """Install the caching helpers (idempotent; see the module docstring)."""
    with _installing:
        if not _ORIGINALS:
            _install()


def _install() -> None:
    # import every module that uses the helpers first, so each gets the cached version
    import langchain_core.language_models.chat_models  # noqa: F401
    import langchain_core.runnables.base  # noqa: F401
    import langchain_core.runnables.utils  # noqa: F401
    import langchain_core.tools.base as tools_base
    import langchain_core.tools.simple  # noqa: F401
    import langchain_core.tools.structured  # noqa: F401
    import langchain_core.utils._signature as signature_module
    import langgraph.pregel._checkpoint as checkpoint_module
    import langgraph.pregel._loop  # noqa: F401
    import langgraph.pregel.main  # noqa: F401

    parameters = signature_module._signature_parameters
    hints = tools_base._get_type_hints
    task_path = checkpoint_module.put_writes_accepts_task_path
    _ORIGINALS.update(parameters=parameters, hints=hints, task_path=task_path)

    _swap(
        ("langchain_core", "langchain", "langgraph"),
        "_signature_parameters",
        parameters,
        _remembered(parameters),
    )
    _swap(("langchain_core.tools",), "_get_type_hints", hints, _hints_cache(hints))
    _swap(("langgraph",), "put_writes_accepts_task_path", task_path, _remembered(task_path))
