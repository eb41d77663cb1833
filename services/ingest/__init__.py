"""Ingestion: each source system's export, in the canonical formats or through a mapping file.

``docs/data.md`` (Exports and ingestion) is the contract. Loads are idempotent (natural keys),
transactional per batch, and record malformed rows in ``ingest_reject`` while the good ones
load.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine

from services.ingest.batch import DEFAULT_BATCH, IngestReport
from services.ingest.core_banking import load_core_banking
from services.ingest.crm import load_crm
from services.ingest.events import load_events
from services.ingest.mapping import SOURCES, Mapping, MappingError, load_mapping
from services.ingest.readers import IngestError

LOADERS = {"core-banking": load_core_banking, "crm": load_crm, "events": load_events}

__all__ = [
    "DEFAULT_BATCH",
    "SOURCES",
    "IngestError",
    "IngestReport",
    "Mapping",
    "MappingError",
    "ingest",
    "load_mapping",
]


def ingest(
    engine: Engine,
    source: str,
    path: Path,
    *,
    mapping: Mapping | None = None,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Load one source system's export into the system of record.

    Args:
        engine: The system of record (schema in place).
        source: ``core-banking``, ``crm`` or ``events``.
        path: The export: a folder (core banking), or a file or its folder (crm, events).
        mapping: The bank's own names and formats; canonical when not given.
        batch_size: Rows per transaction.
        progress: Called after each batch with the rows read so far.

    Returns:
        What was read, loaded, skipped and rejected, in how many batches and seconds.

    Raises:
        IngestError: when the export cannot be loaded at all (missing file, missing column).
        MappingError: when ``mapping`` is for another source.
    """
    if source not in LOADERS:
        raise IngestError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")
    if mapping is not None and mapping.source != source:
        raise MappingError(f"the mapping is for {mapping.source}, not {source}")
    return LOADERS[source](engine, path, mapping=mapping, batch_size=batch_size, progress=progress)
