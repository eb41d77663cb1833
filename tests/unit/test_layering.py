"""Imports point one way (DESIGN.md): app -> agents -> tools -> services; ground truth stays hidden.

Every import statement counts, including ones inside functions and under ``TYPE_CHECKING``:
a decision module must not even be able to reach the answers it is evaluated against.
"""

import ast
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "agents", "tools", "services", "knowledge", "evals")
WEB_AND_LLM = {
    "fastapi",
    "starlette",
    "uvicorn",
    "chromadb",
    "sentence_transformers",
    "torch",
    "typer",
    "rich",
}
WEB_AND_LLM_PREFIXES = ("langchain", "langgraph")
TRUTH = "services.truth"
# Who may read the ground truth: the generator, the table registry, evaluations (and tests).
TRUTH_READERS = ("services/synth/", "services/db.py", "evals/", "tests/")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every module ``source`` imports, fully qualified.

    ``from a import b`` yields both ``a`` and ``a.b`` (``b`` may be a submodule), and importing
    the name ``GroundTruth`` from anywhere counts as importing ``services.truth``.
    """
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".") if package else []
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            if base:
                found.add(base)
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if base else alias.name)
                if alias.name == "GroundTruth":
                    found.add(TRUTH)
    return found


def _python_files() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@cache
def all_imports() -> dict[str, frozenset[str]]:
    """Repository-relative path -> what that file imports, for every file of every package."""
    return {
        _rel(p): frozenset(
            imports_of(
                p.read_text(encoding="utf-8"), module_name(p), is_package=p.name == "__init__.py"
            )
        )
        for p in _python_files()
    }


def _top(name: str) -> str:
    return name.split(".")[0]


def _violations(where: str, forbidden: Callable[[str], bool]) -> list[str]:
    out = []
    for path, names in all_imports().items():
        if path.startswith(where):
            out += [f"{path}: {n}" for n in sorted(names) if forbidden(n)]
    return out


# --- the finder itself -------------------------------------------------------------------------


def test_finds_every_package() -> None:
    for pkg in PACKAGES:
        assert f"{pkg}/__init__.py" in all_imports()
    assert sum(p.startswith("services/") for p in all_imports()) >= 10


def test_finder_sees_the_real_ground_truth_import() -> None:
    # Not vacuous: the table registry really imports the truth module (``from services import``).
    assert TRUTH in all_imports()["services/db.py"]


@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        ("import services.truth", "app.x", "services.truth"),
        ("import services.truth as t", "app.x", "services.truth"),
        ("from services import truth", "app.x", "services.truth"),
        ("from services.truth import labelled", "app.x", "services.truth"),
        ("from some.reexport import GroundTruth", "app.x", "services.truth"),
        ("from . import truth", "services.insights", "services.truth"),
        ("from .truth import archetypes", "services.insights", "services.truth"),
        ("from ..truth import GroundTruth", "services.synth.writer", "services.truth"),
        ("from .. import truth", "services.synth.writer", "services.truth"),
        ("def f():\n    import fastapi\n", "services.x", "fastapi"),
        (
            "if TYPE_CHECKING:\n    from langgraph.graph import StateGraph\n",
            "tools.x",
            "langgraph.graph",
        ),
    ],
)
def test_finder_resolves_import_forms(source: str, module: str, expected: str) -> None:
    assert expected in imports_of(source, module)


def test_finder_resolves_relative_imports_in_a_package_init() -> None:
    assert "services.synth.ledger" in imports_of(
        "from .ledger import settle", "services.synth", is_package=True
    )


def test_finder_ignores_lookalike_names() -> None:
    found = imports_of("import services.truthy\nfrom services import trust", "app.x")
    assert TRUTH not in found


# --- the rules ---------------------------------------------------------------------------------


def test_services_import_no_upper_layer() -> None:
    upper = {"app", "agents", "tools", "knowledge", "evals"}
    assert _violations("services/", lambda n: _top(n) in upper) == []


def test_services_import_no_web_or_llm_library() -> None:
    def banned(name: str) -> bool:
        return _top(name) in WEB_AND_LLM or _top(name).startswith(WEB_AND_LLM_PREFIXES)

    assert _violations("services/", banned) == []


def test_tools_do_not_import_app_or_agents() -> None:
    assert _violations("tools/", lambda n: _top(n) in {"app", "agents"}) == []


def test_agents_do_not_import_app() -> None:
    assert _violations("agents/", lambda n: _top(n) == "app") == []


def test_ground_truth_is_read_only_by_generator_registry_and_evals() -> None:
    offenders = [
        path
        for path, names in all_imports().items()
        if path != "services/truth.py"
        and not path.startswith(TRUTH_READERS)
        and any(n == TRUTH or n.startswith(TRUTH + ".") for n in names)
    ]
    assert offenders == []
