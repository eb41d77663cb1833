"""Churn and life-event (home buying) models: scores the predictive level's rules may read.

Labels come from raw behaviour in the system of record, never from the ground truth:

* **churn**: pay that used to arrive has stopped (income credits in the year before, none in
  the last 35 days), or money is moving to other banks (transfers out over the last 60 days
  worth at least half a month's income and $1,000);
* **home buying**: two or more mortgage page views, calculator runs or pre-approval clicks in
  the last 30 days while renting on a lease that ends within 180 days.

Each model is a logistic regression over the encoded vector *without* the features its label
is made of (a model that restates its label learns nothing); it finds the same people from
their other traces (engagement falling, a house deposit goal, balances) and so also scores
customers whose label-defining behaviour has only begun.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import Connection, and_, case, func, or_, select
from sqlmodel import SQLModel

from services.recommendations.encoding import FEATURES, encode
from services.recommendations.propensity import LinearModel
from services.recommendations.signals import as_date
from services.recommendations.training import fit_logistic, standardiser
from services.recommendations.vector import FeatureVector

_T = SQLModel.metadata.tables
EXCLUDED: dict[str, tuple[str, ...]] = {
    "churn": (
        "days_since_income",
        "income_trend",
        "income_30d",
        "net_30d",
        "outflow_other_banks",
        "regular_pay",
    ),
    "home_buying": ("mortgage_research", "lease_days", "lease_soon"),
}
NOT_INPUTS = ("insight.", "score.")  # detector output and the models' own scores


def churn_labels(conn: Connection, *, now: datetime) -> dict[int, bool]:
    """Per person: whether their pay stopped or their money is leaving for another bank."""
    ledger = _T["ledger_entry"]
    amount, booked = ledger.c.amount_minor, ledger.c.booked_at
    is_income = and_(ledger.c.category == "income", amount > 0)
    year_ago, quarter_ago = now - timedelta(days=365), now - timedelta(days=90)
    rows = conn.execute(
        select(
            ledger.c.person_id,
            func.sum(case((and_(is_income, booked < quarter_ago), 1), else_=0)),
            func.sum(case((and_(is_income, booked >= now - timedelta(days=35)), 1), else_=0)),
            func.sum(case((and_(is_income, booked < now - timedelta(days=60)), amount), else_=0)),
            func.sum(
                case(
                    (
                        and_(
                            ledger.c.category == "transfer_out",
                            amount < 0,
                            booked >= now - timedelta(days=60),
                        ),
                        -amount,
                    ),
                    else_=0,
                )
            ),
        )
        .where(booked >= year_ago, booked <= now)
        .group_by(ledger.c.person_id)
    ).all()
    out = {}
    for person_id, paid_before, paid_lately, income_before, moved in rows:
        monthly = int(income_before or 0) / 10  # the ten months before the last two
        stopped = int(paid_before or 0) >= 3 and int(paid_lately or 0) == 0
        leaving = int(moved or 0) >= max(100_000, monthly / 2)
        out[int(person_id)] = stopped or leaving
    return out


def home_buying_labels(conn: Connection, *, now: datetime) -> dict[int, bool]:
    """Per person: mortgage research in the last 30 days while a lease ends within 180."""
    event = _T["digital_event"]
    research = conn.execute(
        select(event.c.person_id, func.count())
        .where(
            event.c.person_id.is_not(None),
            event.c.occurred_at >= now - timedelta(days=30),
            event.c.occurred_at <= now,
            or_(event.c.page.like("/mortgages/%"), event.c.detail.like("mortgage%")),
        )
        .group_by(event.c.person_id)
    ).all()
    studied = {int(p) for p, n in research if n >= 2}
    series = _T["recurring_series"]
    leases = conn.execute(
        select(series.c.person_id, series.c.ends_on).where(
            series.c.kind == "rent", series.c.active, series.c.ends_on.is_not(None)
        )
    ).all()
    ending = {
        int(p)
        for p, ends in leases
        if 0 <= ((as_date(ends) or now.date()) - now.date()).days <= 180
    }
    people = select(_T["person"].c.id)
    return {int(p): p in studied and p in ending for (p,) in conn.execute(people)}


class RiskModels:
    """Churn and home-buying probabilities for a vector (``vector.scores`` takes them)."""

    STEM = "risk"

    def __init__(self, model: LinearModel, meta: dict[str, object] | None = None) -> None:
        self.model, self.meta = model, meta or {}

    def score(self, vector: FeatureVector) -> dict[str, float]:
        """``{"churn": p, "home_buying": p}``."""
        probabilities = self.model.predict(encode(vector, self.model.names))
        pairs = zip(self.model.targets, probabilities, strict=True)
        return {target: round(float(p), 4) for target, p in pairs}

    def save(self, folder: Path | str) -> None:
        """Write the models to ``folder``."""
        self.model.save(Path(folder), self.STEM, self.meta)

    @classmethod
    def load(cls, folder: Path | str) -> RiskModels:
        """The models :meth:`save` wrote."""
        model, meta = LinearModel.load(Path(folder), cls.STEM)
        return cls(model, meta)


def train_risk(
    vectors: Mapping[int, FeatureVector], labels: Mapping[str, Mapping[int, bool]]
) -> RiskModels:
    """Fit one logistic regression per label set (``churn``, ``home_buying``) on ``vectors``."""
    people = sorted(vectors)
    x = np.array([encode(vectors[p]) for p in people])
    mean, scale = standardiser(x)
    targets = tuple(labels)
    coef = np.zeros((len(targets), len(FEATURES)))
    intercept = np.zeros(len(targets))
    meta: dict[str, object] = {}
    for row, target in enumerate(targets):
        banned = EXCLUDED.get(target, ())
        keep = [
            i
            for i, name in enumerate(FEATURES)
            if name not in banned and not name.startswith(NOT_INPUTS)
        ]
        y = np.array([bool(labels[target].get(p, False)) for p in people])
        w, b = fit_logistic((x[:, keep] - mean[keep]) / scale[keep], y)
        coef[row, keep], intercept[row] = w, b
        meta[f"{target}_positives"] = int(y.sum())
    model = LinearModel(FEATURES, targets, mean, scale, coef, intercept, np.zeros(len(targets)))
    meta["people"] = len(people)
    return RiskModels(model, meta)
