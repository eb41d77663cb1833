"""How well the insight detectors find the situations planted in a synthetic bank.

Every customer's insights are computed from their own data (``services.insights.detectors``);
only this evaluation reads the ground truth, and compares, per insight type, the customers the
detector fired for with the customers carrying the planted twin (``PLANTED_SITUATION``).
``upcoming_bills``' twin is observed, not planted: the generator's own schedule of each bill
and subscription (``bills_due_soon``), so it checks the path from the generator through the
database to the detector rather than a hard inference.

Run ``python -m evals.insights --customers 1000 --seed 7`` for the JSON report.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import SQLModel

from services.db import make_engine
from services.insights import INSIGHT_TYPES, PLANTED_SITUATION, PLANTED_WHEN
from services.insights.detectors import detect_all
from services.insights.history import load_history
from services.synth.writer import seed_bank
from services.truth import labelled

AS_OF = date(2026, 11, 28)
NOW = datetime(AS_OF.year, AS_OF.month, AS_OF.day, 12, tzinfo=UTC)


@dataclass
class Scan:
    """Who each insight type fired for, and what it cost."""

    customers: int = 0
    fired: dict[str, set[int]] = field(default_factory=lambda: {t: set() for t in INSIGHT_TYPES})
    twins: dict[str, set[int]] = field(default_factory=lambda: {t: set() for t in INSIGHT_TYPES})
    load_seconds: float = 0.0
    detect_seconds: float = 0.0
    per_customer_ms: list[float] = field(default_factory=list)  # load and detect, each customer


def scan(engine: Engine, *, now: datetime) -> Scan:
    """Load every customer's history and run every detector, timing both."""
    out = Scan()
    person = SQLModel.metadata.tables["person"]
    with engine.connect() as conn:
        people = list(conn.execute(select(person.c.id).order_by(person.c.id)).scalars())
        for pid in people:
            started = time.perf_counter()
            history = load_history(conn, person_id=pid, now=now)
            loaded = time.perf_counter()
            found = detect_all(history, now)
            done = time.perf_counter()
            out.detect_seconds += done - loaded
            out.load_seconds += loaded - started
            out.per_customer_ms.append((done - started) * 1000)
            for insight in found:
                out.fired[insight.type].add(pid)
                qualifier = PLANTED_WHEN.get(insight.type)
                if qualifier is None or insight.data.get(qualifier) is not None:
                    out.twins[insight.type].add(pid)
    out.customers = len(people)
    return out


def score(found: Scan, truth: dict[str, set[int]]) -> dict[str, dict[str, Any]]:
    """Precision, recall and support per insight type against the planted twins."""
    report: dict[str, dict[str, Any]] = {}
    for kind in INSIGHT_TYPES:
        fired = found.fired[kind]
        if kind not in PLANTED_SITUATION:
            report[kind] = {"precision": None, "recall": None, "support": None, "fired": len(fired)}
            continue
        predicted, known = found.twins[kind], truth[kind]
        hits = len(predicted & known)
        report[kind] = {
            "precision": round(hits / len(predicted), 4) if predicted else None,
            "recall": round(hits / len(known), 4) if known else None,
            "support": len(known),
            "fired": len(fired),
        }
    return report


def planted(engine: Engine) -> dict[str, set[int]]:
    """Customers carrying each insight type's planted twin (ground truth: evaluation only)."""
    with engine.connect() as conn:
        return {
            kind: set(labelled(conn, kind="situation", label=label))
            for kind, label in PLANTED_SITUATION.items()
        }


def evaluate_insights(engine: Engine, *, now: datetime) -> dict[str, dict[str, Any]]:
    """Precision, recall and support of every detector over all customers of a seeded bank.

    Args:
        engine: A seeded bank (with its ``ground_truth`` table).
        now: The clock the detectors run at (aware UTC), normally noon of the bank's as-of day.

    Returns:
        Insight type -> ``{"precision", "recall", "support", "fired"}``; precision and recall
        are None when nothing was fired or planted.
    """
    return score(scan(engine, now=now), planted(engine))


def run_insights_eval(
    *, customers: int = 1000, seed: int = 7, workdir: Path | None = None
) -> dict[str, Any]:
    """Seed a fresh bank in a temporary SQLite file, evaluate, and time the detectors.

    Args:
        customers: Size of the bank.
        seed: Seed of the bank.
        workdir: Keep the database here instead of a temporary folder.
    """
    with tempfile.TemporaryDirectory(prefix="concierge-insights-") as tmp:
        root = workdir or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        path = root / f"insights-{seed}-{customers}.db"
        for leftover in root.glob(f"{path.name}*"):
            leftover.unlink()
        engine = make_engine(f"sqlite:///{path.as_posix()}")
        seed_bank(engine, customers=customers, seed=seed, as_of=AS_OF)
        with engine.connect() as conn:  # fold the seeding's write-ahead log into the file
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        found = scan(engine, now=NOW)
        report = score(found, planted(engine))
        engine.dispose()
    per = 1000 / max(1, found.customers)
    ordered = sorted(found.per_customer_ms) or [0.0]
    return {
        "insights": report,
        "customers": found.customers,
        "seed": seed,
        "now": NOW.isoformat(),
        "ms_per_customer": {
            "load": round(found.load_seconds * per, 3),
            "detect": round(found.detect_seconds * per, 3),
            "total": round((found.load_seconds + found.detect_seconds) * per, 3),
            "p50": round(ordered[len(ordered) // 2], 3),
            "p99": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 3),
        },
    }


def main(argv: list[str] | None = None) -> None:
    """Print the evaluation as one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)
    result = run_insights_eval(customers=args.customers, seed=args.seed, workdir=args.workdir)
    sys.stdout.write(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
