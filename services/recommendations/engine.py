"""The decision engine: a pure function from a feature vector to the next best actions.

``decide`` runs the industry's standard shape (Pega's Customer Decision Hub, Salesforce NBA):

1. **filters**: eligibility (may this customer have it at all), applicability (does it fit
   their situation now; at the ``segment`` level, is it marketed to their segment), suitability
   (is it right for them: no credit for someone heading into overdraft);
2. **arbitration**: priority = propensity x context weight x value x lever, ties by code;
3. **contact policy**: consent, frequency caps, cool-downs, quiet hours, channel;
4. the top ``k`` with their copy rendered for the chosen channel and **reason codes** naming
   the features, insights, weights and policy checks behind each.

Levels: ``segment`` (segment targeting and priors), ``behavioral`` (the person's own features
and insights), ``predictive`` (adds model scores and model propensities), ``random`` (eligible
and suitable actions in a fixed pseudo-random order: the evaluation baseline). No I/O, no
clock, no randomness beyond a hash of its inputs: the same inputs give the same answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from hashlib import blake2b
from typing import Any, Literal

from services.recommendations.actions import Action, Catalog
from services.recommendations.control import ControlGroup
from services.recommendations.policy import Verdict, check
from services.recommendations.propensity import BasePropensity, Propensity
from services.recommendations.rules import reasons as rule_reasons
from services.recommendations.vector import FeatureVector, InsightBrief

Level = Literal["segment", "behavioral", "predictive", "random"]
LEVELS: tuple[str, ...] = ("segment", "behavioral", "predictive", "random")
MAX_K = 25  # Salesforce's ceiling; the default of 3 is theirs too
SEVERITY_WEIGHT = {"info": 1.0, "warning": 1.5, "critical": 2.0}
_RANK = {"info": 0, "warning": 1, "critical": 2}


@dataclass(frozen=True, slots=True)
class Recommendation:
    """One next best action for one customer, ready to show, with why."""

    code: str
    kind: str
    channel: str
    title: str
    body: str
    cta: str | None
    level: str
    priority: float
    propensity: float
    context_weight: float
    value_minor: int
    lever: float
    reasons: tuple[str, ...]
    insight: str | None = None  # the insight type that triggered it, if any
    # the choices the channel's copy offers, as (code, button label); empty: one ``cta``
    options: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {name: getattr(self, name) for name in self.__slots__}


def decide(
    vector: FeatureVector,
    *,
    catalog: Catalog,
    level: Level | str,
    now: datetime,
    k: int = 3,
    propensity: Propensity | None = None,
    channel: str | None = None,
    control: ControlGroup | None = None,
    apply_policy: bool = True,
) -> list[Recommendation]:
    """The top ``k`` actions for this customer now, best first, each with its reasons.

    Args:
        vector: The customer's feature vector (from the cache or ``build_vector``).
        catalog: The actions to choose from.
        level: ``segment``, ``behavioral``, ``predictive`` or ``random``.
        now: The clock (aware); used for quiet hours and cool-downs.
        k: How many at most (1 to 25).
        propensity: Acceptance probabilities; the catalogue's base rates when omitted.
        channel: Only actions that may go out on this channel; any allowed channel if omitted.
        control: A control group; its members get random actions or service messages only.
        apply_policy: False skips the contact policy (to judge targeting alone, in evaluation);
            the first allowed channel is still the one rendered.

    Raises:
        ValueError: for an unknown level or ``k`` out of range.
    """
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; expected one of {LEVELS}")
    if not 1 <= k <= MAX_K:
        raise ValueError(f"k must be between 1 and {MAX_K}, got {k}")
    head = [f"level:{level}"]
    service_only = False
    if control is not None and control.contains(vector.person_id):
        head.append(f"control:{control.mode}")
        if control.mode == "random":
            level = "random"
        else:
            service_only = True
    values = vector.values()
    if level != "predictive":  # model scores are the predictive level's alone
        values = {p: v for p, v in values.items() if not p.startswith("score.")}
    pool = [a for a in catalog.actions if _passes(a, vector, values, level, service_only)]
    if level == "random":
        scored = [(a, _draw(vector.person_id, now, a.code), 1.0, 1.0) for a in pool]
    else:
        model = propensity or BasePropensity()
        probabilities = model.scores(vector, pool, level=level, values=values)
        scored = []
        for action, p in zip(pool, probabilities, strict=True):
            weight = 1.0 if level == "segment" else _weight(action, vector, values)
            scored.append((action, p * weight * action.value_minor * action.lever, p, weight))
    scored.sort(key=lambda item: (-item[1], item[0].code))
    out: list[Recommendation] = []
    source = "random" if level == "random" else (propensity or BasePropensity()).name
    for action, priority, p, weight in scored:
        verdict = check(action, vector, now, channel)
        if not apply_policy and not verdict.allowed:
            fallback = channel or action.contact.channels[0]
            verdict = Verdict(True, fallback, ("policy:not_applied",))
        if not verdict.allowed or verdict.channel not in action.variants:
            continue
        trigger = _trigger(action, vector)
        variant = action.variants[verdict.channel]
        fill = {"message": trigger.message, **trigger.data} if trigger else {}
        why = head + _why(action, vector, values, level)
        if level != "random":
            why.append(f"propensity:{source}={p:.3f}")
        out.append(
            Recommendation(
                code=action.code,
                kind=action.kind,
                channel=verdict.channel,
                title=variant.title.render(values, fill, vector.currency),
                body=variant.body.render(values, fill, vector.currency),
                cta=variant.cta,
                options=tuple((o.code, o.label) for o in variant.options),
                level=level,
                priority=round(priority, 6),
                propensity=round(p, 6),
                context_weight=round(weight, 4),
                value_minor=action.value_minor,
                lever=action.lever,
                reasons=tuple(dict.fromkeys(why + list(verdict.reasons))),
                insight=trigger.type if trigger else None,
            )
        )
        if len(out) == k:
            break
    return out


def _passes(
    action: Action,
    vector: FeatureVector,
    values: Mapping[str, Any],
    level: str,
    service_only: bool,
) -> bool:
    """Eligibility, then applicability for the level, then suitability."""
    if service_only and action.contact.marketing:
        return False
    if not action.eligibility.test(values):
        return False
    if level == "segment":
        if vector.segment not in action.segments:
            return False
    elif level != "random" and not action.applicable(values):
        return False
    return action.suitability.test(values)


def _trigger(action: Action, vector: FeatureVector) -> InsightBrief | None:
    """The most severe of the customer's insights that suggest this action."""
    found = [i for i in vector.insights if i.type in action.insights]
    return max(found, key=lambda i: _RANK.get(i.severity, 0)) if found else None


