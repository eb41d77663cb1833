"""A small declarative rule language, evaluated safely (no ``eval``) over a feature vector.

A rule is plain data, as written in the catalogue's YAML::

    {all: [{field: has.investment, is: false}, {field: balance.savings_minor, gte: 1000000}]}

* combinators: ``{all: [rules]}``, ``{any: [rules]}``, ``{not: rule}``;
* a field test: ``{field: <path>, <op>: <value>}`` with exactly one operator among ``is`` /
  ``eq``, ``ne``, ``gt``, ``gte``, ``lt``, ``lte``, ``in``, ``not_in``, ``contains``, ``exists``;
* an insight test: ``{insight: <type>}`` (true when the customer has that insight now).

Paths are checked against the feature vector's known fields when a rule is parsed, so a typo
fails at load time, not silently at decision time. A missing value (``None``) makes every
comparison false (``exists: false`` aside). A true rule explains itself: the leaves that held,
as reason codes such as ``feature:balance.savings_minor>=1000000`` or ``insight:churn_risk``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from services.recommendations.paths import is_known_field

Values = Mapping[str, Any]
_NUMERIC = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}
_SYMBOL = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "=", "is": "=", "ne": "!="}
OPERATORS = frozenset({*_NUMERIC, "is", "eq", "ne", "in", "not_in", "contains", "exists"})


class RuleError(ValueError):
    """A rule that does not parse; the message starts with where in the rule it went wrong."""


class Rule:
    """A parsed rule: ``test`` decides, ``explain`` names the leaves that made it true."""

    __slots__ = ()

    def test(self, values: Values) -> bool:
        """Whether the rule holds for ``values`` (a vector's flat field map)."""
        raise NotImplementedError

    def explain(self, values: Values, out: list[str]) -> None:
        """Append the reason codes of the leaves that hold (call only when ``test`` is true)."""
        raise NotImplementedError

    def describe(self) -> str:
        """The rule as a short human-readable text."""
        raise NotImplementedError


class All(Rule):
    """True when every part is true (and for no parts at all)."""

    __slots__ = ("parts",)

    def __init__(self, parts: tuple[Rule, ...]) -> None:
        self.parts = parts

    def test(self, values: Values) -> bool:
        """Whether every part holds."""
        return all(p.test(values) for p in self.parts)

    def explain(self, values: Values, out: list[str]) -> None:
        """Every part's reasons."""
        for part in self.parts:
            part.explain(values, out)

    def describe(self) -> str:
        """``(a and b)``."""
        return "(" + " and ".join(p.describe() for p in self.parts) + ")"


class Any_(Rule):
    """True when at least one part is true."""

    __slots__ = ("parts",)

    def __init__(self, parts: tuple[Rule, ...]) -> None:
        self.parts = parts

    def test(self, values: Values) -> bool:
        """Whether some part holds."""
        return any(p.test(values) for p in self.parts)

    def explain(self, values: Values, out: list[str]) -> None:
        """The reasons of every part that holds (all of them: more evidence, same cost)."""
        for part in self.parts:
            if part.test(values):
                part.explain(values, out)

    def describe(self) -> str:
        """``(a or b)``."""
        return "(" + " or ".join(p.describe() for p in self.parts) + ")"


class Not(Rule):
    """True when its part is false."""

    __slots__ = ("part",)

    def __init__(self, part: Rule) -> None:
        self.part = part

    def test(self, values: Values) -> bool:
        """Whether the part fails."""
        return not self.part.test(values)

    def explain(self, values: Values, out: list[str]) -> None:
        """One reason naming what was absent."""
        text = self.part.describe()
        kind, sep, body = text.partition(":")
        if text.startswith("(") or not sep:
            out.append(f"feature:not({text})")
        else:
            out.append(f"{kind}:not({body})")

    def describe(self) -> str:
        """``not(a)``."""
        return f"not({self.part.describe()})"


class Field(Rule):
    """A comparison of one field's value with a literal."""

    __slots__ = ("path", "op", "value", "_check", "_reason")

    def __init__(self, path: str, op: str, value: Any) -> None:
        self.path, self.op, self.value = path, op, value
        self._check = _checker(op, value)
        namespace, _, rest = path.partition(".")
        kind, name = ("score", rest) if namespace == "score" else ("feature", path)
        self._reason = f"{kind}:{name}{_render(op, value)}"

    def test(self, values: Values) -> bool:
        """Compare the field's current value."""
        return self._check(values.get(self.path))

    def explain(self, values: Values, out: list[str]) -> None:
        """``feature:<path><op><value>`` (``score:`` for model scores)."""
        out.append(self._reason)

    def describe(self) -> str:
        """The reason code itself."""
        return self._reason


class Insight(Rule):
    """True when the customer has an insight of this type."""

    __slots__ = ("type", "_path")

    def __init__(self, type_: str) -> None:
        self.type, self._path = type_, f"insight.{type_}"

    def test(self, values: Values) -> bool:
        """Whether the insight is present."""
        return values.get(self._path) is not None

    def explain(self, values: Values, out: list[str]) -> None:
        """``insight:<type>``."""
        out.append(f"insight:{self.type}")

    def describe(self) -> str:
        """``insight:<type>``."""
        return f"insight:{self.type}"


ALWAYS = All(())


def _render(op: str, value: Any) -> str:
    def lit(v: Any) -> str:
        return "null" if v is None else str(v).lower() if isinstance(v, bool) else str(v)

    if op in _SYMBOL:
        return f"{_SYMBOL[op]}{lit(value)}"
    if op == "exists":
        return "" if value else ":absent"
    if op == "contains":
        return f" contains {lit(value)}"
    return f" {op.replace('_', ' ')} [{','.join(lit(v) for v in value)}]"


def _checker(op: str, value: Any) -> Callable[[Any], bool]:
    if op in _NUMERIC:
        compare = _NUMERIC[op]
        return lambda v: (
            isinstance(v, int | float) and not isinstance(v, bool) and compare(v, value)
        )
    if op in ("is", "eq"):
        if value is None or isinstance(value, bool):
            return lambda v: v is value
        return lambda v: v == value and not isinstance(v, bool)
    if op == "ne":
        return lambda v: v is not None and v != value
    if op == "in":
        allowed = frozenset(value)
        return lambda v: v is not None and v in allowed
    if op == "not_in":
        banned = frozenset(value)
        return lambda v: v is not None and v not in banned
    if op == "contains":
        return lambda v: isinstance(v, str | tuple | list | frozenset | set) and value in v
    return lambda v: (v is not None) is bool(value)  # exists


def _at(where: str, step: str) -> str:
    return f"{where}.{step}" if where else step


def _fail(where: str, message: str) -> RuleError:
    return RuleError(f"{where}: {message}" if where else message)


def parse_rule(raw: Any, where: str = "") -> Rule:
    """Parse a rule written as data; ``None`` means "always true".

    Args:
        raw: The rule as loaded from YAML or JSON.
        where: A prefix for error paths (e.g. ``"eligibility"``).

    Raises:
        RuleError: naming the path inside the rule (``any[1].field``) and the fault.
    """
    if raw is None:
        return ALWAYS
    if not isinstance(raw, Mapping):
        raise _fail(where, f"a rule is a mapping, got {type(raw).__name__}")
    keys = set(raw)
    for combinator in ("all", "any"):
        if combinator in keys:
            if keys != {combinator}:
                raise _fail(where, f"'{combinator}' takes no sibling keys {sorted(keys)}")
            parts = raw[combinator]
            if not isinstance(parts, list) or not parts:
                raise _fail(_at(where, combinator), "expected a non-empty list of rules")
            parsed = tuple(
                parse_rule(p, _at(where, f"{combinator}[{i}]")) for i, p in enumerate(parts)
            )
            return All(parsed) if combinator == "all" else Any_(parsed)
    if "not" in keys:
        if keys != {"not"}:
            raise _fail(where, f"'not' takes no sibling keys {sorted(keys)}")
        return Not(parse_rule(raw["not"], _at(where, "not")))
    if "insight" in keys:
        if keys != {"insight"}:
            raise _fail(where, f"'insight' takes no sibling keys {sorted(keys)}")
        return Insight(_checked_insight(raw["insight"], _at(where, "insight")))
    if "field" in keys:
        return _parse_field(raw, where)
    raise _fail(where, f"expected one of all/any/not/insight/field, got {sorted(keys)}")


def _checked_insight(name: Any, where: str) -> str:
    if not isinstance(name, str) or not is_known_field(f"insight.{name}"):
        raise _fail(where, f"unknown insight type {name!r}")
    return name


def _parse_field(raw: Mapping[str, Any], where: str) -> Field:
    path = raw["field"]
    if not isinstance(path, str) or not is_known_field(path):
        raise _fail(_at(where, "field"), f"unknown feature {path!r}")
    ops = set(raw) - {"field"}
    unknown = ops - OPERATORS
    if unknown:
        raise _fail(where, f"unknown operator {sorted(unknown)[0]!r}")
    if len(ops) != 1:
        raise _fail(where, f"a field test needs exactly one operator, got {sorted(ops)}")
    op = ops.pop()
    value = raw[op]
    if op in _NUMERIC and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise _fail(_at(where, op), f"expected a number, got {value!r}")
    if op in ("in", "not_in") and (not isinstance(value, list) or not value):
        raise _fail(_at(where, op), f"expected a non-empty list, got {value!r}")
    if op == "exists" and not isinstance(value, bool):
        raise _fail(_at(where, "exists"), f"expected true or false, got {value!r}")
    if op in ("is", "eq", "ne", "contains") and isinstance(value, list | dict):
        raise _fail(_at(where, op), f"expected a single value, got {value!r}")
    return Field(path, op, value)


def reasons(rule: Rule, values: Values) -> list[str]:
    """The reason codes of a rule that holds for ``values``."""
    out: list[str] = []
    rule.explain(values, out)
    return out
