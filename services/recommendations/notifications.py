"""Proactive notifications: which of a customer's insights the bank may push to them now.

An insight is worth a notification when its follow-up action may reach the customer under the
contact policy (``recommendations.policy.check``): consent for marketing, frequency caps,
cool-down after a decline, snooze, quiet hours for push, and the channels the customer has on.
Push is preferred; an in-app card is the fallback. Informational insights only go out when
nothing more severe is waiting, so a customer is not buzzed for small news on a bad day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.insights import Insight
from services.recommendations.actions import Catalog
from services.recommendations.policy import check
from services.recommendations.vector import FeatureVector

CHANNELS = ("push", "in_app_card")
MAX_NOTIFICATIONS = 3


@dataclass(frozen=True)
class Notification:
    """An insight cleared for a channel, with the policy checks it passed."""

    insight: Insight
    channel: str
    reasons: tuple[str, ...]


def due_notifications(
    insights: list[Insight], *, vector: FeatureVector, catalog: Catalog, now: datetime
) -> list[Notification]:
    """The insights to notify the customer of now, most severe first (at most three).

    Args:
        insights: The customer's insights, most severe first (``detect_all``'s order).
        vector: The customer's feature vector (consent, channels, offer history, time zone).
        catalog: The actions the insights suggest.
        now: The clock (aware).
    """
    out: list[Notification] = []
    urgent = any(i.severity != "info" for i in insights)
    for insight in insights:
        if urgent and insight.severity == "info":
            continue
        if insight.suggested_action not in catalog:
            continue
        action = catalog[insight.suggested_action]
        for channel in CHANNELS:
            if channel not in action.contact.channels:
                continue
            verdict = check(action, vector, now, channel=channel)
            if verdict.allowed:
                out.append(Notification(insight, channel, verdict.reasons))
                break
        if len(out) >= MAX_NOTIFICATIONS:
            break
    return out
