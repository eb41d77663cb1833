"""Train every model of the recommendation core from the system of record, in one call.

For the CLI and evaluations: vectors of everyone (with insights when a finder is given), the
propensity model and segment priors from the offer log, the churn and home-buying models from
raw behaviour; saved to one folder (plain arrays and JSON) and returned ready to use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, select
from sqlmodel import SQLModel

from services.recommendations.actions import Catalog
from services.recommendations.propensity import PropensityModel
from services.recommendations.risk import RiskModels, churn_labels, home_buying_labels, train_risk
from services.recommendations.signals import InsightFinder
from services.recommendations.training import train_propensity, training_set, vectors_for
from services.recommendations.vector import FeatureVector


@dataclass
class Trained:
    """The trained models, and the vectors they were trained on (with risk scores filled)."""

    propensity: PropensityModel
    risk: RiskModels
    vectors: dict[int, FeatureVector]


def train_all(
    conn: Connection,
    *,
    now: datetime,
    catalog: Catalog,
    folder: Path | str | None = None,
    insights_of: InsightFinder | None = None,
) -> Trained:
    """Train the propensity and risk models on everyone in the bank at ``now``.

    Args:
        conn: A connection to the system of record (the ground truth is never read).
        now: The clock the features and labels are computed at.
        catalog: The actions whose propensities to learn.
        folder: Where to save the models; not saved when omitted.
        insights_of: Finds each customer's insights, e.g. ``insight_detectors.insights_for``.
    """
    people = [int(p) for (p,) in conn.execute(select(SQLModel.metadata.tables["person"].c.id))]
    vectors = vectors_for(conn, now=now, person_ids=sorted(people), insights_of=insights_of)
    propensity = train_propensity(
        training_set(conn, now=now, catalog=catalog, vectors=vectors), catalog
    )
    labels = {
        "churn": churn_labels(conn, now=now),
        "home_buying": home_buying_labels(conn, now=now),
    }
    risk = train_risk(vectors, labels)
    for vector in vectors.values():
        vector.scores = risk.score(vector)
    if folder is not None:
        propensity.save(folder)
        risk.save(folder)
    return Trained(propensity, risk, vectors)
