"""A tiny, safe copy template: ``{path}``, ``{path|filter}`` and ``{path|filter?fallback}``.

Paths are the feature vector's (``first_name``, ``balance.savings_minor``...) or ``trigger.*``:
the insight behind the recommendation (``trigger.message`` and its figures, e.g.
``trigger.merchant``). Nothing else is reachable: no attribute access, no indexing, no code.
Filters: ``money`` (minor units), ``pct`` (a share: 0.25 -> 25%), ``growth`` (a ratio: 1.25 ->
25%), ``days``, ``int``, ``title``. A missing value renders its fallback (or nothing); so does
a zero when a fallback is given ("bills of $0.00" never reads well).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from services.money import EXPONENT, display_money
from services.recommendations.paths import is_known_field

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_.]*)(?:\|([a-z_]+))?(?:\?([^{}]*))?\}")


def money(minor: Any, currency: str = "USD") -> str:
    """``$1,234`` for larger sums, ``$4.20`` for small ones; every currency with its symbol.

    A currency the bank does not book is shown with two places and its code (``XYZ\u00a010.00``).
    """
    places = EXPONENT.get(currency, 2)
    return display_money(int(minor), currency, places=places, whole_from=100)


FILTERS: dict[str, Callable[[Any, str], str]] = {
    "money": money,
    "pct": lambda v, _: f"{round(float(v) * 100)}%",
    "growth": lambda v, _: f"{round((float(v) - 1) * 100)}%",
    "days": lambda v, _: "1 day" if int(v) == 1 else f"{int(v)} days",
    "int": lambda v, _: f"{int(v):,}",
    "title": lambda v, _: str(v).replace("_", " ").title(),
}


class TemplateError(ValueError):
    """A template that does not parse or names an unknown path or filter."""


@dataclass(frozen=True)
class Template:
    """A parsed template: literal text and placeholders, alternating."""

    source: str
    parts: tuple[str | tuple[str, str | None, str], ...]

    def render(
        self, values: Mapping[str, Any], trigger: Mapping[str, Any], currency: str = "USD"
    ) -> str:
        """Fill the placeholders from a vector's values and the triggering insight."""
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            path, filter_, fallback = part
            value = trigger.get(path[8:]) if path.startswith("trigger.") else values.get(path)
            if value is None or value == "" or (fallback and value == 0):
                out.append(fallback)
            elif filter_ is None:
                out.append(str(value))
            else:
                try:
                    out.append(FILTERS[filter_](value, currency))
                except (TypeError, ValueError):
                    out.append(fallback)
        return " ".join("".join(out).split())


def parse_template(source: str) -> Template:
    """Parse and check a template.

    Raises:
        TemplateError: naming the offending placeholder.
    """
    parts: list[str | tuple[str, str | None, str]] = []
    pos = 0
    for match in _PLACEHOLDER.finditer(source):
        literal = source[pos : match.start()]
        _check_literal(literal, source)
        parts.append(literal)
        path, filter_, fallback = match.group(1), match.group(2), match.group(3) or ""
        if not (path.startswith("trigger.") and len(path) > 8) and not is_known_field(path):
            raise TemplateError(f"unknown field {path!r} in {match.group(0)!r}")
        if filter_ is not None and filter_ not in FILTERS:
            raise TemplateError(f"unknown filter {filter_!r} in {match.group(0)!r}")
        parts.append((path, filter_, fallback))
        pos = match.end()
    _check_literal(source[pos:], source)
    parts.append(source[pos:])
    return Template(source, tuple(p for p in parts if p != ""))


def _check_literal(literal: str, source: str) -> None:
    if "{" in literal or "}" in literal:
        bad = literal[max(0, literal.find("{") if "{" in literal else literal.find("}")) :][:30]
        raise TemplateError(f"malformed placeholder near {bad!r} in {source!r}")
