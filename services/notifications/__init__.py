"""Proactive notifications that reach people: from an event or a clock to a message sent.

A situation worth telling (an insight a detector found, a threshold the customer set, a change
to their contact details) becomes one :class:`Candidate`; the contact policy
(:mod:`.policy`) decides for each channel whether it goes now, waits for the end of the
customer's quiet hours, or not at all (and why); the outbox (:mod:`.outbox`) keeps one row per
notification and channel, deduplicated, which workers claim, send through the channel adapters
(:mod:`.channels`) and mark, retrying with backoff and setting poison rows aside. The customer's
answers (opened, dismissed, not helpful) are kept with the notification and make the policy send
that kind less.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

MessageClass = Literal["mandatory", "service", "marketing"]
CHANNELS = ("in_app", "email", "push", "sms")
STATES = ("pending", "deferred", "sending", "sent", "failed", "dead", "skipped")
FEEDBACK = ("opened", "dismissed", "not_helpful")


def aware(value: datetime) -> datetime:
    """``value`` as an aware UTC time (SQLite gives naive ones back)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Route:
    """How one kind of notification travels: its class and the channels it may use."""

    message_class: MessageClass
    channels: tuple[str, ...]


# Notification kind -> its route. Insight kinds keep the detectors' names; the others are the
# customer's own thresholds and security notices. Kinds the customer never reads (a churn risk is
# the bank's to act on) have no route.
ROUTES: dict[str, Route] = {
    "large_transaction": Route("service", ("in_app", "push", "email")),
    "duplicate_charge": Route("service", ("in_app", "push", "email")),
    "price_increase": Route("service", ("in_app", "email")),
    "free_trial_ending": Route("service", ("in_app", "push")),
    "deposit_maturing": Route("service", ("in_app", "email")),
    "paycheck_landed": Route("service", ("in_app", "push")),
    "upcoming_bills": Route("service", ("in_app", "email")),
    "low_balance_forecast": Route("service", ("in_app", "push")),
    "low_balance": Route("service", ("in_app", "push", "sms")),
    "business_cash_shortfall": Route("service", ("in_app", "email")),
    "portfolio_drift": Route("service", ("in_app", "email")),
    "home_buying": Route("marketing", ("in_app", "email")),
    "contact_details_changed": Route("mandatory", ("in_app", "email", "sms")),
}


@dataclass(frozen=True)
class Candidate:
    """A situation worth telling one customer, before the policy and the outbox see it.

    ``dedupe_key`` names the situation, not the moment (``large_transaction:ledger:123``): the
    same situation found again is the same notification. ``data`` holds the figures the copy
    is filled from (amounts in minor units, dates as ISO strings).
    """

    person_id: int
    kind: str
    dedupe_key: str
    title: str
    body: str
    source: str
    severity: str = "info"
    action: str | None = None  # the catalogue action the copy comes from, when there is one
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def route(self) -> Route:
        """The kind's route (a kind without one is never a candidate)."""
        return ROUTES[self.kind]
