"""The learning loop: record responses, learn from each one online, and measure uplift.

Every answer goes to the offer log (the system of record, :func:`record_response`) and to an
:class:`OnlineLearner`: a Beta-Bernoulli posterior of the acceptance rate per (segment, action)
whose prior is the segment prior (strength ``PRIOR_STRENGTH`` pseudo-showings). Accepted adds a
success; declined and dismissed add a failure; shown and clicked are not outcomes yet.

:class:`OnlinePropensity` blends that with any base propensity without retraining: the base
score is scaled by posterior mean / prior mean, so a model's ranking of customers stays while
its level for an action moves with what customers of that segment actually did since. With
``thompson=True`` a posterior draw (seeded by the customer and the vector's time, so ``decide``
stays repeatable) replaces the mean, to keep exploring.

The learner's state is derivable from the log (:meth:`OnlineLearner.replay`), so nothing else
needs storing. The control group (``control.ControlGroup``) gets no model-driven offers;
:func:`uplift` compares acceptance in treatment and control.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection, select
from sqlmodel import SQLModel

from services.recommendations.actions import Action
from services.recommendations.control import ControlGroup
from services.recommendations.offer_log import offer_rows, record_answer
from services.recommendations.propensity import Propensity, SegmentPriors
from services.recommendations.vector import FeatureVector

PRIOR_STRENGTH = 20.0
SUCCESS = frozenset({"accepted"})
FAILURE = frozenset({"declined", "dismissed"})
RATIO_BOUNDS = (0.1, 10.0)  # how far online evidence may move a base score


class OnlineLearner:
    """Beta posteriors of acceptance per (segment, action), updated one response at a time."""

    def __init__(self, priors: SegmentPriors | None = None, strength: float = PRIOR_STRENGTH):
        self.priors = priors or SegmentPriors()
        self.strength = strength
        self._counts: dict[tuple[str, str], list[int]] = {}  # -> [successes, failures]
        self._lock = threading.Lock()
        self.version = 0  # bumped by every outcome: cached decisions made before it are stale

    def prior_mean(self, segment: str, action: Action) -> float:
        """The acceptance rate before any online evidence."""
        return self.priors.rate(segment, action)

    def posterior(self, segment: str, action: Action) -> tuple[float, float]:
        """The Beta posterior's ``(alpha, beta)``."""
        p0 = self.prior_mean(segment, action)
        with self._lock:
            wins, losses = self._counts.get((segment, action.code), (0, 0))
        return p0 * self.strength + wins, (1 - p0) * self.strength + losses

    def mean(self, segment: str, action: Action) -> float:
        """The posterior mean acceptance rate."""
        alpha, beta = self.posterior(segment, action)
        return alpha / (alpha + beta)

    def observe(self, *, segment: str, code: str, response: str) -> bool:
        """Learn from one response; returns whether it was an outcome (accepted or a no)."""
        if response not in SUCCESS and response not in FAILURE:
            return False
        with self._lock:
            tally = self._counts.setdefault((segment, code), [0, 0])
            tally[0 if response in SUCCESS else 1] += 1
            self.version += 1
        return True

    def counts(self) -> dict[tuple[str, str], tuple[int, int]]:
        """Successes and failures seen per (segment, action code)."""
        with self._lock:
            return {key: (wins, losses) for key, (wins, losses) in self._counts.items()}

    def replay(self, conn: Connection, *, since: datetime, until: datetime | None = None) -> int:
        """Rebuild from the offer log's answers since ``since``; returns how many counted."""
        person = SQLModel.metadata.tables["person"]
        segments = {
            int(pid): str(segment)
            for pid, segment in conn.execute(select(person.c.id, person.c.segment))
        }
        counted = 0
        for row in offer_rows(conn, since=since, until=until):
            segment = segments.get(row["person_id"])
            if segment is not None:
                counted += self.observe(
                    segment=segment, code=row["offer_code"], response=row["response"]
                )
        return counted


class OnlinePropensity:
    """A base propensity corrected by what the learner has seen since (see module docstring)."""

    def __init__(self, base: Propensity, learner: OnlineLearner, *, thompson: bool = False):
        self.base, self.learner, self.thompson = base, learner, thompson
        self.name = f"{base.name}+online"

    @property
    def version(self) -> int:
        """Changes whenever the scores may have: the learner's count of outcomes."""
        return self.learner.version

    def scores(
        self,
        vector: FeatureVector,
        actions: Sequence[Action],
        *,
        level: str,
        values: Mapping[str, Any] | None = None,
    ) -> list[float]:
        """Base scores times posterior / prior for the customer's segment."""
        base = self.base.scores(vector, actions, level=level, values=values)
        rng = np.random.default_rng([vector.person_id, vector.as_of]) if self.thompson else None
        out = []
        for action, score in zip(actions, base, strict=True):
            alpha, beta = self.learner.posterior(vector.segment, action)
            online = float(rng.beta(alpha, beta)) if rng is not None else alpha / (alpha + beta)
            ratio = online / max(self.learner.prior_mean(vector.segment, action), 1e-6)
            ratio = min(RATIO_BOUNDS[1], max(RATIO_BOUNDS[0], ratio))
            out.append(min(0.999, max(1e-6, score * ratio)))
        return out


def record_response(
    conn: Connection,
    *,
    person_id: int,
    offer_code: str,
    channel: str,
    response: str,
    at: datetime,
    segment: str | None = None,
    learner: OnlineLearner | None = None,
) -> int:
    """Log a response to an action (and teach ``learner``); returns the offer-log row id.

    Args:
        conn: A connection in a transaction the caller commits.
        person_id: The customer who answered.
        offer_code: The catalogue action.
        channel: Where it was shown (``in_app_card``, ``push``, ``chat_line``...).
        response: ``shown``, ``clicked``, ``accepted``, ``declined`` or ``dismissed``.
        at: When (aware UTC).
        segment: The customer's segment, for the learner.
        learner: Updated online when given (with ``segment``).
    """
    row = record_answer(
        conn,
        person_id=person_id,
        offer_code=offer_code,
        channel=channel,
        response=response,
        at=at,
    )
    if learner is not None and segment is not None:
        learner.observe(segment=segment, code=offer_code, response=response)
    return row


def uplift(
    conn: Connection,
    *,
    control: ControlGroup,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    """Acceptance per showing in treatment versus control, and the difference.

    Returns:
        ``{"treatment": {"people", "shown", "accepted", "rate"}, "control": {...},
        "uplift": rate difference, "relative": treatment rate / control rate or None}``.
    """
    groups: dict[str, dict[str, Any]] = {
        name: {"people": set(), "shown": 0, "accepted": 0} for name in ("treatment", "control")
    }
    for row in offer_rows(conn, since=since, until=until):
        group = groups["control" if control.contains(row["person_id"]) else "treatment"]
        group["people"].add(row["person_id"])
        group["shown"] += 1
        group["accepted"] += row["response"] == "accepted"
    out: dict[str, Any] = {}
    for name, group in groups.items():
        shown = group["shown"]
        out[name] = {
            "people": len(group["people"]),
            "shown": shown,
            "accepted": group["accepted"],
            "rate": round(group["accepted"] / shown, 4) if shown else None,
        }
    treated, held = out["treatment"]["rate"], out["control"]["rate"]
    both = treated is not None and held is not None
    out["uplift"] = round(treated - held, 4) if both else None
    out["relative"] = round(treated / held, 3) if both and held else None
    return out
