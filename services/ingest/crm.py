"""CRM loader: contacts (JSON) into ``crm_contact``, as typed, for identity resolution.

Values are kept close to raw (trimmed; dates of birth parsed from ``YYYY-MM-DD`` or
``MM/DD/YYYY``): normalising names, e-mails and phones for matching is identity resolution's
job, which also fills ``person_id``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from services.ingest import store
from services.ingest.batch import DEFAULT_BATCH, FileLoad, IngestReport, Outcome, Ready, timed
from services.ingest.batch import load_file as run
from services.ingest.mapping import Mapping, canonical
from services.ingest.readers import IngestError, read_json_records
from services.ingest.values import (
    ISO_DATE,
    US_DATE,
    RowError,
    check_fits,
    parse_date,
    required,
    text,
)

SOURCE = "crm"
TEXT_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "street",
    "city",
    "postal_code",
    "segment",
    "core_customer_id",
)


def source_file(path: Path, mapping: Mapping, file: str) -> Path:
    """``path`` itself, or the mapping's file name inside it when it is a folder.

    Raises:
        IngestError: when there is no such file.
    """
    target = path / mapping.file_name(file) if path.is_dir() else path
    if not target.is_file():
        raise IngestError(f"{target}: no such file")
    return target


def _notes(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RowError("notes: expected a list of texts")
    notes = [v.strip() for v in value if v.strip()]
    return notes or None


def _contact(m: Mapping) -> Callable[[dict[str, Any]], tuple[str, dict[str, Any]]]:
    dates = (m.date_format,) if m.date_format else (ISO_DATE, US_DATE)

    def prepare(data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        f = m.extract("contacts", data)
        key = required(f, "contact_id")
        last4 = text(f, "national_id_last4")
        if last4 is not None and not re.fullmatch(r"\d{4}", last4):
            raise RowError(f"national_id_last4: {last4!r} is not four digits")
        row: dict[str, Any] = {name: text(f, name) for name in TEXT_FIELDS}
        row |= {
            "contact_id": key,
            "date_of_birth": parse_date(text(f, "date_of_birth"), "date_of_birth", dates),
            "national_id_last4": last4,
            "notes": _notes(f["notes"]),
            "person_id": None,  # identity resolution decides who this is
        }
        check_fits(store.table("crm_contact"), row)
        return key, row

    return prepare


def _write(conn: Connection, ready: list[Ready]) -> Outcome:
    contacts = store.table("crm_contact")
    have = store.existing(conn, contacts.c.contact_id, [key for _, key, _ in ready])
    rows = [row for _, key, row in ready if key not in have]
    store.insert_rows(conn, contacts, rows)
    return Outcome(loaded=len(rows), skipped=len(ready) - len(rows))


def load_crm(
    engine: Engine,
    path: Path,
    *,
    mapping: Mapping | None = None,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Load CRM contacts from ``contacts.json`` (or a folder holding it).

    Args:
        engine: The system of record.
        path: The contacts file, or the folder it is in.
        mapping: The bank's names for the file and fields (dotted paths); canonical by default.
        batch_size: Contacts per transaction.
        progress: Called after each batch with the contacts read so far.

    Returns:
        What was read, loaded, skipped and rejected.

    Raises:
        IngestError: when the file is missing.
    """
    started = time.perf_counter()
    m = mapping or canonical(SOURCE)
    file = source_file(path, m, "contacts")
    report = IngestReport(source=SOURCE)
    load = FileLoad(
        SOURCE,
        "contacts",
        file,
        "contact_id",
        lambda: read_json_records(file, "contacts"),
        _contact(m),
        _write,
    )
    run(engine, load, report, batch_size=batch_size, progress=progress)
    return timed(report, started)
