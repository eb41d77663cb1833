"""The remembered signatures answer exactly as LangChain's and LangGraph's own helpers do."""

from __future__ import annotations

import functools
import inspect
from typing import Annotated, Any

import langchain_core.language_models.chat_models as chat_models
import langchain_core.tools.base as tools_base
import langgraph.pregel._loop as pregel_loop
from langchain_core.tools import InjectedToolArg, tool

from agents.runtime_patches.signatures import _ORIGINALS, remember_signatures


def plain(a: int, run_manager: Any = None) -> int:
    return a


def other(b: str, *, config: Any = None) -> str:
    return b


class Model:
    def _generate(self, messages: list[str], run_manager: Any = None) -> None:
        return None

    def plain_method(self, messages: list[str]) -> None:
        return None


class Unhashable:
    __hash__ = None  # type: ignore[assignment]

    def __call__(self, x: int, run_manager: Any = None) -> int:
        return x


def _installed() -> None:
    remember_signatures()
    assert _ORIGINALS, "remember_signatures installed nothing"


def test_every_module_using_the_helpers_gets_the_remembering_ones() -> None:
    _installed()
    original = _ORIGINALS["parameters"]
    assert tools_base._signature_parameters is not original
    assert chat_models._signature_parameters is tools_base._signature_parameters
    assert tools_base._get_type_hints is not _ORIGINALS["hints"]
    assert pregel_loop.put_writes_accepts_task_path is not _ORIGINALS["task_path"]


def test_parameters_are_the_same_as_inspect_gives_for_every_kind_of_callable() -> None:
    _installed()
    cached = tools_base._signature_parameters
    one, two = Model(), Model()
    callables = [
        plain,
        other,
        one._generate,
        two._generate,
        one.plain_method,
        functools.partial(plain, 1),
        Model,
        Unhashable(),
    ]
    for _ in range(2):  # the second round is answered from the cache
        for obj in callables:
            assert dict(cached(obj)) == dict(inspect.signature(obj).parameters), obj


def test_a_bound_method_is_inspected_once_for_all_instances() -> None:
    _installed()
    cached = tools_base._signature_parameters
    before = cached.cache_info()  # type: ignore[attr-defined]
    for _ in range(5):
        assert "run_manager" in cached(Model()._generate)
    after = cached.cache_info()  # type: ignore[attr-defined]
    assert after.misses - before.misses <= 1
    assert after.hits - before.hits >= 4
    # and a different method of the same class is not answered with the first one's
    assert "run_manager" not in cached(Model().plain_method)


def test_type_hints_equal_the_originals_and_each_caller_gets_its_own_copy() -> None:
    _installed()
    hints = tools_base._get_type_hints
    original = _ORIGINALS["hints"]
    for func in (plain, other, Model()._generate, functools.partial(other, "x")):
        for extras in (False, True):
            assert hints(func, include_extras=extras) == original(func, include_extras=extras)
    first = hints(plain)
    assert first is not None
    first["a"] = str  # a caller that edits its answer ...
    assert hints(plain) == {"a": int, "run_manager": Any, "return": int}  # ... edits only it


def test_tools_with_injected_arguments_still_hide_and_receive_them() -> None:
    _installed()

    @tool
    def lookup(query: str, secret: Annotated[str, InjectedToolArg]) -> str:
        """Look something up."""
        return f"{query}:{secret}"

    for _ in range(2):
        assert "secret" not in lookup.tool_call_schema.model_json_schema()["properties"]
        assert lookup.invoke({"query": "q", "secret": "s"}) == "q:s"


def test_the_saver_question_matches_the_original() -> None:
    _installed()
    from langgraph.checkpoint.memory import InMemorySaver

    saver = InMemorySaver()
    original = _ORIGINALS["task_path"]
    patched = pregel_loop.put_writes_accepts_task_path
    assert patched(saver.put_writes) == original(saver.put_writes)

    def old_style(config: Any, writes: Any, task_id: str) -> None:
        return None

    assert patched(old_style) is False
    assert patched(old_style) == original(old_style)
