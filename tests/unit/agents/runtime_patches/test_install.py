"""The runtime patches of LangGraph and LangChain: every name they need, checked loudly.

An upgrade that removes or renames a private helper must stop the process at start-up with
the symbol's name, not leave it half-patched or silently slower.
"""

from __future__ import annotations

import importlib
import tomllib
from importlib.metadata import version

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from packaging.requirements import Requirement

from agents import runtime_patches
from agents.runtime_patches import PATCHED, PatchTargetMissing
from agents.runtime_patches.checkpoints import RememberingSerde
from tests.support import ROOT


def test_every_patched_name_exists_in_the_installed_libraries() -> None:
    assert runtime_patches.missing() == []
    runtime_patches.check()


@pytest.mark.parametrize(("module", "path"), PATCHED, ids=[f"{m}.{p}" for m, p in PATCHED])
def test_a_removed_name_stops_install_and_is_named(
    monkeypatch: pytest.MonkeyPatch, module: str, path: str
) -> None:
    owner = importlib.import_module(module)
    *parents, name = path.split(".")
    for part in parents:
        owner = getattr(owner, part)
    monkeypatch.delattr(owner, name)
    with pytest.raises(PatchTargetMissing, match=f"{module}.{path}".replace(".", r"\.")):
        runtime_patches.install()
    assert runtime_patches.missing() == [f"{module}.{path}"]


def test_a_missing_module_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime_patches, "PATCHED", (("langgraph.no_such_module", "helper"),))
    with pytest.raises(PatchTargetMissing, match=r"langgraph\.no_such_module\.helper"):
        runtime_patches.check()


def test_install_points_the_libraries_at_the_patches() -> None:
    import langgraph.prebuilt.tool_node as tool_node
    import langgraph.pregel._executor as pregel_executor

    from agents.runtime_patches import signatures, thread_pool

    runtime_patches.install()
    runtime_patches.install()  # idempotent
    assert pregel_executor.get_executor_for_config is thread_pool._run_executor
    assert tool_node.get_executor_for_config is thread_pool._inline_executor
    assert set(signatures._ORIGINALS) == {"parameters", "hints", "task_path"}


def test_prepare_saver_wraps_once_and_returns_the_saver() -> None:
    saver = InMemorySaver()
    assert runtime_patches.prepare_saver(saver) is saver
    inner = saver.serde
    assert isinstance(inner, RememberingSerde)
    runtime_patches.prepare_saver(saver)
    assert saver.serde is inner  # not wrapped twice


@pytest.mark.parametrize("package", ["langgraph", "langgraph-checkpoint", "langchain-core"])
def test_the_installed_version_is_within_the_pinned_range(package: str) -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pins = [Requirement(r) for r in config["project"]["dependencies"]]
    pin = next(r for r in pins if r.name == package)
    assert pin.specifier, f"{package} has no version range in pyproject.toml"
    assert pin.specifier.contains(version(package)), (package, str(pin.specifier))
