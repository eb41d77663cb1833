"""What must never reach a customer surface, and the one way money is written there.

:func:`findings` reads a text (or every text in a JSON answer) as a customer would and names
what a customer must not see: a raw reason code (``feature:flow.days_since_income>=35``), the
bank's verdicts and model vocabulary (churn, propensity, segment, "signs this customer may be
leaving"), and an amount in a second format (``1,488.44 USD`` beside ``$2,475.00``). The tests
walk every insight type and catalogue action through the customer routes and the chat with it,
and ``concierge eval surfaces`` scans a whole seeded bank with it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# A reason code as the engine writes it: ``kind:`` then a code-like body.
RAW_CODE = re.compile(
    r"\b(?:insight|feature|score|propensity|policy|segment|level|control|context|random):"
    r"[a-z_(]"
)
# The bank's own vocabulary about a customer: analysis a customer is never shown.
BANK_ONLY = re.compile(
    r"\b(?:churn\w*|propensit\w*|retention|at[- ]risk|may be leaving|signs this customer"
    r"|before you go|segment\w*|mass[_ ]market|affluent|engagement score|model score"
    r"|risk score|score:|uplift|control group|next[- ]best[- ]action|nba)\b",
    re.IGNORECASE,
)
# An amount with its ISO code after it ("1,488.44 USD"): the format customers never see, since
# every customer surface writes amounts with display_money (symbol first, in their locale).
CODE_AFTER = re.compile(r"\d(?:[\d,]*\d)?(?:\.\d+)?\s?(?:USD|EUR|GBP|CAD|CHF|JPY)\b")
# JSON keys whose values are identifiers the client sends back, not text anyone reads.
ID_KEYS = frozenset(
    {
        "id",
        "code",
        "offer",
        "suggested_action",
        "insight",
        "evidence",
        "ref",
        "kind",
        "type",
        "category",
        "currency",
        "channel",
        "severity",
        "option",
        "thread_id",
        "run_id",
        "message_id",
        "tool",
        "tool_call_id",
        "name",  # a tool's or a frame's name; people's names are under their own keys
        "locale",
        "status",
    }
)


def findings(text: str) -> list[str]:
    """What in ``text`` a customer must not read (``code:``, ``bank-only:``, ``money:`` ...)."""
    out = [f"code: {m.group(0)}" for m in RAW_CODE.finditer(text)]
    out += [f"bank-only: {m.group(0)}" for m in BANK_ONLY.finditer(text)]
    out += [f"money: {m.group(0)}" for m in CODE_AFTER.finditer(text)]
    return out


def texts(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """Every readable string in a JSON value, with the key path it sits at (ids skipped)."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k in ID_KEYS:
                continue
            yield from texts(v, f"{key}.{k}" if key else str(k))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from texts(v, f"{key}[{i}]")
    elif isinstance(value, str):
        yield key, value


def keys(value: Any, key: str = "") -> Iterator[str]:
    """Every key path of a JSON value (a key can say as much as a value: ``"segment"``)."""
    if isinstance(value, dict):
        for k, v in value.items():
            where = f"{key}.{k}" if key else str(k)
            yield where
            yield from keys(v, where)
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from keys(v, f"{key}[{i}]")


def json_findings(value: Any) -> list[str]:
    """:func:`findings` for every readable string and every key of a JSON answer, with where."""
    out = [f"{where}: {found}" for where, text in texts(value) for found in findings(text)]
    for where in keys(value):
        name = where.rsplit(".", 1)[-1].split("[", 1)[0]
        out += [f"{where}: bank-only key: {m.group(0)}" for m in BANK_ONLY.finditer(name)]
    return out
