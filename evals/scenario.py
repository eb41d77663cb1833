"""Scenario files: one scripted conversation each, validated against a JSON Schema kept as data.

A file is checked in three steps, and any failure names the file, the line, the field path and
what is wrong (``ScenarioError``): YAML syntax (and duplicate keys, which YAML would silently
merge), the schema (``evals/scenario.schema.json``, Draft 2020-12), then references — every ref
is unique in the scenario and every ref a record, a write or an expectation names exists.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

SCHEMA_PATH = Path(__file__).with_name("scenario.schema.json")
SCENARIOS_DIR = Path(__file__).with_name("scenarios")
# The clock of a scenario that sets none: fixed, so a run is repeatable.
DEFAULT_NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)
# What each record list holds, by the field that names it in writes and expectations.
RECORD_LISTS = ("accounts", "payees", "cards", "transactions", "recurring", "goals", "scheduled")
_WRITE_REFS = {
    "from": "accounts",
    "to": "accounts",
    "payee": "payees",
    "card": "cards",
    "transaction": "transactions",
    "schedule": "scheduled",
    "goal": "goals",
}


@dataclass(frozen=True)
class Problem:
    """One precise complaint about a scenario file."""

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.path or '(top level)'}: {self.message}"


class ScenarioError(ValueError):
    """A scenario file that cannot be run, with every problem found in it."""

    def __init__(self, problems: list[Problem]) -> None:
        """Keep ``problems`` (at least one) and say the first in the message."""
        self.problems = problems
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{problems[0]}{more}")


@dataclass
class Scenario:
    """A validated scenario: its data as the YAML gave it, and where it came from."""

    data: dict[str, Any]
    path: Path
    suite: str = ""

    @property
    def id(self) -> str:
        """The scenario's id (unique within its suite)."""
        return str(self.data["id"])

    @property
    def category(self) -> str:
        """The category the report groups it under."""
        return str(self.data["category"])

    @property
    def now(self) -> datetime:
        """The scenario's fixed clock (UTC)."""
        raw = self.data.get("now")
        if not raw:
            return DEFAULT_NOW
        return datetime.fromisoformat(str(raw).replace("Z", "+00:00")).astimezone(UTC)

    @property
    def people(self) -> list[dict[str, Any]]:
        """The customer first, then the others."""
        return [self.data["customer"], *(self.data.get("others") or [])]

    @property
    def turns(self) -> list[dict[str, Any]]:
        """The conversation's turns, in order."""
        return list(self.data["turns"])

    @property
    def expect(self) -> dict[str, Any]:
        """What must hold at the end."""
        return dict(self.data.get("expect") or {})


def money(value: Any) -> Decimal:
    """An amount from a scenario (a quoted decimal, or a YAML number) as an exact decimal."""
    return Decimal(str(value))


@cache
def schema() -> dict[str, Any]:
    """The scenario JSON Schema (Draft 2020-12)."""
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(loaded)
    return loaded


# --- YAML nodes: map a JSON path to a line --------------------------------------------------


