"""Mapping files: a bank's own file and field names mapped onto the canonical formats.

The schema is the one ``docs/data.md`` documents: ``source``, optional ``files``, ``fields``
(canonical name: the bank's name, a dotted path in JSON) and ``formats`` (``date``,
``datetime``, ``decimal_comma``). Anything else is an error, reported with where it is in the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

# Every source's files, each with its canonical fields (in JSON: dotted paths) and file name.
CANONICAL: dict[str, dict[str, dict[str, str]]] = {
    "core-banking": {
        "customers": {
            name: name
            for name in (
                "customer_id first_name last_name date_of_birth national_id email phone "
                "address_line city postal_code country segment customer_since is_business"
            ).split()
        },
        "accounts": {
            name: name
            for name in (
                "account_number customer_id type name currency balance status opened_on "
                "credit_limit overdraft_limit interest_rate_bps maturity_date term_months "
                "risk_tolerance"
            ).split()
        },
        "transactions": {
            name: name
            for name in (
                "transaction_id account_number booked_at amount currency merchant category "
                "channel counterparty description balance_after"
            ).split()
        },
    },
    "crm": {
        "contacts": {
            **{
                name: name
                for name in (
                    "contact_id first_name last_name email phone date_of_birth "
                    "national_id_last4 segment notes core_customer_id"
                ).split()
            },
            "street": "address.street",
            "city": "address.city",
            "postal_code": "address.postal_code",
        }
    },
    "events": {
        "events": {
            name: name
            for name in (
                "event_id device_id session_id occurred_at channel type page detail user_id"
            ).split()
        }
    },
}
FILE_NAMES: dict[str, dict[str, str]] = {
    "core-banking": {
        "customers": "customers.csv",
        "accounts": "accounts.csv",
        "transactions": "transactions.csv",
    },
    "crm": {"contacts": "contacts.json"},
    "events": {"events": "events.jsonl"},
}
SOURCES = tuple(CANONICAL)
_TOP_KEYS = {"source", "files", "fields", "formats"}
_FORMAT_KEYS = {"date", "datetime", "decimal_comma"}
_SAMPLE = datetime(2001, 12, 31, 23, 59, 58)


class MappingError(ValueError):
    """A mapping file that cannot be used, with where and why."""


@dataclass(frozen=True)
class Mapping:
    """How one source's files and fields are named, and how its dates and amounts look."""

    source: str
    files: dict[str, str] = field(default_factory=dict)
    fields: dict[str, dict[str, str]] = field(default_factory=dict)
    date_format: str | None = None
    datetime_format: str | None = None
    decimal_comma: bool = False

    def file_name(self, file: str) -> str:
        """The bank's name for one of this source's files (e.g. ``customers``)."""
        return self.files.get(file, FILE_NAMES[self.source][file])

    def column(self, file: str, name: str) -> str:
        """The bank's column (or dotted JSON path) holding canonical field ``name``."""
        return self.fields.get(file, {}).get(name, CANONICAL[self.source][file][name])

    def extract(self, file: str, data: dict[str, Any]) -> dict[str, Any]:
        """A record's canonical fields (absent ones as ``None``), read through the mapping."""
        return {name: _dig(data, self.column(file, name)) for name in CANONICAL[self.source][file]}

    def missing(self, file: str, header: list[str], required: tuple[str, ...]) -> list[str]:
        """Required fields the header lacks, each as ``column (canonical name)``."""
        out = []
        for name in required:
            column = self.column(file, name)
            if column not in header:
                out.append(column if column == name else f"{column} ({name})")
        return out


def _dig(data: dict[str, Any], path: str) -> Any:
    if path in data:
        return data[path]
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def canonical(source: str) -> Mapping:
    """The identity mapping: the source's files exactly as the canonical formats name them."""
    if source not in CANONICAL:
        raise MappingError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")
    return Mapping(source=source)


