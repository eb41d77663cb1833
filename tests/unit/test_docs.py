"""The README and docs/ stay true to the code: links, packages, settings, the scenario format.

The README's architecture block names every package, and every path it names exists; every
setting is in the settings table and in .env.example; docs/evaluation.md carries the whole
scenario format, and its example is a valid scenario; nothing points outside the repository.
"""

import json
import re
import tomllib
from pathlib import Path

import pytest

from evals.scenario import SCHEMA_PATH, parse
from services.ingest.mapping import load_mapping
from services.settings import Settings
from tests.support import ROOT

DOCS = (
    "README.md",
    *(f"docs/{name}" for name in sorted(p.name for p in (ROOT / "docs").glob("*.md"))),
)
LAYERS = ("app", "agents", "tools", "knowledge", "services", "evals", "bench")
# Words that tell how or when the code was written rather than what it does. Written as
# patterns (like OUTSIDE below) so that this file does not hold the phrases themselves.
HISTORY = re.compile(
    r"(?:this|earlier|previous) sess[i]on|run diar[y]|(?:agent|knowledge|evaluations) iss[u]e"
    r"|\(later\)|\bissue #?\d+",
    re.IGNORECASE,
)
# Paths outside the repository (and a design note that is not part of it). Written as patterns
# so that no test holds one literally: test_no_file_points_outside_the_repository reads tests/.
OUTSIDE = re.compile(r"\.\./shared|shared[/]data|DESIGN\.md|/work[/]|/tmp[/]")
# Data beside the checkout: no file may point there.
ELSEWHERE = re.compile(r"\.\./shared|shared[/]data")


