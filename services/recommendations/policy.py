"""Contact policy: whether an action may reach this customer now, and on which channel.

Checks, in order: marketing consent (service messages are exempt), frequency cap over 30 days,
cool-down after a decline, snooze after a dismissal, rest after an acceptance; then per channel:
the action allows it, the customer has it on, and push waits for the customer's quiet hours
(in their own time zone). Each check that passes leaves a ``policy:`` reason; the first that
fails is the refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.recommendations.actions import Action
from services.recommendations.vector import FeatureVector

DAY = 86_400
# Which customer setting a channel needs; chat and advisor are conversations already under way.
NEEDS_SETTING = {"in_app_card": "in_app", "push": "push"}


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of a policy check: allowed or not, on which channel, and why."""

    allowed: bool
    channel: str | None
    reasons: tuple[str, ...]


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The named time zone; UTC for an unknown or malformed name."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def in_quiet_hours(vector: FeatureVector, now: datetime) -> bool:
    """Whether ``now`` falls in the customer's quiet hours, in their time zone."""
    start, end = vector.quiet_start, vector.quiet_end
    if start is None or end is None or start == end:
        return False
    local = now.astimezone(zone(vector.timezone))
    minute = local.hour * 60 + local.minute
    return start <= minute < end if start < end else minute >= start or minute < end


def action_allowed(action: Action, vector: FeatureVector, now: datetime) -> Verdict:
    """The channel-independent checks: consent, frequency, cool-down, snooze, rest."""
    policy = action.contact
    reasons: list[str] = []
    if policy.marketing:
        if not vector.marketing_consent:
            return Verdict(False, None, ("policy:no_marketing_consent",))
        reasons.append("policy:consent_ok")
    else:
        reasons.append("policy:service_message")
    stats = vector.offers.get(action.code)
    if stats is not None:
        stamp = now.timestamp()
        if stats.shown_30d >= policy.max_per_30d:
            return Verdict(False, None, (f"policy:frequency_cap({policy.max_per_30d}/30d)",))
        if _within(stats.last_declined, stamp, policy.cooldown_days):
            return Verdict(False, None, (f"policy:cooldown({policy.cooldown_days}d)",))
        if _within(stats.last_dismissed, stamp, policy.snooze_days):
            return Verdict(False, None, (f"policy:snoozed({policy.snooze_days}d)",))
        rest = policy.rest_after_accept_days
        if _within(stats.last_accepted, stamp, rest):
            return Verdict(False, None, (f"policy:accepted_recently({rest}d)",))
        reasons.append(f"policy:frequency_ok({stats.shown_30d}/{policy.max_per_30d})")
        if stats.last_declined is not None:
            reasons.append("policy:cooldown_ok")
    else:
        reasons.append(f"policy:frequency_ok(0/{policy.max_per_30d})")
    return Verdict(True, None, tuple(reasons))


def _within(moment: int | None, now: float, days: int) -> bool:
    return moment is not None and 0 <= now - moment < days * DAY


def channel_allowed(action: Action, vector: FeatureVector, now: datetime, channel: str) -> Verdict:
    """The per-channel checks: allowed by the action, on for the customer, quiet hours."""
    if channel not in action.contact.channels:
        return Verdict(False, channel, (f"policy:channel_not_allowed({channel})",))
    setting = NEEDS_SETTING.get(channel)
    if setting is not None and setting not in vector.channels:
        return Verdict(False, channel, (f"policy:channel_off({channel})",))
    if channel == "push" and action.contact.quiet_hours:
        if in_quiet_hours(vector, now):
            return Verdict(False, channel, ("policy:quiet_hours",))
        return Verdict(True, channel, ("policy:quiet_hours_ok",))
    return Verdict(True, channel, ())


def check(
    action: Action, vector: FeatureVector, now: datetime, channel: str | None = None
) -> Verdict:
    """Whether ``action`` may reach the customer now; picks the first channel that passes.

    Args:
        action: The catalogue action.
        vector: The customer's feature vector.
        now: The clock (aware).
        channel: Only this channel; the action's channels in preference order when omitted.
    """
    general = action_allowed(action, vector, now)
    if not general.allowed:
        return general
    refusals: list[str] = []
    for candidate in (channel,) if channel else action.contact.channels:
        verdict = channel_allowed(action, vector, now, candidate)
        if verdict.allowed:
            return Verdict(True, candidate, general.reasons + verdict.reasons)
        refusals.extend(verdict.reasons)
    return Verdict(False, None, tuple(refusals) or ("policy:no_channel",))