def load_mapping(path: Path, *, source: str | None = None) -> Mapping:
    """Read and check a YAML mapping file.

    Args:
        path: The mapping file.
        source: When given, the source the mapping must be for.

    Returns:
        The mapping.

    Raises:
        MappingError: when the file is missing, is not YAML, or breaks the schema; the
            message names the file and the offending key.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingError(f"{path}: cannot read the mapping file ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise MappingError(f"{path}: not valid YAML{where}: {problem}") from None
    return parse_mapping(data, where=str(path), source=source)


def _table(value: Any, key: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MappingError(f"{key}: expected a mapping, got {type(value).__name__}")
    return value


def _check_format(value: Any, key: str, *, has_time: bool) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or "%" not in value:
        raise MappingError(f"{key}: expected a strptime format such as '%d/%m/%Y', got {value!r}")
    try:
        parsed = datetime.strptime(_SAMPLE.strftime(value), value)
    except ValueError as exc:
        raise MappingError(f"{key}: {value!r} is not a usable strptime format ({exc})") from None
    if parsed.date() != _SAMPLE.date() or (has_time and parsed.hour != _SAMPLE.hour):
        missing = "day, month, year and hour" if has_time else "day, month and year"
        raise MappingError(f"{key}: {value!r} must give the {missing}")
    return value


def parse_mapping(data: Any, *, where: str = "mapping", source: str | None = None) -> Mapping:
    """Check parsed YAML against the mapping schema (see ``load_mapping``).

    Raises:
        MappingError: naming ``where`` and the offending key.
    """
    try:
        return _parse(data, source)
    except MappingError as exc:
        raise MappingError(f"{where}: {exc}") from None


def _parse(data: Any, expected: str | None) -> Mapping:
    if not isinstance(data, dict):
        raise MappingError("expected a YAML mapping with 'source' and 'fields'")
    unknown = sorted(set(map(str, data)) - _TOP_KEYS)
    if unknown:
        raise MappingError(f"unknown key(s) {unknown}; allowed: {sorted(_TOP_KEYS)}")
    source = data.get("source")
    if source not in CANONICAL:
        raise MappingError(f"source: expected one of {', '.join(SOURCES)}, got {source!r}")
    if expected is not None and source != expected:
        raise MappingError(f"source: this mapping is for {source}, not {expected}")
    known = CANONICAL[source]
    files: dict[str, str] = {}
    for file, name in _table(data.get("files"), "files").items():
        if file not in known:
            raise MappingError(f"files.{file}: {source} has no file {file!r}; known: {list(known)}")
        if not isinstance(name, str) or not name.strip() or "/" in name or "\\" in name:
            raise MappingError(f"files.{file}: expected a plain file name, got {name!r}")
        files[file] = name.strip()
    fields: dict[str, dict[str, str]] = {}
    for file, names in _table(data.get("fields"), "fields").items():
        if file not in known:
            raise MappingError(
                f"fields.{file}: {source} has no file {file!r}; known: {list(known)}"
            )
        fields[file] = {}
        for name, theirs in _table(names, f"fields.{file}").items():
            if name not in known[file]:
                raise MappingError(
                    f"fields.{file}.{name}: not a canonical field of {source} {file}; "
                    f"known: {', '.join(known[file])}"
                )
            if not isinstance(theirs, str) or not theirs.strip():
                raise MappingError(f"fields.{file}.{name}: expected a column name, got {theirs!r}")
            fields[file][name] = theirs.strip()
        taken: dict[str, str] = {}
        for name in known[file]:
            column = fields[file].get(name, known[file][name])
            if column in taken and (name in fields[file] or taken[column] in fields[file]):
                raise MappingError(
                    f"fields.{file}: {column!r} is given for both {taken[column]} and {name}"
                )
            taken[column] = name
    formats = _table(data.get("formats"), "formats")
    unknown = sorted(set(map(str, formats)) - _FORMAT_KEYS)
    if unknown:
        raise MappingError(f"formats: unknown key(s) {unknown}; allowed: {sorted(_FORMAT_KEYS)}")
    comma = formats.get("decimal_comma", False)
    if not isinstance(comma, bool):
        raise MappingError(f"formats.decimal_comma: expected true or false, got {comma!r}")
    return Mapping(
        source=source,
        files=files,
        fields=fields,
        date_format=_check_format(formats.get("date"), "formats.date", has_time=False),
        datetime_format=_check_format(formats.get("datetime"), "formats.datetime", has_time=True),
        decimal_comma=comma,
    )