def _text(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


def _slug(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    text = heading.strip().lower().replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    return {_slug(m.group(1)) for m in re.finditer(r"^#+\s+(.+)$", text, flags=re.M)}


def _architecture_paths() -> list[str]:
    readme = _text("README.md")
    section = readme.split("\n## Architecture\n", 1)[1]
    block = section.split("```", 2)[1]
    paths = []
    for line in block.splitlines():
        found = re.match(r"^ {0,6}(\S+)\s", line)
        if found and "/" in found.group(1):
            paths.append(found.group(1))
    return paths


def _packages() -> set[str]:
    """Every package and subpackage, from pyproject.toml and from the tree itself."""
    config = tomllib.loads(_text("pyproject.toml"))
    listed = {name.replace(".", "/") for name in config["tool"]["setuptools"]["packages"]}
    on_disk = {
        init.parent.relative_to(ROOT).as_posix()
        for layer in LAYERS
        for init in (ROOT / layer).rglob("__init__.py")
    }
    return listed | on_disk


# --- settings -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented(name: str) -> None:
    variable = f"CONCIERGE_{name.upper()}"
    assert f"| `{variable}` |" in _text("docs/architecture.md")
    assert f"\n{variable}=" in _text(".env.example")


def test_blank_settings_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONCIERGE_DATABASE_URL", "")
    monkeypatch.setenv("CONCIERGE_REDIS_URL", "  ")
    settings = Settings(_env_file=None)
    assert settings.redis_url is None
    assert settings.resolved_database_url.startswith("sqlite:///")


# --- the two commands, CI and make eval -----------------------------------------------------


def test_ci_runs_make_test_and_the_readme_gives_both_commands() -> None:
    ci = _text(".ci/run")
    assert "make test" in ci and "export CI=true" in ci
    readme = _text("README.md")
    assert "make run" in readme and "make test" in readme
    makefile = _text("Makefile")
    for target in ("run:", "test:", "lint:", "eval:"):
        assert f"\n{target}" in makefile


def test_banking77_is_passed_by_a_variable_without_a_default() -> None:
    makefile = _text("Makefile")
    assert re.search(r"^BANKING77 \?=\s*$", makefile, flags=re.M)
    assert "make eval BANKING77=" in makefile  # the message says how to set it
    ci = _text(".ci/run")
    assert ci.index("export BANKING77=") < ci.index("\nmake test")


# --- README and docs ------------------------------------------------------------------------


def test_the_readme_is_a_front_door() -> None:
    readme = _text("README.md")
    assert len(readme.splitlines()) <= 200
    assert "docs/screenshot-customer.png" in readme
    for page in ("architecture", "data", "evaluation", "performance"):
        assert f"(docs/{page}.md" in readme


@pytest.mark.parametrize("name", DOCS)
def test_links_resolve(name: str) -> None:
    page = ROOT / name
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        file, _, anchor = target.partition("#")
        where = (page.parent / file).resolve() if file else page
        assert where.exists(), f"{name}: {target} does not exist"
        if anchor:
            assert anchor in _anchors(where), f"{name}: no heading for #{anchor} in {file}"


@pytest.mark.parametrize("name", DOCS)
def test_docs_speak_of_the_product(name: str) -> None:
    text = _text(name)
    found = HISTORY.search(text)
    assert found is None, f"{name}: {found.group(0)!r}"
    outside = OUTSIDE.search(text)
    assert outside is None, f"{name} points outside the repository: {outside.group(0)}"


def test_every_path_in_the_architecture_block_exists() -> None:
    paths = _architecture_paths()
    assert paths
    for path in paths:
        assert (ROOT / path).exists(), f"README architecture names {path}, which is missing"


def test_every_package_is_in_the_architecture_block() -> None:
    named = {path.rstrip("/") for path in _architecture_paths()}
    missing = sorted(_packages() - named)
    assert not missing, f"README architecture block lacks {missing}"
    for folder in ("app/web", "tests", "docs"):
        assert folder in named


def test_the_readme_states_the_import_rule() -> None:
    readme = _text("README.md")
    assert "evals | bench → app → agents → tools → knowledge → services" in readme
    config = tomllib.loads(_text("pyproject.toml"))
    layers = next(
        c["layers"] for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers"
    )
    assert " → ".join(layers) in readme


def test_no_file_points_outside_the_repository() -> None:
    # .ci/run is where CI says where the data set lives; tests/ is read like everything else
    skip = {".git", ".venv", "var", "reports", ".ci", "build", "dist"}
    offenders = []
    for path in ROOT.rglob("*"):
        parts = path.relative_to(ROOT).parts
        if not path.is_file() or parts[0] in skip or parts[0].endswith(".egg-info"):
            continue
        if "__pycache__" in parts or path.suffix in {".png", ".pyc", ".svg"}:
            continue
        text = path.read_text(encoding="utf-8", errors="ignore")
        offenders += [f"{'/'.join(parts)}: {m.group(0)}" for m in ELSEWHERE.finditer(text)]
    assert not offenders


# --- the documented formats -----------------------------------------------------------------


def _schema_fields() -> set[str]:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    fields = set(schema["properties"])
    for definition in schema["$defs"].values():
        fields |= set(definition.get("properties", {}))
        for option in definition.get("oneOf", []):
            fields |= set(option.get("properties", {}))
    for kind in schema["$defs"]["write"]["properties"]["kind"]["enum"]:
        fields.add(kind)
    return fields


@pytest.mark.parametrize("field", sorted(_schema_fields()))
def test_the_evaluation_doc_names_every_scenario_field(field: str) -> None:
    assert f"`{field}`" in _text("docs/evaluation.md") or f"{field}:" in _text("docs/evaluation.md")


def test_the_documented_scenario_is_valid() -> None:
    doc = _text("docs/evaluation.md")
    example = re.search(r"```yaml\n(id: .*?)```", doc, re.S)
    assert example is not None
    scenario = parse(example.group(1), "docs/evaluation.md")
    assert scenario.id == "transfer-own-accounts-basic"
    assert scenario.expect["writes"] == [
        {"kind": "transfer", "from": "everyday", "to": "rainy", "amount": "200.00"}
    ]


def test_the_documented_mapping_file_loads(tmp_path: Path) -> None:
    doc = _text("docs/data.md")
    example = re.search(r"```yaml\n(source: core-banking.*?)```", doc, re.S)
    assert example is not None
    path = tmp_path / "mapping.yaml"
    path.write_text(example.group(1), encoding="utf-8")
    mapping = load_mapping(path)
    assert mapping.column("customers", "customer_id") == "CLIENT_NO"
