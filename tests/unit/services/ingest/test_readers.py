"""Reading source files (line numbers, broken records) and parsing fields (dates, money)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from services.ingest.readers import (
    IngestError,
    csv_header,
    read_csv,
    read_json_records,
    read_jsonl,
)
from services.ingest.values import (
    RowError,
    currency_code,
    minor,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_decimal,
    text,
)


def test_csv_rows_carry_their_line_and_raw_text(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text('id,note\n1,plain\n\n2,"two\nlines"\n3,too,many\n4,"last"\n', encoding="utf-8")
    records = list(read_csv(path))
    assert [(r.line, r.error is None) for r in records] == [
        (2, True),
        (4, True),
        (6, False),
        (7, True),
    ]
    assert records[0].data == {"id": "1", "note": "plain"}
    assert records[1].data == {"id": "2", "note": "two\nlines"}
    assert records[1].raw == '2,"two\nlines"'
    assert records[2].error == "expected 2 fields, got 3"
    assert records[2].raw == "3,too,many"


def test_csv_bytes_that_are_not_utf8_are_a_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b"id,name\n1,Ann\n2,Jos\xe9\n")
    records = list(read_csv(path))
    assert records[0].data == {"id": "1", "name": "Ann"}
    assert records[1].error == "not UTF-8 text"


def test_csv_header_of_an_empty_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("", encoding="utf-8")
    with pytest.raises(IngestError, match="empty file"):
        csv_header(path)
    path.write_text("\ufeffa, b ,c\n", encoding="utf-8")
    assert csv_header(path) == ["a", "b", "c"]


def test_jsonl_broken_lines_are_rejected_and_the_rest_read(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text('{"a": 1}\n{"a": \n\n[1, 2]\n{"a": 3}\n', encoding="utf-8")
    records = list(read_jsonl(path))
    assert [r.line for r in records] == [1, 2, 4, 5]
    assert records[0].data == {"a": 1}
    assert records[1].error is not None and records[1].error.startswith("broken JSON")
    assert records[2].error == "expected a JSON object, got list"
    assert records[3].data == {"a": 3}


def test_json_records_have_the_line_they_start_on(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(
        '{"exported_at": "x", "meta": {"n": [1]},\n "contacts": [\n{"id": 1},\n'
        '{"id": 2,\n "x": "y"},\n{"id": 3}\n]}\n',
        encoding="utf-8",
    )
    records = list(read_json_records(path, "contacts"))
    assert [(r.line, r.data) for r in records] == [
        (3, {"id": 1}),
        (4, {"id": 2, "x": "y"}),
        (6, {"id": 3}),
    ]
    assert records[1].raw == '{"id": 2,\n "x": "y"}'


def test_a_broken_json_record_costs_only_itself(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text('[\n{"id": 1},\n{"id": 2, oops},\n{"id": 3},\n"text"\n]', encoding="utf-8")
    records = list(read_json_records(path, "contacts"))
    assert [r.line for r in records] == [2, 3, 4, 5]
    assert records[1].error is not None and records[1].error.startswith("broken JSON")
    assert records[1].raw == '{"id": 2, oops}'
    assert records[2].data == {"id": 3}
    assert records[3].error == "expected a JSON object, got str"


def test_a_json_document_without_the_list_is_one_reject(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text('{"people": []}', encoding="utf-8")
    (record,) = read_json_records(path, "contacts")
    assert record.error == "no 'contacts' list in the document"
    path.write_text('{"contacts": [{"id": 1}', encoding="utf-8")
    records = list(read_json_records(path, "contacts"))
    assert records[0].data == {"id": 1}
    assert records[-1].error is not None


@pytest.mark.parametrize(
    ("value", "comma", "expected"),
    [
        ("-1234.50", False, Decimal("-1234.50")),
        ("1,234.50", False, Decimal("1234.50")),
        ("1,234,567", False, Decimal("1234567")),
        ("1.234,50", True, Decimal("1234.50")),
        ("-4,20", True, Decimal("-4.20")),
        ("1.234.567,8", True, Decimal("1234567.8")),
        ("0", True, Decimal("0")),
    ],
)
def test_amounts_parse_exactly(value: str, comma: bool, expected: Decimal) -> None:
    assert parse_decimal(value, "amount", decimal_comma=comma) == expected


@pytest.mark.parametrize(
    ("value", "comma"),
    [("ten", False), ("1,5", False), ("12.50", True), ("NaN", False), ("1e400x", False)],
)
def test_bad_amounts_are_row_errors(value: str, comma: bool) -> None:
    with pytest.raises(RowError, match="is not an amount"):
        parse_decimal(value, "amount", decimal_comma=comma)


def test_money_goes_to_minor_units_or_says_why() -> None:
    assert minor(Decimal("-1234.50"), "USD", "balance") == -123450
    assert minor(Decimal("1200"), "JPY", "balance") == 1200
    assert minor(None, "USD", "x") is None
    with pytest.raises(RowError, match="balance: .* more decimals"):
        minor(Decimal("1.005"), "USD", "balance")
    assert currency_code("usd") == "USD"
    with pytest.raises(RowError, match="unknown currency 'XYZ'"):
        currency_code("XYZ")


def test_dates_and_times() -> None:
    both = ("%Y-%m-%d", "%m/%d/%Y")
    assert parse_date("1986-04-02", "dob", both) == date(1986, 4, 2)
    assert parse_date("04/02/1986", "dob", both) == date(1986, 4, 2)
    assert parse_date(None, "dob", both) is None
    with pytest.raises(RowError, match=r"dob: '1986-13-02' is not a date \(YYYY-MM-DD or MM/DD"):
        parse_date("1986-13-02", "dob", both)
    utc = datetime(2026, 3, 2, 10, tzinfo=UTC)
    assert parse_datetime("2026-03-02T10:00:00Z", "at", None) == utc
    assert parse_datetime("2026-03-02T11:00:00+01:00", "at", None) == utc
    assert parse_datetime("2026-03-02T10:00:00", "at", None) == utc
    assert parse_datetime("02/03/2026 10:00", "at", "%d/%m/%Y %H:%M") == utc
    with pytest.raises(RowError, match="at: 'yesterday' is not a timestamp"):
        parse_datetime("yesterday", "at", None)


def test_text_and_flags() -> None:
    assert text({"a": "  x "}, "a") == "x"
    assert text({"a": "   "}, "a") is None
    assert text({"a": 62704}, "a") == "62704"
    assert text({}, "a") is None
    with pytest.raises(RowError, match="expected text"):
        text({"a": {"b": 1}}, "a")
    assert parse_bool("TRUE", "b") is True
    assert parse_bool(None, "b") is False
    with pytest.raises(RowError, match="not true or false"):
        parse_bool("maybe", "b")
