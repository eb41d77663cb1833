"""Reading one field of a source row: text, dates, times, amounts, flags; errors say why.

Every parser raises ``RowError`` with a reason fit for the ``ingest_reject`` table.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Table

from services.money import MoneyError, exponent, to_minor

ISO_DATE = "%Y-%m-%d"
US_DATE = "%m/%d/%Y"
_GROUPED_POINT = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")
_GROUPED_COMMA = re.compile(r"[+-]?\d{1,3}(\.\d{3})+(,\d*)?")


class RowError(ValueError):
    """Why a row cannot be loaded."""


def text(row: dict[str, Any], name: str) -> str | None:
    """The field trimmed, or ``None`` when absent or blank."""
    value = row.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        if isinstance(value, dict | list):
            raise RowError(f"{name}: expected text, got a JSON {type(value).__name__}")
        value = str(value)
    value = value.strip()
    return value or None


def required(row: dict[str, Any], name: str) -> str:
    """The field trimmed; missing or blank is an error."""
    value = text(row, name)
    if value is None:
        raise RowError(f"missing {name}")
    return value


def parse_date(value: str | None, name: str, formats: tuple[str, ...]) -> date | None:
    """A date written in one of ``formats`` (strptime), or ``None`` when blank."""
    if value is None:
        return None
    for fmt in formats:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    shown = " or ".join(
        f.replace("%Y", "YYYY").replace("%m", "MM").replace("%d", "DD") for f in formats
    )
    raise RowError(f"{name}: {value!r} is not a date ({shown})")


def parse_datetime(value: str, name: str, fmt: str | None) -> datetime:
    """A timestamp: ISO 8601 (``Z`` or an offset), or ``fmt``; without an offset it is UTC."""
    try:
        parsed = datetime.strptime(value, fmt) if fmt else datetime.fromisoformat(value)
    except ValueError:
        expected = repr(fmt) if fmt else "ISO 8601, e.g. 2026-03-02T10:00:00Z"
        raise RowError(f"{name}: {value!r} is not a timestamp ({expected})") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_decimal(value: str, name: str, *, decimal_comma: bool = False) -> Decimal:
    """An exact amount; thousands separators are allowed only where they group thousands."""
    cleaned = value.replace(" ", "")
    if decimal_comma:
        if _GROUPED_COMMA.fullmatch(cleaned):
            cleaned = cleaned.replace(".", "")
        # With a decimal comma a point may only group thousands: "12.50" is not an amount.
        cleaned = "x" if "." in cleaned else cleaned.replace(",", ".")
    elif _GROUPED_POINT.fullmatch(cleaned):
        cleaned = cleaned.replace(",", "")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise RowError(f"{name}: {value!r} is not an amount") from None
    if not amount.is_finite():
        raise RowError(f"{name}: {value!r} is not an amount")
    return amount


def currency_code(value: str | None, name: str = "currency") -> str:
    """An ISO currency code the bank books in, upper-cased."""
    if value is None:
        raise RowError(f"missing {name}")
    code = value.upper()
    try:
        exponent(code)
    except MoneyError:
        raise RowError(f"{name}: unknown currency {value!r}") from None
    return code


def minor(amount: Decimal | None, currency: str, name: str) -> int | None:
    """``amount`` in integer minor units of ``currency`` (never through a float)."""
    if amount is None:
        return None
    try:
        return to_minor(str(amount), currency)  # str: the message shows the amount as written
    except MoneyError as exc:
        raise RowError(f"{name}: {exc}") from None


def parse_int(value: str | None, name: str) -> int | None:
    """A whole number, or ``None`` when blank."""
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise RowError(f"{name}: {value!r} is not a whole number") from None


def parse_bool(value: str | None, name: str) -> bool:
    """``true``/``false`` (also yes/no, 1/0); blank is false."""
    if value is None:
        return False
    lowered = value.lower()
    if lowered in ("true", "t", "yes", "y", "1"):
        return True
    if lowered in ("false", "f", "no", "n", "0"):
        return False
    raise RowError(f"{name}: {value!r} is not true or false")


def check_fits(table: Table, row: dict[str, Any]) -> None:
    """Refuse text the database would refuse (too long, NUL): it would fail the whole batch."""
    for key, value in row.items():
        column = table.c.get(key)
        if not isinstance(value, str):
            continue
        if "\x00" in value:
            raise RowError(f"{key}: contains a NUL character")
        # SQLModel's AutoString is a type decorator over VARCHAR(n): both carry a length.
        limit = getattr(column.type, "length", None) if column is not None else None
        if isinstance(limit, int) and len(value) > limit:
            raise RowError(f"{key}: longer than {limit} characters")
