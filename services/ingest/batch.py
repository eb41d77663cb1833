"""Loading a file in batches: each batch of rows, with its rejects, is one transaction.

A loader describes one file (``FileLoad``): how to read it, how to turn a record into a row
(pure, may raise ``RowError``) and how to write a batch of rows (lookups, idempotent inserts,
rejects for rows whose references are unknown). ``load_file`` does the rest.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from services.ingest import store
from services.ingest.readers import Record
from services.ingest.values import RowError

DEFAULT_BATCH = 1000
Ready = tuple[Record, str, dict[str, Any]]  # a record, its natural key, its row


@dataclass
class Outcome:
    """What writing one batch did."""

    loaded: int = 0
    skipped: int = 0
    rejects: list[tuple[Record, str]] = field(default_factory=list)


@dataclass
class FileCounts:
    """Counts for one file of a load."""

    path: str
    read: int = 0
    loaded: int = 0
    skipped: int = 0
    rejected: int = 0
    batches: int = 0


@dataclass
class IngestReport:
    """What a load did: rows read, loaded, skipped as already present, rejected, batches."""

    source: str
    files: dict[str, FileCounts] = field(default_factory=dict)
    seconds: float = 0.0

    def _total(self, name: str) -> int:
        return sum(int(getattr(counts, name)) for counts in self.files.values())

    @property
    def read(self) -> int:
        """Rows (or events, or contacts) read across the files."""
        return self._total("read")

    @property
    def loaded(self) -> int:
        """Rows written to the database by this load."""
        return self._total("loaded")

    @property
    def skipped(self) -> int:
        """Rows whose natural key was already loaded (by an earlier load, say)."""
        return self._total("skipped")

    @property
    def rejected(self) -> int:
        """Malformed rows, each recorded (once) in ``ingest_reject``."""
        return self._total("rejected")

    @property
    def batches(self) -> int:
        """Transactions committed."""
        return self._total("batches")

    def as_dict(self) -> dict[str, Any]:
        """The report as plain JSON-ready values."""
        return {
            "source": self.source,
            "read": self.read,
            "loaded": self.loaded,
            "skipped": self.skipped,
            "rejected": self.rejected,
            "batches": self.batches,
            "seconds": round(self.seconds, 3),
            "files": {name: asdict(counts) for name, counts in self.files.items()},
        }


@dataclass
class FileLoad:
    """How to load one file: read records, make rows, write a batch."""

    source: str
    name: str
    path: Path
    key: str
    records: Callable[[], Iterator[Record]]
    prepare: Callable[[dict[str, Any]], tuple[str, dict[str, Any]]]
    write: Callable[[Connection, list[Ready]], Outcome]


def _batches(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    batch: list[Record] = []
    for record in records:
        batch.append(record)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def load_file(
    engine: Engine,
    load: FileLoad,
    report: IngestReport,
    *,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int], None] | None = None,
) -> FileCounts:
    """Load one file in batches of ``batch_size`` records, each batch in one transaction.

    A batch's good rows and its rejects commit together, so a crash leaves whole batches
    only; loading again skips what is there and completes the rest.

    Args:
        engine: The system of record.
        load: The file and how to load it.
        report: Where this file's counts are added (under ``load.name``).
        batch_size: Records per transaction.
        progress: Called after each batch with the rows read so far in this report.

    Returns:
        This file's counts.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    counts = report.files.setdefault(load.name, FileCounts(path=str(load.path)))
    where = str(load.path.resolve())
    for batch in _batches(load.records(), batch_size):
        # A key twice in one batch is rejected; in a later batch it is simply already loaded
        # (skipped), which keeps memory flat however long the file is.
        seen: dict[str, int] = {}
        rejects: list[tuple[Record, str]] = []
        ready: list[Ready] = []
        for record in batch:
            if record.data is None:
                rejects.append((record, record.error or "unreadable"))
                continue
            try:
                key, row = load.prepare(record.data)
            except RowError as exc:
                rejects.append((record, str(exc)))
                continue
            if key in seen:
                rejects.append(
                    (record, f"duplicate {load.key} {key!r} (first on line {seen[key]})")
                )
                continue
            seen[key] = record.line
            ready.append((record, key, row))
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Key lookups run as prepared statements; a generic plan made while the table
                # was small would scan it whole for every batch once it has grown.
                conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
            outcome = load.write(conn, ready)
            rejects += outcome.rejects
            store.write_rejects(conn, source=load.source, file=where, rejects=rejects)
        counts.read += len(batch)
        counts.loaded += outcome.loaded
        counts.skipped += outcome.skipped
        counts.rejected += len(rejects)
        counts.batches += 1
        if progress:
            progress(report.read)
    return counts


def timed(report: IngestReport, started: float) -> IngestReport:
    """The report with its run time filled in."""
    report.seconds = time.perf_counter() - started
    return report