def _weight(action: Action, vector: FeatureVector, values: Mapping[str, Any]) -> float:
    """The context weight: the triggering insight's severity times each matching context."""
    trigger = _trigger(action, vector)
    weight = SEVERITY_WEIGHT.get(trigger.severity, 1.0) if trigger else 1.0
    for context in action.context:
        if context.when.test(values):
            weight *= context.weight
    return weight


def _why(action: Action, vector: FeatureVector, values: Mapping[str, Any], level: str) -> list[str]:
    """The filter and context reasons of an action that passed."""
    out: list[str] = []
    if level == "segment":
        out.append(f"segment:{vector.segment}")
    elif level == "random":
        out.append("random:draw")
    else:
        out += action.applicability_reasons(values)
        trigger = _trigger(action, vector)
        if trigger is not None and SEVERITY_WEIGHT.get(trigger.severity, 1.0) != 1.0:
            weight = SEVERITY_WEIGHT[trigger.severity]
            out.append(f"context:insight_{trigger.severity}(x{weight:g})")
        for context in action.context:
            if context.when.test(values):
                out += [
                    f"context:{r}(x{context.weight:g})" for r in rule_reasons(context.when, values)
                ]
    out += rule_reasons(action.eligibility, values)
    out += rule_reasons(action.suitability, values)
    return out


def _draw(person_id: int, now: datetime, code: str) -> float:
    """A pseudo-random number fixed by person, day and action: the random level's order."""
    key = f"{person_id}:{now.date().isoformat()}:{code}".encode()
    return int.from_bytes(blake2b(key, digest_size=8).digest(), "big") / 2**64
