"""Propensity: how likely this customer is to accept an action, at each level of decisioning.

* :class:`BasePropensity`: the catalogue's ``base_propensity``, before any history exists.
* :class:`SegmentPriors`: acceptance rate per segment x action in the offer log, smoothed
  towards the action's overall rate and that towards the catalogue's base (the ``behavioral``
  level uses these; the ``segment`` level is archetype rules alone, so it keeps the catalogue's
  base rates even when a trained model is loaded).
* :class:`PropensityModel`: per-action logistic regression over the encoded vector plus the
  action's own applicability (the ``predictive`` level); falls back to the priors for actions
  it was not trained on. Trained by ``services.recommendations.training``.

Models are stored as plain arrays (``.npz``) and JSON, never pickles: loading one runs no code.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from services.recommendations.actions import Action
from services.recommendations.encoding import encode
from services.recommendations.vector import FeatureVector

PRIOR_WEIGHT = 20.0  # pseudo-showings behind a prior when smoothing a rate


class Propensity(Protocol):
    """Scores actions for one customer; ``name`` appears in the reasons."""

    name: str

    def scores(
        self,
        vector: FeatureVector,
        actions: Sequence[Action],
        *,
        level: str,
        values: Mapping[str, Any] | None = None,
    ) -> list[float]:
        """The acceptance probability of each action, in order."""
        ...


class BasePropensity:
    """The catalogue's own guess, for a bank with no offer history yet."""

    name = "base"

    def scores(
        self,
        vector: FeatureVector,
        actions: Sequence[Action],
        *,
        level: str,
        values: Mapping[str, Any] | None = None,
    ) -> list[float]:
        """Each action's ``base_propensity``."""
        return [a.base_propensity for a in actions]


@dataclass
class SegmentPriors:
    """Smoothed acceptance rates per (segment, action) and per action."""

    by_segment: dict[str, dict[str, float]] = field(default_factory=dict)
    by_action: dict[str, float] = field(default_factory=dict)
    name: str = "segment_prior"

    def rate(self, segment: str, action: Action) -> float:
        """The prior acceptance rate of ``action`` in ``segment``."""
        known = self.by_segment.get(segment, {}).get(action.code)
        if known is not None:
            return known
        return self.by_action.get(action.code, action.base_propensity)

    def scores(
        self,
        vector: FeatureVector,
        actions: Sequence[Action],
        *,
        level: str,
        values: Mapping[str, Any] | None = None,
    ) -> list[float]:
        """The segment's rate for each action."""
        return [self.rate(vector.segment, a) for a in actions]

    @classmethod
    def from_responses(
        cls, rows: Iterable[tuple[str, str, bool]], base: Mapping[str, float]
    ) -> SegmentPriors:
        """Rates from ``(segment, action code, accepted)`` rows and base rates per code."""
        shown: dict[tuple[str, str], list[int]] = {}
        for segment, code, accepted in rows:
            tally = shown.setdefault((segment, code), [0, 0])
            tally[0] += 1
            tally[1] += bool(accepted)
        totals: dict[str, list[int]] = {}
        for (_, code), (n, k) in shown.items():
            total = totals.setdefault(code, [0, 0])
            total[0] += n
            total[1] += k
        by_action = {
            code: (k + PRIOR_WEIGHT * base.get(code, 0.05)) / (n + PRIOR_WEIGHT)
            for code, (n, k) in totals.items()
        }
        by_segment: dict[str, dict[str, float]] = {}
        for (segment, code), (n, k) in shown.items():
            rate = (k + PRIOR_WEIGHT * by_action[code]) / (n + PRIOR_WEIGHT)
            by_segment.setdefault(segment, {})[code] = round(rate, 5)
        return cls(by_segment, {c: round(r, 5) for c, r in by_action.items()})

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {"by_segment": self.by_segment, "by_action": self.by_action}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SegmentPriors:
        """The priors :meth:`to_dict` wrote."""
        return cls(dict(data["by_segment"]), dict(data["by_action"]))


