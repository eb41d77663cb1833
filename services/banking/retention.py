"""How long idempotency keys are kept: at least a day, as payment APIs promise; 30 days by default.

A write's stored request and result (``write_request``) are what a retry under the same key
replays, so a key must outlive any sensible retry: a client that retries within 24 hours always
gets the first result (or a conflict for a different request), never a second run. After the
retention a key is purged and may be used again. The ledger and the audit log keep the history;
only the replay record goes. Both bounds are the ``idempotency_retention_hours`` setting's
(``services.settings``): the default of 720 hours covers the 30 days of writes the advisor
summary lists.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, delete
from sqlmodel import SQLModel

from services.banking.core import aware_utc
from services.settings import IDEMPOTENCY_RETENTION_HOURS, MIN_IDEMPOTENCY_RETENTION_HOURS

MIN_RETENTION = timedelta(hours=MIN_IDEMPOTENCY_RETENTION_HOURS)
DEFAULT_RETENTION = timedelta(hours=IDEMPOTENCY_RETENTION_HOURS)


def purge_write_requests(
    conn: Connection, *, now: datetime, retention: timedelta = DEFAULT_RETENTION
) -> int:
    """Delete the idempotency records created more than ``retention`` before ``now``.

    Args:
        conn: A connection in a transaction the caller commits.
        now: The clock (timezone-aware).
        retention: How long keys are kept; never less than :data:`MIN_RETENTION`.

    Returns:
        How many records were deleted.

    Raises:
        ValueError: ``retention`` is under 24 hours, or ``now`` is naive.
    """
    if retention < MIN_RETENTION:
        raise ValueError(f"idempotency keys are kept at least {MIN_RETENTION}, not {retention}")
    cutoff = aware_utc(now) - retention
    table = SQLModel.metadata.tables["write_request"]
    # Strictly older: a key exactly at the edge of its retention still replays.
    return int(conn.execute(delete(table).where(table.c.created_at < cutoff)).rowcount)
