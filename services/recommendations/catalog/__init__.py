"""The catalogue of actions: YAML data files in this folder, loaded and checked by pydantic.

Each ``*.yaml`` file holds ``actions: [...]``; see ``products.yaml`` for the fields. Loading
reports every fault with its file, action and field, e.g. ``services.yaml: action
'savings_rule': applicability.any[1].field: unknown feature 'balance.savngs_minor'``.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from services.insights import INSIGHT_TYPES
from services.recommendations.actions import Action, Catalog

FOLDER = Path(__file__).resolve().parent


class CatalogError(ValueError):
    """A catalogue that does not load; ``problems`` lists each fault with where it is."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid catalogue:\n  " + "\n  ".join(problems))
        self.problems = problems


def _where(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _actions_in(path: Path, problems: list[str]) -> list[Action]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        problems.append(f"{path.name}: not valid YAML: {exc}")
        return []
    raw = data.get("actions") if isinstance(data, dict) else None
    if not isinstance(raw, list):
        problems.append(f"{path.name}: expected a mapping with an 'actions' list")
        return []
    out = []
    for index, item in enumerate(raw):
        code = item.get("code") if isinstance(item, dict) else None
        name = f"action {code!r}" if code else f"action #{index + 1}"
        try:
            out.append(Action.model_validate(item))
        except ValidationError as exc:
            for error in exc.errors():
                field = _where(error["loc"]) or "(action)"
                message = error["msg"].removeprefix("Value error, ")
                problems.append(f"{path.name}: {name}: {field}: {message}")
    return out


def load_catalog(
    folder: Path | str | None = None, *, require_insight_actions: bool = True
) -> Catalog:
    """Load and check every ``*.yaml`` file of ``folder`` (the shipped catalogue by default).

    Args:
        folder: Where the files are; this package's folder when omitted.
        require_insight_actions: Also require an action for every action an insight suggests
            (``services.insights.INSIGHT_TYPES``).

    Raises:
        CatalogError: listing every problem found, each with its file, action and field.
    """
    where = Path(folder) if folder is not None else FOLDER
    files = sorted(where.glob("*.yaml"))
    problems: list[str] = []
    if not files:
        problems.append(f"{where}: no *.yaml catalogue files")
    actions: list[Action] = []
    seen: dict[str, str] = {}
    for path in files:
        for action in _actions_in(path, problems):
            if action.code in seen:
                also = seen[action.code]
                place = f"{path.name}: action {action.code!r}"
                problems.append(f"{place}: code: duplicate (also in {also})")
                continue
            seen[action.code] = path.name
            actions.append(action)
    if require_insight_actions and not problems:
        for insight, code in sorted(INSIGHT_TYPES.items()):
            if code not in seen:
                problems.append(f"(catalogue): no action {code!r} (suggested by {insight!r})")
    if problems:
        raise CatalogError(problems)
    return Catalog(actions)


@lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    """The shipped catalogue, loaded once per process."""
    return load_catalog()
