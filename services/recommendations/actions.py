"""What an action in the catalogue is: its rules, value, lever, copy and contact policy.

Pydantic models, so a catalogue file is checked field by field when it loads; rules and copy
templates are parsed here too, so a typo in a feature path or a placeholder is a load error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from services.insights import INSIGHT_TYPES, Audience
from services.recommendations.rules import ALWAYS, Rule, RuleError, parse_rule
from services.recommendations.template import Template, TemplateError, parse_template

Kind = Literal["product", "service", "retention", "insight_followup"]
Channel = Literal["in_app_card", "push", "chat_line", "advisor_script"]
CHANNELS: tuple[Channel, ...] = ("in_app_card", "push", "chat_line", "advisor_script")
# The channels whose copy the customer reads; ``advisor_script`` is read by staff.
CUSTOMER_CHANNELS: frozenset[str] = frozenset({"in_app_card", "push", "chat_line"})
SEGMENTS = frozenset({"youth", "mass_market", "affluent", "private", "business", "retail"})


def _rule(raw: Any) -> Rule:
    if isinstance(raw, Rule):
        return raw
    try:
        return parse_rule(raw)
    except RuleError as exc:
        raise ValueError(str(exc)) from None


def _template(raw: Any) -> Template:
    if isinstance(raw, Template):
        return raw
    if not isinstance(raw, str):
        raise ValueError("a copy template is a string")
    try:
        return parse_template(raw)
    except TemplateError as exc:
        raise ValueError(str(exc)) from None


RuleField = Annotated[Rule, BeforeValidator(_rule)]
TemplateField = Annotated[Template, BeforeValidator(_template)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class ContactPolicy(_Strict):
    """How often, where and to whom an action may go."""

    channels: list[Channel] = Field(min_length=1)  # allowed, in order of preference
    marketing: bool  # needs the customer's marketing consent
    max_per_30d: int = Field(2, ge=0)
    cooldown_days: int = Field(30, ge=0)  # after a decline
    snooze_days: int = Field(7, ge=0)  # after a dismissal
    rest_after_accept_days: int = Field(90, ge=0)  # no repeat soon after a yes
    quiet_hours: bool = True  # push waits for the customer's quiet hours to end


class Option(_Strict):
    """One choice an offer gives, as its button says it ("Renew at today's rate")."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,40}$")
    label: str = Field(min_length=1, max_length=40)


class Variant(_Strict):
    """The copy for one channel: one call to action, or one button per choice it offers."""

    title: TemplateField
    body: TemplateField
    cta: str | None = Field(None, max_length=40)
    options: list[Option] = Field(default_factory=list)

    @model_validator(mode="after")
    def _distinct(self) -> Variant:
        codes = [o.code for o in self.options]
        if len(set(codes)) != len(codes):
            raise ValueError("options: two choices share a code")
        if len(codes) == 1:
            raise ValueError("options: one choice is a cta, not a choice")
        return self


class ContextWeight(_Strict):
    """A multiplier on priority when the customer's context makes the action timelier."""

    when: RuleField
    weight: float = Field(gt=0, le=10)


class Action(_Strict):
    """One next-best action: a product, a service step, a retention offer or an insight's follow-up.

    Applicable when one of ``insights`` is present or ``applicability`` holds (with neither,
    always). ``segments`` are where the action is marketed by segment (the ``segment`` level).
    """

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,48}$")
    kind: Kind
    # who may read the action at all: a ``customer`` action has customer copy that reads as a
    # service; ``advisor`` and ``bank`` ones may only be scripted for staff
    audience: Audience = "customer"
    title: str = Field(min_length=1, max_length=80)
    description: str = ""
    value_minor: int = Field(ge=0)  # expected value to the bank (retention value for service)
    lever: float = Field(1.0, ge=0, le=10)  # the business's thumb on the scale
    base_propensity: float = Field(0.05, gt=0, lt=1)  # before any history exists
    segments: list[str] = Field(default_factory=list)
    insights: list[str] = Field(default_factory=list)
    eligibility: RuleField = ALWAYS
    applicability: RuleField | None = None
    suitability: RuleField = ALWAYS
    context: list[ContextWeight] = Field(default_factory=list)
    contact: ContactPolicy
    variants: dict[Channel, Variant]

    @model_validator(mode="after")
    def _consistent(self) -> Action:
        unknown = [s for s in self.segments if s not in SEGMENTS]
        if unknown:
            raise ValueError(f"segments: unknown segment {unknown[0]!r}")
        bad = [i for i in self.insights if i not in INSIGHT_TYPES]
        if bad:
            raise ValueError(f"insights: unknown insight type {bad[0]!r}")
        missing = [c for c in self.contact.channels if c not in self.variants]
        if missing:
            raise ValueError(f"variants: no copy for allowed channel {missing[0]!r}")
        if self.audience != "customer":
            shown = [c for c in self.contact.channels if c in CUSTOMER_CHANNELS]
            if shown:
                raise ValueError(
                    f"contact: an action for the {self.audience} may not go to {shown[0]!r}"
                )
        return self

    def applicable(self, values: Mapping[str, Any]) -> bool:
        """Whether the action applies to this customer now (behavioural definition)."""
        if any(values.get(f"insight.{i}") is not None for i in self.insights):
            return True
        if self.applicability is None:
            return not self.insights
        return self.applicability.test(values)

    def applicability_reasons(self, values: Mapping[str, Any]) -> list[str]:
        """The insights and features that make the action applicable."""
        out = [f"insight:{i}" for i in self.insights if values.get(f"insight.{i}") is not None]
        if self.applicability is not None and self.applicability.test(values):
            self.applicability.explain(values, out)
        return list(dict.fromkeys(out))


class Catalog:
    """The loaded actions, in file order, by code."""

    def __init__(self, actions: list[Action]) -> None:
        self.actions: tuple[Action, ...] = tuple(actions)
        self.by_code: dict[str, Action] = {a.code: a for a in actions}

    def __len__(self) -> int:
        return len(self.actions)

    def __iter__(self) -> Any:
        return iter(self.actions)

    def __getitem__(self, code: str) -> Action:
        return self.by_code[code]

    def __contains__(self, code: object) -> bool:
        return code in self.by_code
