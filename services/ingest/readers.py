"""Reading source files record by record, each with its line number and raw text.

A record that cannot even be read (broken JSON, a CSV row with the wrong number of fields,
bytes that are not UTF-8) comes back with an ``error`` instead of ``data``, so the loader can
reject it and carry on with the rest of the file.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_NOT_UTF8 = "\ufffd"  # what undecodable bytes become when read with errors="replace"
_WHITESPACE = " \t\r\n"


class IngestError(Exception):
    """A source file (not one row) that cannot be loaded: missing, empty, wrong columns."""


@dataclass
class Record:
    """One row or event as read: where it starts, its text, and its fields or what is wrong."""

    line: int
    raw: str
    data: dict[str, Any] | None = None
    error: str | None = None


def csv_header(path: Path) -> list[str]:
    """The column names in a CSV file's first row.

    Raises:
        IngestError: when the file cannot be read or is empty.
    """
    try:
        with path.open(encoding="utf-8-sig", errors="replace", newline="") as f:
            header = next(csv.reader(f), None)
    except (OSError, csv.Error) as exc:
        raise IngestError(f"{path}: cannot read the header row ({exc})") from None
    if not header:
        raise IngestError(f"{path}: empty file, expected a header row")
    return [name.strip() for name in header]


def read_csv(path: Path) -> Iterator[Record]:
    """Rows of a CSV file with a header row, as {column: text}; blank lines are skipped."""
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as f:
        consumed: list[str] = []

        def lines() -> Iterator[str]:
            for text in f:
                consumed.append(text)
                yield text

        reader = csv.reader(lines())
        header = [name.strip() for name in next(reader, [])]
        line = 1 + len(consumed)
        consumed.clear()
        while True:
            try:
                values = next(reader)
                error = None
            except StopIteration:
                return
            except csv.Error as exc:
                values, error = [], f"malformed CSV: {exc}"
            raw, start = "".join(consumed).rstrip("\r\n"), line
            line += max(1, len(consumed))
            consumed.clear()
            if error is None and not any(v.strip() for v in values):
                continue
            if error is None and _NOT_UTF8 in raw:
                error = "not UTF-8 text"
            if error is None and len(values) != len(header):
                error = f"expected {len(header)} fields, got {len(values)}"
            if error:
                yield Record(start, raw, error=error)
            else:
                yield Record(start, raw, data=dict(zip(header, values, strict=True)))


def read_jsonl(path: Path) -> Iterator[Record]:
    """Objects of a JSON Lines file, one per line; blank lines are skipped."""
    with path.open(encoding="utf-8", errors="replace") as f:
        for number, text in enumerate(f, 1):
            raw = text.rstrip("\r\n")
            if not raw.strip():
                continue
            yield _record(number, raw)


def _record(line: int, raw: str) -> Record:
    if _NOT_UTF8 in raw:
        return Record(line, raw, error="not UTF-8 text")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        return Record(line, raw, error=f"broken JSON: {exc.msg} (column {exc.colno})")
    if not isinstance(data, dict):
        return Record(line, raw, error=f"expected a JSON object, got {type(data).__name__}")
    return Record(line, raw, data=data)


class _Lines:
    """Line numbers of positions in a text, for positions visited in increasing order."""

    def __init__(self, text: str) -> None:
        self.text, self.pos, self.line = text, 0, 1

    def at(self, pos: int) -> int:
        self.line += self.text.count("\n", self.pos, pos)
        self.pos = pos
        return self.line


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WHITESPACE:
        pos += 1
    return pos


def _array_start(text: str, key: str, decoder: json.JSONDecoder) -> int:
    """Where the list of records begins: the document itself, or its ``key`` member."""
    pos = _skip(text, 0)
    if text[pos : pos + 1] == "[":
        return pos
    if text[pos : pos + 1] != "{":
        raise ValueError(pos, f"expected a JSON object with a {key!r} list, or a list")
    pos = _skip(text, pos + 1)
    while text[pos : pos + 1] == '"':
        name, pos = decoder.raw_decode(text, pos)
        pos = _skip(text, pos)
        if text[pos : pos + 1] != ":":
            raise ValueError(pos, "expected ':' after a key")
        pos = _skip(text, pos + 1)
        if name == key and text[pos : pos + 1] == "[":
            return pos
        _, pos = decoder.raw_decode(text, pos)
        pos = _skip(text, pos)
        if text[pos : pos + 1] == ",":
            pos = _skip(text, pos + 1)
    raise ValueError(pos, f"no {key!r} list in the document")


def read_json_records(path: Path, key: str) -> Iterator[Record]:
    """Objects of a JSON document's ``key`` list (or of a top-level list), with their lines.

    A broken record is rejected and reading resumes at the next line that opens an object,
    so one bad contact does not cost the file.
    """
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    decoder, lines = json.JSONDecoder(), _Lines(text)
    try:
        pos = _array_start(text, key, decoder)
    except json.JSONDecodeError as exc:
        yield Record(exc.lineno, text[:200], error=f"broken JSON: {exc.msg}")
        return
    except ValueError as exc:
        at, reason = exc.args
        yield Record(lines.at(at), text[at : at + 200], error=reason)
        return
    pos = _skip(text, pos + 1)
    while pos < len(text) and text[pos] != "]":
        try:
            data, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            resume = text.find("\n{", pos)
            stop = resume if resume >= 0 else len(text)
            raw = text[pos:stop].rstrip(_WHITESPACE + ",")
            yield Record(lines.at(pos), raw, error=f"broken JSON: {exc.msg}")
            if resume < 0:
                return
            pos = resume + 1
            continue
        raw = text[pos:end]
        if not isinstance(data, dict):
            yield Record(
                lines.at(pos), raw, error=f"expected a JSON object, got {type(data).__name__}"
            )
        elif _NOT_UTF8 in raw:
            yield Record(lines.at(pos), raw, error="not UTF-8 text")
        else:
            yield Record(lines.at(pos), raw, data=data)
        pos = _skip(text, end)
        if text[pos : pos + 1] == ",":
            pos = _skip(text, pos + 1)
        elif text[pos : pos + 1] != "]":
            yield Record(
                lines.at(pos), text[pos : pos + 200], error="broken JSON: expected ',' or ']'"
            )
            return