@dataclass
class LinearModel:
    """Logistic regressions sharing one input: a row of weights per target.

    ``flag_coef`` weighs a per-target 0/1 input given at prediction time (the action's own
    applicability); standardisation is kept as ``mean`` and ``scale``.
    """

    names: tuple[str, ...]
    targets: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # (targets, features)
    intercept: np.ndarray  # (targets,)
    flag_coef: np.ndarray  # (targets,)

    def logits(self, x: np.ndarray, flags: np.ndarray | None = None) -> np.ndarray:
        """Log-odds per target for one encoded input ``x``."""
        z = self.coef @ ((x - self.mean) / self.scale) + self.intercept
        return z if flags is None else z + self.flag_coef * flags

    def predict(self, x: np.ndarray, flags: np.ndarray | None = None) -> np.ndarray:
        """Probability per target."""
        return 1.0 / (1.0 + np.exp(-self.logits(x, flags)))

    def save(self, folder: Path, stem: str, meta: Mapping[str, Any] | None = None) -> None:
        """Write ``<stem>.npz`` (weights) and ``<stem>.json`` (names, targets, metadata)."""
        folder.mkdir(parents=True, exist_ok=True)
        np.savez(
            folder / f"{stem}.npz",
            mean=self.mean,
            scale=self.scale,
            coef=self.coef,
            intercept=self.intercept,
            flag_coef=self.flag_coef,
        )
        info = {"names": list(self.names), "targets": list(self.targets), **(meta or {})}
        (folder / f"{stem}.json").write_text(json.dumps(info, indent=1, sort_keys=True))

    @classmethod
    def load(cls, folder: Path, stem: str) -> tuple[LinearModel, dict[str, Any]]:
        """A model :meth:`save` wrote, with its metadata."""
        info = json.loads((folder / f"{stem}.json").read_text())
        with np.load(folder / f"{stem}.npz", allow_pickle=False) as arrays:
            model = cls(
                tuple(info.pop("names")),
                tuple(info.pop("targets")),
                arrays["mean"],
                arrays["scale"],
                arrays["coef"],
                arrays["intercept"],
                arrays["flag_coef"],
            )
        return model, info


class PropensityModel:
    """The predictive level's propensity, with the priors for everything else."""

    name = "model"
    STEM = "propensity"

    def __init__(self, model: LinearModel, priors: SegmentPriors, meta: dict[str, Any]) -> None:
        self.model, self.priors, self.meta = model, priors, meta
        self._row = {code: i for i, code in enumerate(model.targets)}

    def scores(
        self,
        vector: FeatureVector,
        actions: Sequence[Action],
        *,
        level: str,
        values: Mapping[str, Any] | None = None,
    ) -> list[float]:
        """The acceptance probability of each action at ``level``.

        Model probabilities at the predictive level, learned segment priors at the behavioral
        level, the catalogue's base rates at the segment (archetype rules) level.
        """
        if level == "segment":
            return [a.base_propensity for a in actions]
        priors = self.priors.scores(vector, actions, level=level)
        if level != "predictive":
            return priors
        values = vector.values() if values is None else values
        flags = np.zeros(len(self.model.targets))
        for action in actions:
            row = self._row.get(action.code)
            if row is not None:
                flags[row] = float(action.applicable(values))
        predicted = self.model.predict(encode(vector, self.model.names), flags)
        return [
            float(predicted[self._row[a.code]]) if a.code in self._row else prior
            for a, prior in zip(actions, priors, strict=True)
        ]

    def save(self, folder: Path | str) -> None:
        """Write the model and its priors to ``folder``."""
        meta = {**self.meta, "priors": self.priors.to_dict()}
        self.model.save(Path(folder), self.STEM, meta)

    @classmethod
    def load(cls, folder: Path | str) -> PropensityModel:
        """The model :meth:`save` wrote."""
        model, meta = LinearModel.load(Path(folder), cls.STEM)
        priors = SegmentPriors.from_dict(meta.pop("priors"))
        return cls(model, priors, meta)
