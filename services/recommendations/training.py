"""Training the propensity model on the offer log, with scikit-learn.

Each logged showing is one example: the customer's encoded feature vector, which action, whether
it applied to them (its own applicability rule, a strong hand-made predictor), and whether they
accepted. One pooled logistic regression learns from all of them: shared feature weights, an
intercept per action (its base rate) and an applicability weight per action (a shared one plus
the action's own adjustment: for some actions "applicable" means much, for others little).
Pooling matters: a bank logs a few hundred showings per action, a dozen of them accepted, too
few for a model per action, while "applicable people say yes" holds across all of them.

Approximation, stated plainly: the features are the customer's *current* ones, not those at
the time of the showing (the log does not keep a snapshot). An offer shown a year ago met a
customer whose situation may since have changed, so examples are weighted by recency
(half-life ``HALF_LIFE_DAYS``): the recent answers, whose context is closest to today's
features, count most. Keeping a feature snapshot with each showing would remove the need.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import Connection

from services.recommendations.actions import Catalog
from services.recommendations.encoding import FEATURES, encode
from services.recommendations.offer_log import offer_rows
from services.recommendations.propensity import LinearModel, PropensityModel, SegmentPriors
from services.recommendations.signals import InsightFinder
from services.recommendations.vector import FeatureVector, build_vector

HALF_LIFE_DAYS = 60.0
MIN_WEIGHT = 0.05
MIN_SHOWN = 20  # fewer showings than this: the action keeps its segment prior
C = 1.0  # inverse L2 strength


def standardiser(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and standard deviations (1 where a column is constant)."""
    mean = x.mean(axis=0) if len(x) else np.zeros(x.shape[1])
    scale = x.std(axis=0) if len(x) else np.ones(x.shape[1])
    return mean, np.where(scale > 1e-9, scale, 1.0)


def fit_logistic(
    z: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None, *, c: float = C
) -> tuple[np.ndarray, float]:
    """Weights and intercept of an L2 logistic regression on standardised inputs ``z``."""
    from sklearn.linear_model import LogisticRegression

    if y.all() or not y.any():  # one class only: a constant at the (smoothed) observed rate
        rate = (y.sum() + 0.5) / (len(y) + 1)
        return np.zeros(z.shape[1]), float(np.log(rate / (1 - rate)))
    model = LogisticRegression(C=c, max_iter=2000)
    model.fit(z, y, sample_weight=weights)
    return model.coef_[0], float(model.intercept_[0])


@dataclass
class TrainingSet:
    """Examples from the offer log, aligned row by row."""

    x: np.ndarray  # encoded vectors
    applicable: np.ndarray  # 0/1: the action's applicability rule held
    codes: list[str]
    segments: list[str]
    accepted: np.ndarray
    age_days: np.ndarray


def vectors_for(
    conn: Connection,
    *,
    now: datetime,
    person_ids: list[int],
    insights_of: InsightFinder | None = None,
) -> dict[int, FeatureVector]:
    """Feature vectors of many people at ``now`` (with their insights, if a finder is given)."""
    out = {}
    for p in person_ids:
        found = insights_of(conn, person_id=p, now=now) if insights_of else None
        out[p] = build_vector(conn, person_id=p, now=now, insights=found)
    return out


def training_set(
    conn: Connection, *, now: datetime, catalog: Catalog, vectors: Mapping[int, FeatureVector]
) -> TrainingSet:
    """One example per logged showing before ``now`` of a catalogue action to a known person."""
    rows = [
        r
        for r in offer_rows(conn, until=now)
        if r["offer_code"] in catalog and r["person_id"] in vectors
    ]
    encoded = {p: encode(v) for p, v in vectors.items()}
    values = {p: v.values() for p, v in vectors.items()}
    x = np.array([encoded[r["person_id"]] for r in rows]).reshape(len(rows), len(FEATURES))
    return TrainingSet(
        x=x,
        applicable=np.array(
            [float(catalog[r["offer_code"]].applicable(values[r["person_id"]])) for r in rows]
        ),
        codes=[r["offer_code"] for r in rows],
        segments=[vectors[r["person_id"]].segment for r in rows],
        accepted=np.array([r["response"] == "accepted" for r in rows]),
        age_days=np.array([(now - r["shown_at"]).total_seconds() / 86_400 for r in rows]),
    )


def recency_weights(age_days: np.ndarray, half_life: float = HALF_LIFE_DAYS) -> np.ndarray:
    """Example weights halving every ``half_life`` days, never below ``MIN_WEIGHT``."""
    return np.maximum(MIN_WEIGHT, 0.5 ** (np.maximum(age_days, 0) / half_life))


def train_propensity(
    data: TrainingSet, catalog: Catalog, *, half_life: float = HALF_LIFE_DAYS
) -> PropensityModel:
    """Fit the per-action propensity model and the segment priors from ``data``."""
    base = {a.code: a.base_propensity for a in catalog}
    priors = SegmentPriors.from_responses(
        zip(data.segments, data.codes, data.accepted.tolist(), strict=True), base
    )
    mean, scale = standardiser(data.x)
    codes = np.array(data.codes)
    targets = tuple(a.code for a in catalog if (codes == a.code).sum() >= MIN_SHOWN)
    keep = np.isin(codes, targets)
    onehot = (codes[keep][:, None] == np.array(targets)[None, :]).astype(np.float64)
    flag = data.applicable[keep][:, None]
    inputs = np.column_stack([(data.x[keep] - mean) / scale, onehot, flag, onehot * flag])
    w, b = fit_logistic(
        inputs, data.accepted[keep], recency_weights(data.age_days[keep], half_life)
    )
    width, n = len(FEATURES), len(targets)
    model = LinearModel(
        FEATURES,
        targets,
        mean,
        scale,
        np.tile(w[:width], (n, 1)),
        b + w[width : width + n],
        w[width + n] + w[width + n + 1 :],
    )
    meta = {"examples": int(keep.sum()), "half_life_days": half_life, "actions": n}
    return PropensityModel(model, priors, meta)
