"""Digital events loader: app and web events (JSON Lines) into ``digital_event``.

An event's ``user_id`` (the online-banking login) is kept; its person is the one already known
under ``SourceIdentity(digital, user_id)``, if any. Identity resolution stitches the rest,
including the anonymous events before sign-in, later.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from services.ingest import store
from services.ingest.batch import DEFAULT_BATCH, FileLoad, IngestReport, Outcome, Ready, timed
from services.ingest.batch import load_file as run
from services.ingest.crm import source_file
from services.ingest.mapping import Mapping, canonical
from services.ingest.readers import read_jsonl
from services.ingest.values import check_fits, parse_datetime, required, text

SOURCE = "events"
SYSTEM = "digital"


def _event(m: Mapping) -> Callable[[dict[str, Any]], tuple[str, dict[str, Any]]]:
    def prepare(data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        f = m.extract("events", data)
        key = required(f, "event_id")
        detail = f["detail"]
        if isinstance(detail, dict | list):  # structured detail is kept as its JSON text
            f["detail"] = json.dumps(detail, sort_keys=True, separators=(",", ":"))
        row = {
            "source_ref": key,
            "device_id": required(f, "device_id"),
            "session_id": required(f, "session_id"),
            "occurred_at": parse_datetime(
                required(f, "occurred_at"), "occurred_at", m.datetime_format
            ),
            "channel": required(f, "channel"),
            "kind": required(f, "type"),
            "page": text(f, "page"),
            "detail": text(f, "detail"),
            "user_id": text(f, "user_id"),
        }
        check_fits(store.table("digital_event"), row)
        return key, row

    return prepare


def _write(conn: Connection, ready: list[Ready]) -> Outcome:
    events, ident = store.table("digital_event"), store.table("source_identity")
    have = store.existing(conn, events.c.source_ref, [key for _, key, _ in ready])
    rows = [row for _, key, row in ready if key not in have]
    people = store.lookup(
        conn,
        ident.c.source_key,
        [ident.c.person_id],
        [row["user_id"] for row in rows if row["user_id"]],
        ident.c.system == SYSTEM,
    )
    for row in rows:
        known = people.get(row["user_id"]) if row["user_id"] else None
        row["person_id"] = known.person_id if known else None
    store.insert_rows(conn, events, rows)
    return Outcome(loaded=len(rows), skipped=len(ready) - len(rows))


def load_events(
    engine: Engine,
    path: Path,
    *,
    mapping: Mapping | None = None,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Load digital events from ``events.jsonl`` (or a folder holding it).

    Args:
        engine: The system of record.
        path: The events file, or the folder it is in.
        mapping: The bank's names for the file and fields; canonical by default.
        batch_size: Events per transaction.
        progress: Called after each batch with the events read so far.

    Returns:
        What was read, loaded, skipped and rejected.

    Raises:
        IngestError: when the file is missing.
    """
    started = time.perf_counter()
    m = mapping or canonical(SOURCE)
    file = source_file(path, m, "events")
    report = IngestReport(source=SOURCE)
    load = FileLoad(SOURCE, "events", file, "event_id", lambda: read_jsonl(file), _event(m), _write)
    run(engine, load, report, batch_size=batch_size, progress=progress)
    return timed(report, started)