def _compose(text: str, file: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise ScenarioError([Problem(file, line, "", f"invalid YAML: {exc.problem}")]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError([Problem(file, 1, "", f"invalid YAML: {exc}")]) from None


def _duplicates(node: yaml.Node | None, file: str, path: str = "") -> Iterator[Problem]:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            where = f"{path}.{name}" if path else name
            if name in seen:
                yield Problem(file, key.start_mark.line + 1, where, "duplicate key")
            seen.add(name)
            yield from _duplicates(value, file, where)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _duplicates(item, file, f"{path}[{i}]")


def line_of(root: yaml.Node | None, path: Iterable[str | int]) -> int:
    """The 1-based line of the deepest node of ``root`` that ``path`` reaches."""
    node = root
    line = node.start_mark.line + 1 if node is not None else 1
    for step in path:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if str(k.value) == str(step)), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            if not 0 <= step < len(node.value):
                break
            node = node.value[step]
            line = node.start_mark.line + 1
        else:
            break
    return line


def dotted(path: Iterable[str | int]) -> str:
    """``["turns", 2, "expect"]`` as ``turns[2].expect``."""
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


# --- schema errors --------------------------------------------------------------------------


def _precise(error: ValidationError) -> ValidationError:
    # A turn or a money value failing ``oneOf`` says little; the best branch's error says more.
    while error.validator in ("oneOf", "anyOf") and error.context:
        branch = _branch_for(error)
        candidates = [e for e in error.context if e.schema_path and e.schema_path[0] == branch]
        found = best_match(candidates or error.context)
        if found is None:
            break
        error = found
    return error


def _branch_for(error: ValidationError) -> int | None:
    # the branch whose required key the instance carries (user / approve / decline)
    if not isinstance(error.instance, dict):
        return None
    for i, option in enumerate(error.validator_value):
        if any(key in error.instance for key in option.get("required", [])):
            return i
    return None


def _extra_keys(error: ValidationError) -> list[str]:
    allowed = set(error.schema.get("properties", {}))
    patterns = list(error.schema.get("patternProperties", {}))
    return [
        str(k)
        for k in error.instance
        if k not in allowed and not any(str(k).startswith(p.strip("^")) for p in patterns)
    ]


def _schema_problems(data: Any, root: yaml.Node | None, file: str) -> list[Problem]:
    validator = Draft202012Validator(schema())
    problems = []
    for raw in validator.iter_errors(data):
        error = _precise(raw)
        path: list[str | int] = list(error.absolute_path)
        message = error.message
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            extra = _extra_keys(error)
            if extra:
                path.append(extra[0])
                message = f"unknown field {extra[0]!r} (fields may be added only as 'x-...')"
        elif error.validator == "required":
            message = f"missing required field: {error.message.split(' ')[0]}"
        elif error.validator == "pattern" and "\\d" in str(error.validator_value):
            message = f'{error.instance!r} is not an exact decimal amount like "12.50"'
        elif error.validator == "enum":
            message = f"{error.instance!r} is not one of {list(error.validator_value)}"
        problems.append(Problem(file, line_of(root, path), dotted(path), message))
    return sorted(set(problems), key=lambda p: (p.line, p.path))


# --- references -----------------------------------------------------------------------------


def _ref_problems(data: dict[str, Any], root: yaml.Node | None, file: str) -> list[Problem]:
    problems: list[Problem] = []
    refs: dict[str, dict[str, list[str | int]]] = {kind: {} for kind in RECORD_LISTS}
    everywhere: dict[str, list[str | int]] = {}

    def say(path: list[str | int], message: str) -> None:
        problems.append(Problem(file, line_of(root, path), dotted(path), message))

    people: list[tuple[list[str | int], dict[str, Any]]] = [(["customer"], data["customer"])]
    people += [(["others", i], p) for i, p in enumerate(data.get("others") or [])]
    own: list[dict[str, set[str]]] = []
    for base, person in people:
        mine: dict[str, set[str]] = {kind: set() for kind in RECORD_LISTS}
        for kind in RECORD_LISTS:
            for i, record in enumerate(person.get(kind) or []):
                name = record.get("ref")
                if name is None:
                    continue
                here = [*base, kind, i, "ref"]
                if name in everywhere:
                    say(here, f"ref {name!r} is already used at {dotted(everywhere[name])}")
                    continue
                everywhere[name] = here
                refs[kind][name] = here
                mine[kind].add(name)
        own.append(mine)
    # records point at their own person's records
    for (base, person), mine in zip(people, own, strict=True):
        for kind, fields in (
            ("cards", {"account": "accounts"}),
            ("transactions", {"account": "accounts"}),
            ("recurring", {"account": "accounts"}),
            ("goals", {"account": "accounts"}),
            ("scheduled", {"from": "accounts", "to": "accounts", "payee": "payees"}),
        ):
            for i, record in enumerate(person.get(kind) or []):
                for key, target in fields.items():
                    if key in record and record[key] not in mine[target]:
                        say(
                            [*base, kind, i, key],
                            f"{record[key]!r} is not one of this person's {target}",
                        )
        for i, record in enumerate(person.get("scheduled") or []):
            if ("to" in record) == ("payee" in record):
                say([*base, "scheduled", i], "give exactly one of 'to' or 'payee'")
    expect = data.get("expect") or {}
    state = expect.get("state") or {}
    for key, target in (("balances", "accounts"), ("cards", "cards")):
        for name in state.get(key) or {}:
            if name not in refs[target]:
                say(["expect", "state", key, name], f"no {target[:-1]} has ref {name!r}")
    for i, write in enumerate(expect.get("writes") or []):
        for key, target in _WRITE_REFS.items():
            if key in write and write[key] not in refs[target]:
                say(["expect", "writes", i, key], f"no {target.rstrip('s')} has ref {write[key]!r}")
        if write.get("kind") == "payment" and "to" in write:
            say(["expect", "writes", i, "to"], "a payment names its 'payee', not 'to'")
    return problems


# --- loading --------------------------------------------------------------------------------


def parse(text: str, file: str = "<scenario>") -> Scenario:
    """Validate scenario ``text`` (YAML) from ``file``.

    Raises:
        ScenarioError: the YAML, the schema or a reference is wrong (file, line, field).
    """
    root = _compose(text, file)
    if problems := list(_duplicates(root, file)):
        raise ScenarioError(problems)
    data = yaml.safe_load(text) if root is not None else None
    if not isinstance(data, dict):
        raise ScenarioError([Problem(file, 1, "", "a scenario is a mapping of fields")])
    # YAML reads an unquoted timestamp as a datetime; the schema wants the text
    if isinstance(data.get("now"), datetime):
        data["now"] = data["now"].isoformat()
    if problems := _schema_problems(data, root, file):
        raise ScenarioError(problems)
    if problems := _ref_problems(data, root, file):
        raise ScenarioError(problems)
    return Scenario(data=data, path=Path(file))


def load(path: Path, suite: str = "") -> Scenario:
    """Read and validate one scenario file."""
    scenario = parse(path.read_text(encoding="utf-8"), str(path))
    scenario.suite = suite or path.parent.name
    return scenario


def scenario_files(suite: Path) -> list[Path]:
    """Every ``*.yaml`` / ``*.yml`` under ``suite`` (a folder or one file), sorted."""
    if suite.is_file():
        return [suite]
    if not suite.is_dir():
        raise FileNotFoundError(f"no scenario suite at {suite}")
    return sorted(p for p in suite.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def load_suite(suite: Path) -> tuple[list[Scenario], list[Problem]]:
    """Every valid scenario under ``suite``, and the problems of those that are not.

    Ids must be unique within a suite folder (a file's parent); a repeat is a problem.
    """
    scenarios: list[Scenario] = []
    problems: list[Problem] = []
    seen: dict[tuple[str, str], Path] = {}
    for path in scenario_files(suite):
        try:
            scenario = load(path, suite=path.parent.name)
        except ScenarioError as exc:
            problems.extend(exc.problems)
            continue
        key = (str(path.parent), scenario.id)
        if key in seen:
            problems.append(
                Problem(
                    str(path),
                    line_of(_compose(path.read_text(), str(path)), ["id"]),
                    "id",
                    f"id {scenario.id!r} is already used by {seen[key]}",
                )
            )
            continue
        seen[key] = path
        scenarios.append(scenario)
    return scenarios, problems
