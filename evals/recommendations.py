"""``concierge eval recommendations``: do the levels recommend what customers really need?

Self-contained: seeds a *training* bank and a separate *test* bank (same size, different seeds)
in a temporary folder, trains the propensity and risk models on the training bank's offer
history, then decides for every test customer at each level and scores the top three offers
against the test bank's hidden needs (ground truth, read only here). Conversion is the
simulated acceptance rate of each level's top offer, with the generator's own response model.
The insight detectors are scored on the test bank too.

Levels reported: ``random``; ``segment`` — archetype rules: segment targeting
with the catalogue's own base rates; ``segment_learned`` — the same targeting with acceptance
rates learned per segment from the offer history (a stronger baseline, shown beside it);
``behavioral``; ``predictive``.
"""

from __future__ import annotations

import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from evals.insights import evaluate_insights
from services.db import make_engine
from services.insights.detectors import insights_for
from services.recommendations.catalog import default_catalog
from services.recommendations.engine import decide
from services.recommendations.propensity import BasePropensity
from services.recommendations.trainer import train_all
from services.recommendations.vector import build_vector
from services.synth.offers import OFFERS, WITH_NEED, WITHOUT_NEED
from services.synth.writer import seed_bank

AS_OF = date(2026, 11, 28)
NOW = datetime(AS_OF.year, AS_OF.month, AS_OF.day, 12, tzinfo=UTC)
# Report name -> (engine level, propensity). ``segment`` is archetype rules:
# segment targeting with the catalogue's own base rates. ``segment_learned`` adds acceptance rates
# learned per segment from the offer history: a stronger baseline, reported beside it.
RUNS: dict[str, tuple[str, str]] = {
    "random": ("random", "base"),
    "segment": ("segment", "base"),
    "segment_learned": ("segment", "priors"),
    "behavioral": ("behavioral", "trained"),
    "predictive": ("predictive", "trained"),
}
K = 3


def _needs(engine: Engine) -> dict[int, set[str]]:
    needs: dict[int, set[str]] = defaultdict(set)
    with engine.connect() as conn:
        for person, label in conn.execute(
            text("SELECT person_id, label FROM ground_truth WHERE kind = 'need'")
        ):
            needs[int(person)].add(str(label))
    return needs


def score_levels(engine: Engine, trained: Any, *, now: datetime = NOW) -> dict[str, Any]:
    """Top-3 offers per customer and level, scored against the hidden needs (micro-averaged)."""
    catalog = default_catalog()
    needs = _needs(engine)
    offers = set(OFFERS)
    tally = {name: {"hits": 0, "shown": 0, "needs": 0, "accept": 0.0, "top": 0} for name in RUNS}
    propensities = {
        "base": BasePropensity(),
        "priors": trained.propensity.priors,
        "trained": trained.propensity,
    }
    with engine.connect() as conn:
        people = [int(p) for (p,) in conn.execute(text("SELECT id FROM person ORDER BY id"))]
        for person_id in people:
            vector = build_vector(
                conn,
                person_id=person_id,
                now=now,
                insights=insights_for(conn, person_id=person_id, now=now),
            )
            vector.scores = trained.risk.score(vector)
            wanted = needs.get(person_id, set())
            for name, (level, which) in RUNS.items():
                ranked = decide(
                    vector,
                    catalog=catalog,
                    level=level,
                    now=now,
                    k=25,
                    propensity=propensities[which],
                    apply_policy=False,
                )
                top = [r.code for r in ranked if r.code in offers][:K]
                t = tally[name]
                t["hits"] += len(set(top) & wanted)
                t["shown"] += len(top)
                t["needs"] += len(wanted)
                if top:
                    t["top"] += 1
                    t["accept"] += (WITH_NEED if top[0] in wanted else WITHOUT_NEED)["accepted"]
    return {
        level: {
            "precision_at_3": round(t["hits"] / t["shown"], 4) if t["shown"] else 0.0,
            "recall_at_3": round(t["hits"] / t["needs"], 4) if t["needs"] else 0.0,
            "conversion": round(t["accept"] / t["top"], 4) if t["top"] else 0.0,
            "customers_shown": t["top"],
        }
        for level, t in tally.items()
    }


def run_recommendations_eval(
    *,
    customers: int = 1000,
    seed: int = 7,
    workdir: Path | None = None,
    step: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Seed the two banks, train, decide and score; return the report."""
    say = step or (lambda _name: None)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="concierge-recs-") as tmp:
        root = workdir or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        banks = {}
        for name, bank_seed in (("train", seed + 1000), ("test", seed)):
            path = root / f"{name}-{bank_seed}-{customers}.db"
            for leftover in root.glob(f"{path.name}*"):
                leftover.unlink()
            say(f"seeding the {name} bank")
            banks[name] = make_engine(f"sqlite:///{path.as_posix()}")
            seed_bank(banks[name], customers=customers, seed=bank_seed, as_of=AS_OF)
        say("training on the training bank's offer history")
        with banks["train"].connect() as conn:
            trained = train_all(conn, now=NOW, catalog=default_catalog(), insights_of=insights_for)
        say("deciding for every test customer at every level")
        levels = score_levels(banks["test"], trained)
        say("scoring the insight detectors")
        insights = {
            kind: {"precision": s["precision"], "recall": s["recall"]}
            for kind, s in evaluate_insights(banks["test"], now=NOW).items()
        }
        for engine in banks.values():
            engine.dispose()
    segment = levels["segment"]["conversion"]
    learned = levels["segment_learned"]["conversion"]
    return {
        "levels": levels,
        "insights": insights,
        "predictive_vs_segment_conversion": round(levels["predictive"]["conversion"] / segment, 2)
        if segment
        else None,
        "predictive_vs_segment_learned_conversion": round(
            levels["predictive"]["conversion"] / learned, 2
        )
        if learned
        else None,
        "customers": customers,
        "seed": seed,
        "train_seed": seed + 1000,
        "seconds": round(time.perf_counter() - started, 1),
    }
