"""``concierge eval identity``: how well identity resolution finds the same person everywhere.

Self-contained: seeds a bank with a fixed seed in a temporary folder, exports it as three
systems that disagree (``--noise``), loads the exports into a fresh database, resolves
identities, and scores every record against the export's truth (pairwise precision/recall).
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from evals.linkage import pairwise_scores
from services.db import create_schema, make_engine
from services.identity.resolution import resolve
from services.ingest import ingest
from services.synth.export import export_bank
from services.synth.writer import seed_bank

AS_OF = date(2026, 11, 28)


def run_identity_eval(
    *,
    customers: int = 1000,
    seed: int = 7,
    noise: float = 0.3,
    workdir: Path | None = None,
    step: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Seed, export, ingest and resolve; return the pairwise scores and timings.

    Args:
        customers: Size of the bank.
        seed: Seed of the bank (and of the export's disagreements).
        noise: How much the systems disagree, 0..1.
        workdir: Keep the databases and exports here instead of a temporary folder.
        step: Called with the name of each stage as it starts (for progress display).
    """
    say = step or (lambda _name: None)
    with tempfile.TemporaryDirectory(prefix="concierge-identity-") as tmp:
        root = workdir or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        for name in ("source.db", "target.db"):
            for leftover in root.glob(f"{name}*"):
                leftover.unlink()
        say("seeding")
        source = make_engine(f"sqlite:///{(root / 'source.db').as_posix()}")
        seed_bank(source, customers=customers, seed=seed, as_of=AS_OF)
        say("exporting")
        export_bank(source, root / "export", noise=noise)
        source.dispose()
        target = make_engine(f"sqlite:///{(root / 'target.db').as_posix()}")
        create_schema(target)
        started = time.perf_counter()
        for source_name, folder in (
            ("core-banking", "core_banking"),
            ("crm", "crm"),
            ("events", "digital"),
        ):
            say(f"ingesting {source_name}")
            ingest(target, source_name, root / "export" / folder)
        loaded = time.perf_counter() - started
        say("resolving")
        report = resolve(target)
        target.dispose()
        truth = json.loads((root / "export" / "truth.json").read_text())["records"]
    scores = pairwise_scores(report.person_of, truth)
    return {
        **{k: round(v, 5) if isinstance(v, float) else v for k, v in scores.items()},
        "seconds": round(report.seconds, 3),
        "ingest_seconds": round(loaded, 3),
        "customers": customers,
        "noise": noise,
        "seed": seed,
        "candidate_pairs": report.candidate_pairs,
        "deterministic_links": report.deterministic_links,
        "probabilistic_links": report.probabilistic_links,
    }
