"""Reason codes in words: every code the decision engine emits, as its reader should see it.

The engine explains a decision with codes (``insight:deposit_maturing``,
``feature:cd.maturity_days<=30``, ``propensity:base=0.050``, ``policy:consent_ok``); they are
exact and stable, which is what the offer log, the learner and an auditor need. People read
phrases instead. :func:`explain` turns one code into a :class:`Reason`: a phrase and the
audience that may read it. Customers see only ``customer`` phrases ("because your CD matures on
Dec 12"); advisors see every phrase with its code behind a details toggle. A model's score, a
segment, a churn signal or a contact-policy check is never a customer's reason.

Feature phrases come from :data:`FEATURES`, one entry per feature path a rule can test; a path
without an entry raises :class:`UnknownReason`, and a test walks the whole catalogue so a new
rule cannot ship without words.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from services.insights import INSIGHT_COPY, Audience, because
from services.money import DEFAULT_LOCALE, display_money

log = logging.getLogger(__name__)
# How a generic offer is explained to a customer when no customer-readable reason applies.
GENERIC_WHY = "it fits how you use your accounts"


class UnknownReason(ValueError):
    """A reason code with no phrase: a new code needs its words here before it ships."""


@dataclass(frozen=True)
class Reason:
    """One reason: the code behind it, its phrase, and who may read it."""

    code: str
    text: str
    audience: Audience


@dataclass(frozen=True)
class Phrase:
    """Words for a feature path: who may read them, and the phrase when it is high or low.

    ``high`` reads the path as large/true (``>=``, ``>``, ``= true``, present); ``low`` as small/
    false. ``{value}`` is the threshold, written as money for ``*_minor`` paths and as a percent
    for shares.
    """

    audience: Audience
    high: str
    low: str


def _c(high: str, low: str) -> Phrase:
    return Phrase("customer", high, low)


def _a(high: str, low: str) -> Phrase:
    return Phrase("advisor", high, low)


def _b(high: str, low: str) -> Phrase:
    return Phrase("bank", high, low)


# Feature path -> its words. Demographics, segments, engagement and signs of leaving are for the
# bank's staff only: they describe the customer rather than something the customer did or has.
FEATURES: dict[str, Phrase] = {
    "age": _a("aged {value} or over", "under {value}"),
    "segment": _a("in a matching segment", "in another segment"),
    "tenure_months": _c("you've banked with us for {value} months or more", "you're new with us"),
    "balance.business_minor": _c(
        "your business keeps {value} or more with us", "your business balance is low"
    ),
    "balance.checking_minor": _c(
        "your checking account is in credit", "your checking account is overdrawn"
    ),
    "balance.savings_minor": _c(
        "you keep {value} or more in savings", "your savings are under {value}"
    ),
    "balance.term_deposit_minor": _c("you have money in a CD", "you have no CD with us"),
    "balance.investment_minor": _c(
        "you invest {value} or more with us", "you invest little with us"
    ),
    "card.spend_annual_minor": _c(
        "you spend {value} or more a year on your card", "you use your card lightly"
    ),
    "cd.maturity_days": _c("your CD has a while to run", "your CD matures within {value} days"),
    "consent.push": _c("you get our app notifications", "you don't get app notifications yet"),
    "credit.used_minor": _c("you carry {value} or more on your card", "your card balance is low"),
    "credit.utilisation": _c(
        "you use {value} or more of your card limit", "you have room on your card limit"
    ),
    "digital.engagement": _b("uses the app often", "rarely uses the app"),
    "digital.mortgage_research_30d": _c(
        "you've been looking at mortgages", "you haven't looked at mortgages"
    ),
    "flow.bills_gap_5d_minor": _c(
        "your bills this week are more than your balance", "your balance covers your bills"
    ),
    "flow.cushion_months": _c(
        "your savings cover {value} months or more of spending",
        "your savings cover less than {value} month of spending",
    ),
    "flow.days_since_income": _a(
        "no pay has arrived for {value} days or more", "pay arrives regularly"
    ),
    "flow.forecast_low_minor": _c(
        "your balance is forecast to stay positive", "your balance may run low"
    ),
    "flow.income_90d_minor": _c(
        "your pay comes into your account with us", "no pay comes into your account with us"
    ),
    "flow.income_trend": _a("income is steady or rising", "income has fallen"),
    "flow.outflow_other_banks_90d_minor": _a(
        "{value} or more moved to other banks in 90 days", "little money moves to other banks"
    ),
    "flow.pay_cadence": _c("you're paid on a regular schedule", "your pay has no set schedule"),
    "flow.sales_trend": _c("your business's takings are steady", "your business's takings fell"),
    "flow.spend_30d_minor": _c("you spend from your account", "you spend little from it"),
    "flow.spend_90d_minor": _c("you spend {value} or more over three months", "you spend little"),
    "has.business_checking": _c(
        "you have a business account with us", "you have no business account with us"
    ),
    "has.checking": _c("you have a checking account with us", "you have no checking account"),
    "has.credit_card": _c("you have our credit card", "you don't have our credit card yet"),
    "has.investment": _c("you invest with us", "you don't invest with us yet"),
    "has.line_of_credit": _c("you have a line of credit", "you don't have a line of credit"),
    "has.mortgage": _c("you have a mortgage with us", "you don't have a mortgage with us"),
    "has.personal_loan": _c("you have a personal loan", "you don't have a personal loan"),
    "has.savings": _c("you have a savings account", "you don't have a savings account yet"),
    "has.term_deposit": _c("you have a CD with us", "you don't have a CD with us"),
    "housing.lease_days_left": _c(
        "your lease has a while to run", "your lease ends within {value} days"
    ),
    "portfolio.drift_pp": _c(
        "your portfolio holds more shares than your plan",
        "your portfolio holds fewer shares than your plan",
    ),
    "savings.apy_bps": _c("your savings earn a good rate", "your savings could earn a better rate"),
    "savings.goals": _c("you have savings goals", "you have no savings goal yet"),
    "savings.growth_6m": _c("your savings have grown over six months", "your savings are flat"),
    "savings.has_rule": _c("you have a savings rule", "you don't have a savings rule yet"),
    "savings.rate": _c(
        "you save {value} or more of what you earn", "you save less than {value} of your pay"
    ),
    "spend_share.travel": _c("travel is {value} or more of your spending", "you travel little"),
    # the dashboard's tile reasons
    "bills_due_Nd": _c("you have bills due in the next few days", "no bills are due soon"),
    "bills_exceed_checking": _c(
        "your bills due soon are more than your checking balance", "your balance covers them"
    ),
    "forecast_below_zero_30d": _c(
        "your balance may fall below zero this month", "your balance stays positive"
    ),
    "net_outflow_30d": _c("more went out than came in this month", "more came in than went out"),
    "goals": _c("you're saving towards goals", "you have no goals yet"),
    "best_progress": _c("a goal of yours is on its way", "your goals are just starting"),
    "investment_share": _c("you hold investments with us", "you hold few investments"),
    "engagement": _b("uses the app often", "rarely uses the app"),
}
# Model scores: the bank's estimates about a customer, never shown to them.
SCORES: dict[str, str] = {
    "churn": "the model's estimate that the customer may leave",
    "home_buying": "the model's estimate that the customer is buying a home",
}
# Contact-policy checks, for staff: why an offer could (or could not) go out now.
POLICY: dict[str, str] = {
    "consent_ok": "the customer agreed to offers",
    "service_message": "a service message (no marketing consent needed)",
    "no_marketing_consent": "no consent to marketing",
    "frequency_cap": "already shown as often as allowed this month",
    "frequency_ok": "within how often it may be shown",
    "cooldown": "declined recently; resting",
    "cooldown_ok": "not declined recently",
    "snoozed": "snoozed by the customer",
    "accepted_recently": "accepted recently",
    "quiet_hours": "the customer's quiet hours",
    "quiet_hours_ok": "outside the customer's quiet hours",
    "channel_not_allowed": "not allowed on this channel",
    "channel_off": "the customer turned this channel off",
    "no_channel": "no channel allowed now",
    "not_applied": "contact rules not applied (simulation)",
}
LEVELS: dict[str, str] = {
    "segment": "chosen by segment marketing",
    "behavioral": "chosen from the customer's behaviour",
    "behavioural": "chosen from the customer's behaviour",
    "predictive": "chosen by the predictive model",
    "learning": "chosen by the learning policy",
    "random": "chosen at random (experiment)",
}
_FEATURE = re.compile(
    r"^(?P<path>[a-z_][a-z0-9_.]*)"
    r"(?:(?P<op>>=|<=|!=|>|<|=| in | not in | contains |:absent)(?P<value>.*))?$"
)
_WINDOW = re.compile(r"_\d+d$")  # a window in days, e.g. bills_due_7d -> bills_due_Nd
_CONTEXT = re.compile(r"^(?P<inner>.*)\(x(?P<weight>[0-9.]+)\)$")


def explain(
    code: str,
    *,
    insights: Mapping[str, Any] | None = None,
    locale: str = DEFAULT_LOCALE,
    currency: str = "USD",
) -> Reason:
    """The words for one reason code.

    Args:
        code: A reason code the engine, the contact policy or the dashboard emitted.
        insights: The customer's insights by type (``Insight`` objects or their ``data``
            dicts), so an insight reason can name the customer's own date.
        locale: Where money thresholds in the phrase are written for.
        currency: The customer's currency, for money thresholds.

    Raises:
        UnknownReason: for a code with no phrase.
    """
    kind, sep, body = code.partition(":")
    if not sep:
        raise UnknownReason(f"not a reason code: {code!r}")
    if kind == "insight" and body.startswith("not(") and body.endswith(")"):
        absent = body[4:-1]
        if absent not in INSIGHT_COPY:
            raise UnknownReason(f"no words for insight type {absent!r}")
        return Reason(code, f"nothing flagged as {INSIGHT_COPY[absent].title.lower()}", "advisor")
    if kind == "insight":
        if body not in INSIGHT_COPY:
            raise UnknownReason(f"no words for insight type {body!r}")
        found = (insights or {}).get(body)
        data = getattr(found, "data", found) if found is not None else None
        text = because(body, data if isinstance(data, dict) else None)
        return Reason(code, text, INSIGHT_COPY[body].audience)
    if kind == "feature":
        return _feature(code, body, locale, currency)
    if kind == "score":
        name = re.split(r"[<>=!]", body, maxsplit=1)[0]
        if name not in SCORES:
            raise UnknownReason(f"no words for model score {name!r}")
        return Reason(code, SCORES[name], "bank")
    if kind == "context":
        match = _CONTEXT.match(body)
        if match is None:
            raise UnknownReason(f"not a context reason: {code!r}")
        inner = match["inner"]
        if inner.startswith("insight_"):
            text = f"more timely: an insight of {inner.removeprefix('insight_')} severity"
            return Reason(code, text, "advisor")
        reason = explain(inner, insights=insights, locale=locale, currency=currency)
        return Reason(code, f"more timely because {reason.text}", reason.audience)
    if kind == "policy":
        name = body.split("(", 1)[0]
        if name not in POLICY:
            raise UnknownReason(f"no words for contact-policy check {name!r}")
        return Reason(code, f"contact rules: {POLICY[name]}", "bank")
    if kind == "level":
        if body not in LEVELS:
            raise UnknownReason(f"no words for decision level {body!r}")
        return Reason(code, LEVELS[body], "bank")
    if kind == "control":
        return Reason(code, f"in the control group ({body})", "bank")
    if kind == "propensity":
        source, _, p = body.partition("=")
        try:
            share = f"{float(p):.0%}"
        except ValueError:
            raise UnknownReason(f"not a propensity reason: {code!r}") from None
        return Reason(code, f"estimated chance of a yes: {share} ({source} model)", "bank")
    if kind == "segment":
        return Reason(code, f"marketed to the {body.replace('_', ' ')} segment", "bank")
    if kind == "random" and body == "draw":
        return Reason(code, "chosen at random (experiment)", "bank")
    raise UnknownReason(f"no words for reason code {code!r}")


def _feature(code: str, body: str, locale: str, currency: str) -> Reason:
    negated = body.startswith("not(") and body.endswith(")")
    inner = body[4:-1] if negated else body
    match = _FEATURE.match(inner)
    if match is None:
        raise UnknownReason(f"not a feature reason: {code!r}")
    path, op, value = match["path"], match["op"] or "", (match["value"] or "").strip()
    phrase = FEATURES.get(path) or FEATURES.get(_WINDOW.sub("_Nd", path))
    if phrase is None:
        raise UnknownReason(f"no words for feature {path!r}")
    low = op in ("<", "<=", ":absent") or (op in ("=", "!=") and value in ("false", "0"))
    if op == "!=" and value not in ("false", "0"):
        low = False
    if negated:
        low = not low
    text = (phrase.low if low else phrase.high).replace(
        "{value}", _value(path, value, locale, currency)
    )
    return Reason(code, text, phrase.audience)


def _value(path: str, value: str, locale: str, currency: str) -> str:
    try:
        number = float(value.rstrip("%"))
    except ValueError:
        return value
    if path.endswith("_minor"):
        return display_money(int(number), currency, locale, whole_from=100)
    if path.startswith(("savings.rate", "spend_share.", "credit.utilisation")):
        return f"{number:.0%}"
    return f"{number:g}"


def explain_all(
    codes: Iterable[str],
    *,
    insights: Mapping[str, Any] | None = None,
    locale: str = DEFAULT_LOCALE,
    currency: str = "USD",
    strict: bool = False,
) -> list[Reason]:
    """Every code in words, in order, without repeating a phrase.

    A code without words is left out (and logged) unless ``strict``: a reader never sees a raw
    code, and the catalogue test keeps every code the engine emits covered.
    """
    out: list[Reason] = []
    seen: set[str] = set()
    for code in codes:
        try:
            reason = explain(code, insights=insights, locale=locale, currency=currency)
        except UnknownReason as exc:
            if strict:
                raise
            log.warning("reason without words, not shown: %s", exc)
            continue
        if reason.text not in seen:
            seen.add(reason.text)
            out.append(reason)
    return out


def customer_reasons(
    codes: Iterable[str],
    *,
    insights: Mapping[str, Any] | None = None,
    locale: str = DEFAULT_LOCALE,
    currency: str = "USD",
) -> list[str]:
    """The phrases a customer may read, for the reasons that say why something is relevant.

    Eligibility and suitability checks a customer passes ("aged 18 or over") are not reasons
    to show them, nor is anything whose audience is not the customer.
    """
    relevant = [c for c in codes if c.startswith(("insight:", "feature:", "context:"))]
    reasons = explain_all(relevant, insights=insights, locale=locale, currency=currency)
    return [r.text for r in reasons if r.audience == "customer"]


def customer_why(
    codes: Iterable[str],
    *,
    insights: Mapping[str, Any] | None = None,
    locale: str = DEFAULT_LOCALE,
    currency: str = "USD",
    most: int = 2,
) -> str:
    """One sentence for "Why you're seeing this": the first ``most`` customer phrases."""
    phrases = customer_reasons(codes, insights=insights, locale=locale, currency=currency)
    chosen = [p.removeprefix("more timely because ") for p in phrases][:most] or [GENERIC_WHY]
    text = " and ".join(dict.fromkeys(chosen))
    return f"Because {text}."
