"""Mapping files: the documented schema loads; every kind of mistake gets a precise error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from services.ingest.mapping import (
    CANONICAL,
    FILE_NAMES,
    MappingError,
    canonical,
    load_mapping,
    parse_mapping,
)
from tests.support import ROOT


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mapping.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_documented_example_is_a_valid_mapping(tmp_path: Path) -> None:
    doc = (ROOT / "docs/data.md").read_text(encoding="utf-8")
    example = re.search(r"```yaml\n(source: core-banking.*?)```", doc, re.S)
    assert example is not None
    m = load_mapping(_write(tmp_path, example.group(1)))
    assert m.source == "core-banking"
    assert m.file_name("customers") == "clients.csv"
    assert m.file_name("accounts") == "accounts.csv"  # not named: canonical
    assert m.column("customers", "customer_id") == "CLIENT_NO"
    assert m.column("customers", "email") == "email"
    assert m.column("transactions", "amount") == "AMT"
    assert m.date_format == "%d/%m/%Y"
    assert m.datetime_format == "%d/%m/%Y %H:%M"
    assert m.decimal_comma is False


def test_canonical_mapping_names_every_file_and_field() -> None:
    for source, files in CANONICAL.items():
        m = canonical(source)
        for file, fields in files.items():
            assert m.file_name(file) == FILE_NAMES[source][file]
            for name in fields:
                assert m.column(file, name) == fields[name]
    assert canonical("crm").column("contacts", "street") == "address.street"


def test_extract_follows_dotted_paths_and_fills_missing_with_none() -> None:
    m = parse_mapping(
        {
            "source": "crm",
            "fields": {"contacts": {"contact_id": "id", "first_name": "name.given"}},
        }
    )
    fields = m.extract(
        "contacts", {"id": "C1", "name": {"given": "Kate"}, "address": {"city": "Springfield"}}
    )
    assert fields["contact_id"] == "C1"
    assert fields["first_name"] == "Kate"
    assert fields["city"] == "Springfield"
    assert fields["last_name"] is None
    assert set(fields) == set(CANONICAL["crm"]["contacts"])


def test_missing_reports_bank_and_canonical_names() -> None:
    m = parse_mapping({"source": "core-banking", "fields": {"customers": {"customer_id": "NO"}}})
    assert m.missing(
        "customers", ["first_name", "x"], ("customer_id", "first_name", "last_name")
    ) == [
        "NO (customer_id)",
        "last_name",
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([1, 2], "expected a YAML mapping"),
        ({"source": "crm", "colums": {}}, "unknown key(s) ['colums']"),
        ({"source": "mainframe"}, "source: expected one of core-banking, crm, events"),
        ({}, "source: expected one of"),
        ({"source": "crm", "files": {"clients": "c.json"}}, "files.clients: crm has no file"),
        ({"source": "crm", "files": {"contacts": "../x.json"}}, "files.contacts: expected a plain"),
        ({"source": "crm", "files": ["contacts"]}, "files: expected a mapping, got list"),
        (
            {"source": "events", "fields": {"contacts": {"event_id": "id"}}},
            "fields.contacts: events has no file",
        ),
        (
            {"source": "core-banking", "fields": {"customers": {"client": "NO"}}},
            "fields.customers.client: not a canonical field of core-banking customers",
        ),
        (
            {"source": "core-banking", "fields": {"customers": {"customer_id": 7}}},
            "fields.customers.customer_id: expected a column name, got 7",
        ),
        (
            {"source": "core-banking", "fields": {"customers": {"customer_id": " "}}},
            "expected a column name",
        ),
        (
            {"source": "core-banking", "fields": {"transactions": {"amount": "balance_after"}}},
            "'balance_after' is given for both amount and balance_after",
        ),
        (
            {
                "source": "core-banking",
                "fields": {"customers": {"first_name": "N", "last_name": "N"}},
            },
            "'N' is given for both first_name and last_name",
        ),
        ({"source": "crm", "formats": {"dates": "%Y"}}, "formats: unknown key(s) ['dates']"),
        ({"source": "crm", "formats": {"date": "dd/mm/yyyy"}}, "formats.date: expected a strptime"),
        ({"source": "crm", "formats": {"date": "%Y-%m"}}, "must give the day, month and year"),
        (
            {"source": "events", "formats": {"datetime": "%d/%m/%Y"}},
            "formats.datetime: '%d/%m/%Y' must give the day, month, year and hour",
        ),
        ({"source": "crm", "formats": {"decimal_comma": "yes"}}, "expected true or false"),
    ],
)
def test_schema_errors_name_the_key(data: object, message: str) -> None:
    with pytest.raises(MappingError) as caught:
        parse_mapping(data, where="bank.yaml")
    assert str(caught.value).startswith("bank.yaml: ")
    assert message in str(caught.value)


def test_a_mapping_for_another_source_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "source: crm\n")
    with pytest.raises(MappingError, match="this mapping is for crm, not events"):
        load_mapping(path, source="events")


def test_yaml_syntax_errors_give_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "source: crm\nfields:\n  contacts: {contact_id: id\n")
    with pytest.raises(MappingError, match=r"mapping.yaml: not valid YAML at line \d+, column \d+"):
        load_mapping(path)


def test_a_missing_file_is_a_mapping_error(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="cannot read the mapping file"):
        load_mapping(tmp_path / "nope.yaml")


def test_formats_and_files_round_trip_through_yaml(tmp_path: Path) -> None:
    text = yaml.safe_dump(
        {
            "source": "events",
            "files": {"events": "clicks.jsonl"},
            "fields": {"events": {"event_id": "id", "type": "what"}},
            "formats": {"datetime": "%d.%m.%Y %H:%M:%S", "decimal_comma": True},
        }
    )
    m = load_mapping(_write(tmp_path, text), source="events")
    assert m.file_name("events") == "clicks.jsonl"
    assert m.column("events", "type") == "what"
    assert m.datetime_format == "%d.%m.%Y %H:%M:%S"
    assert m.decimal_comma is True
