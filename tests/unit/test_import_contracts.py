"""Imports point one way and never in a circle: import-linter's contracts in pyproject.toml.

The contracts are the README's architecture made executable; ``make lint`` runs the same
checker. Every import counts, also inside functions and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.support import ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
# Named by the contracts, so a stand-in project needs them too.
SUBPACKAGES = tuple(
    f"services/{name}"
    for name in (
        "banking",
        "events",
        "features",
        "identity",
        "ingest",
        "insights",
        "reads",
        "recommendations",
    )
)


def _contracts() -> list[dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return list(config["tool"]["importlinter"]["contracts"])


def _lint(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_every_contract_of_the_project_is_kept() -> None:
    done = _lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(_contracts())} kept, 0 broken" in done.stdout


def test_the_layers_are_the_ones_the_readme_promises() -> None:
    layers = next(c for c in _contracts() if c["type"] == "layers")
    assert layers["layers"] == ["evals | bench", "app", "agents", "tools", "knowledge", "services"]
    cycles = next(c for c in _contracts() if c["type"] == "acyclic_siblings")
    assert set(cycles["ancestors"]) == {  # type: ignore[arg-type]
        "app",
        "agents",
        "tools",
        "knowledge",
        "services",
        "evals",
        "bench",
    }


def _project(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def _importlinter_section() -> str:
    """The project's own ``[tool.importlinter]`` tables, as text."""
    kept, inside = [], False
    for line in (ROOT / "pyproject.toml").read_text(encoding="utf-8").splitlines():
        if line.startswith("["):
            inside = line.lstrip("[").startswith("tool.importlinter")
        if inside:
            kept.append(line)
    return "\n".join(kept) + "\n"


def test_the_checker_finds_an_upward_import_even_inside_a_function(tmp_path: Path) -> None:
    packages = ("app", "agents", "tools", "knowledge", "services", "evals", "bench")
    project = _project(
        tmp_path,
        {
            **{f"{p}/__init__.py": "" for p in packages + SUBPACKAGES},
            "services/truth.py": "",
            "services/ledger.py": "def book():\n    from app import web  # noqa\n",
            "app/web.py": "",
            "pyproject.toml": _importlinter_section(),
        },
    )
    done = _lint(project)
    assert done.returncode == 1, done.stdout
    assert "services.ledger -> app.web" in done.stdout


def test_the_checker_finds_a_cycle_under_type_checking(tmp_path: Path) -> None:
    packages = ("app", "agents", "tools", "knowledge", "services", "evals", "bench")
    project = _project(
        tmp_path,
        {
            **{f"{p}/__init__.py": "" for p in packages + SUBPACKAGES},
            "services/truth.py": "",
            "services/events.py": "import services.bus\n",
            "services/bus.py": "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    import services.events\n",
            "pyproject.toml": _importlinter_section(),
        },
    )
    done = _lint(project)
    assert done.returncode == 1, done.stdout
    assert "No cycles are allowed in services" in done.stdout


@pytest.mark.parametrize("module", ["bench.cli", "evals.cli", "app.cli", "app.main"])
def test_each_entry_module_imports_first_in_a_fresh_interpreter(module: str) -> None:
    # The CLI gathers the eval and bench groups through entry points; a module that starts
    # the import chain must not meet itself half-initialised on the way.
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        cwd=ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
