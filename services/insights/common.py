"""Small helpers the insight detectors share: evidence ids, robust statistics."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import lru_cache

from services.insights import INSIGHT_TYPES, Insight, Severity
from services.insights.history import AccountRow, Entry, EventRow, SeriesRow, TransferRow

# Median absolute deviation -> standard deviation of a normal distribution.
MAD_TO_SD = 1.4826


def ref(item: Entry | EventRow | AccountRow | SeriesRow | TransferRow) -> str:
    """The evidence id of a row, e.g. ``ledger:123`` or ``series:4201``."""
    prefix = {
        Entry: "ledger",
        EventRow: "event",
        AccountRow: "account",
        SeriesRow: "series",
        TransferRow: "schedule",
    }[type(item)]
    return f"{prefix}:{item.id}"


def merchant_of(entry: Entry) -> str:
    """Who was paid: the merchant, else the counterparty, else the description (normalised)."""
    return _normalised(entry.merchant or entry.counterparty or entry.description)


@lru_cache(maxsize=65536)
def _normalised(name: str) -> str:
    # Called for every entry by several detectors; a customer has few distinct names.
    return " ".join(name.lower().split())


def median(values: Sequence[float]) -> float:
    """The median of a non-empty sequence."""
    ordered = sorted(values)
    mid = len(ordered) // 2
    return float(ordered[mid]) if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def mad(values: Sequence[float]) -> float:
    """Median absolute deviation from the median."""
    centre = median(values)
    return median([abs(v - centre) for v in values])


def robust_z(value: float, sample: Sequence[float]) -> float:
    """How many robust standard deviations ``value`` lies above the sample's median."""
    spread = MAD_TO_SD * mad(sample)
    centre = median(sample)
    if spread == 0:
        return math.inf if value > centre else 0.0
    return (value - centre) / spread


def make(
    kind: str,
    severity: Severity,
    message: str,
    evidence: Iterable[str],
    now: datetime,
    **data: object,
) -> Insight:
    """An insight of type ``kind`` with the action that type suggests."""
    return Insight(
        type=kind,
        severity=severity,
        message=message,
        suggested_action=INSIGHT_TYPES[kind],
        evidence=tuple(evidence),
        detected_at=now,
        data=dict(data),
    )
