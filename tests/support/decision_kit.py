"""Builders shared by the decision tests: small actions, catalogues and vectors (no tests here)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.recommendations.actions import Action, Catalog
from services.recommendations.offer_log import OfferStats
from services.recommendations.vector import FeatureVector, InsightBrief

# 10:00 in New York: outside the default quiet hours (21:00-08:00).
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
DAY = 86_400


def action(code: str, **fields: Any) -> Action:
    """An action with plain defaults: a marketed product on in-app and push."""
    raw: dict[str, Any] = {
        "code": code,
        "kind": "product",
        "title": code.replace("_", " ").title(),
        "value_minor": 10_000,
        "contact": {"channels": ["in_app_card", "push"], "marketing": True},
        "variants": {
            "in_app_card": {"title": f"{code} card", "body": "{first_name}, try " + code},
            "push": {"title": f"{code} push", "body": "Hi {first_name}"},
            "chat_line": {"title": f"{code} chat", "body": "Chat about " + code},
            "advisor_script": {"title": f"{code} script", "body": "Offer " + code},
        },
    }
    contact = fields.pop("contact", {})
    raw.update(fields)
    raw["contact"] = {**raw["contact"], **contact}
    return Action.model_validate(raw)


def catalog(*actions: Action) -> Catalog:
    """A catalogue of just these actions."""
    return Catalog(list(actions))


def vector(**fields: Any) -> FeatureVector:
    """A mass-market customer with checking and savings, consent and push on."""
    defaults: dict[str, Any] = {
        "person_id": 7,
        "as_of": int(NOW.timestamp()),
        "first_name": "Maya",
        "segment": "mass_market",
        "age": 35,
        "products": ("checking", "savings"),
        "checking_minor": 245_000,
        "savings_minor": 1_200_000,
        "deposits_minor": 1_445_000,
        "marketing_consent": True,
        "channels": ("push", "email", "in_app"),
        "quiet_start": 21 * 60,
        "quiet_end": 8 * 60,
        "timezone": "America/New_York",
    }
    defaults.update(fields)
    return FeatureVector(**defaults)


def insight(type_: str, severity: str = "warning", **data: Any) -> InsightBrief:
    """An insight as the vector keeps it."""
    return InsightBrief(type_, severity, f"{type_} message.", data)


def stats(**fields: Any) -> OfferStats:
    """Offer history of one action, times given in days before NOW."""
    out = OfferStats(shown_30d=fields.pop("shown_30d", 0))
    for name, days_ago in fields.items():
        setattr(out, name, int(NOW.timestamp() - days_ago * DAY))
    return out
