"""From events and clocks to candidates: which situations are worth telling, found cheaply.

A transaction event is decided on its own when it can be: a charge over the customer's own
"tell me about charges over X" threshold, a balance that crossed their "under Y" threshold.
Events that may make a detector fire (a larger charge, pay landing, a charge from a merchant
the customer pays on a schedule above its usual amount) mark their customer for detection, and
the detectors run once per marked customer per batch, on their history; only insights that the
batch's own entries are evidence of become candidates, so an old situation is not announced
again by an unrelated purchase. The scheduler (:func:`scheduled`) runs every detector for the
customers whose data or day changed, for the situations a clock makes (a deposit maturing in a
week, bills due this week).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, select
from sqlmodel import SQLModel

from services.events import Event
from services.insights import INSIGHT_COPY, Insight, customer_may_read
from services.insights.detectors import DETECTORS, detect_all
from services.insights.history import LOOKBACK_DAYS, load_history
from services.insights.spending import LARGE_FLOOR_MINOR
from services.money import display_money
from services.notifications import ROUTES, Candidate
from services.notifications.policy import Contact

_T = SQLModel.metadata.tables
# Detectors a single booked transaction can make fire; the rest are the scheduler's.
EVENT_DETECTORS = ("large_transaction", "duplicate_charge", "price_increase", "paycheck_landed")
PAY_LOOKBACK_DAYS = 7  # paycheck_landed looks two days back
INCOME = ("income", "salary", "payroll", "paycheck", "wages")
# Kinds whose situation comes back on a cycle: the period is part of the dedupe key, so next
# week's bills are news again while this week's are told once.
WEEKLY = ("upcoming_bills", "low_balance_forecast", "business_cash_shortfall")


def _key(kind: str, evidence: Iterable[str], now: datetime) -> str:
    parts = sorted(evidence)
    if kind in WEEKLY:
        year, week, _ = now.isocalendar()
        parts.append(f"week:{year}-{week:02d}")
    joined = ",".join(parts)
    if len(joined) > 150:
        joined = hashlib.sha256(joined.encode()).hexdigest()[:32]
    return f"{kind}:{joined}"


def from_insight(person_id: int, insight: Insight, *, source: str, now: datetime) -> Candidate:
    """An insight as a candidate notification (its copy, figures and dedupe key)."""
    return Candidate(
        person_id=person_id,
        kind=insight.type,
        dedupe_key=_key(insight.type, insight.evidence, now),
        title=INSIGHT_COPY[insight.type].title,
        body=insight.message,
        source=source,
        severity=insight.severity,
        action=insight.suggested_action,
        data={"figures": insight.data, "evidence": list(insight.evidence)},
    )


def _notifiable(insight: Insight) -> bool:
    return insight.type in ROUTES and customer_may_read(insight.type)


def _money(minor: int, currency: str) -> str:
    return display_money(abs(minor), currency, places=2, whole_from=100)


def threshold_candidates(event: Event, contact: Contact, entry_id: int | None) -> list[Candidate]:
    """Candidates from the customer's own thresholds alone (no history needed)."""
    data = event.data
    amount, currency = int(data["amount_minor"]), str(data["currency"])
    ref = f"ledger:{entry_id}" if entry_id is not None else f"event:{event.id}"
    out: list[Candidate] = []
    over = contact.large_purchase_minor
    if over is not None and amount < 0 and -amount >= over:
        merchant = data.get("merchant") or "a payee"
        out.append(
            Candidate(
                person_id=event.person_id,
                kind="large_transaction",
                dedupe_key=f"large_transaction:{ref}",
                title=INSIGHT_COPY["large_transaction"].title,
                body=f"You paid {_money(amount, currency)} to {merchant}, over the "
                f"{_money(over, currency)} you asked to hear about.",
                source=f"event:{event.id}",
                severity="warning",
                action="review_transaction",
                data={
                    "figures": {"amount_minor": -amount, "merchant": merchant, "over": over},
                    "evidence": [ref],
                },
            )
        )
    under, after = contact.low_balance_minor, data.get("balance_after_minor")
    if under is not None and amount < 0 and isinstance(after, int):
        if after < under <= after - amount:  # this charge took the balance below the line
            out.append(
                Candidate(
                    person_id=event.person_id,
                    kind="low_balance",
                    dedupe_key=f"low_balance:{ref}",
                    title="Balance is low",
                    body=f"Your balance is {_money(after, currency)}, under the "
                    f"{_money(under, currency)} you asked to hear about.",
                    source=f"event:{event.id}",
                    severity="warning",
                    data={"figures": {"balance_minor": after, "under": under}, "evidence": [ref]},
                )
            )
    return out


def detectors_for(event: Event, contact: Contact, scheduled: dict[str, int]) -> tuple[str, ...]:
    """Which of :data:`EVENT_DETECTORS` this transaction may make fire (often none).

    ``scheduled``: the merchants the customer pays on a schedule, with the latest amount known
    (positive minor units). A charge from one of them matters when it is higher than that (a
    price rise); one no higher leaves the detectors to the scheduler's daily pass, which runs
    them all.
    """
    data = event.data
    amount = int(data["amount_minor"])
    if amount > 0:
        return ("paycheck_landed",) if str(data.get("category", "")).lower() in INCOME else ()
    merchant = str(data.get("merchant") or "").lower()
    if merchant in scheduled:
        return ("price_increase",) if -amount > scheduled[merchant] else ()
    # the customer's own threshold replaces the detector's idea of large
    if contact.large_purchase_minor is None and -amount >= LARGE_FLOOR_MINOR:
        return ("large_transaction",)
    return ()


def scheduled_merchants(conn: Connection, person_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """The merchants each customer pays on a schedule (lower case), with the latest amount."""
    r = _T["recurring_series"]
    rows = conn.execute(
        select(r.c.person_id, r.c.merchant, r.c.amount_minor).where(
            r.c.person_id.in_(list(person_ids)), r.c.amount_minor < 0
        )
    ).all()
    out: dict[int, dict[str, int]] = {pid: {} for pid in person_ids}
    for pid, merchant, amount in rows:
        name = str(merchant).lower()
        out[pid][name] = max(out[pid].get(name, 0), -int(amount))
    return out


def detected(
    conn: Connection,
    person_id: int,
    *,
    entries: set[str],
    detectors: set[str],
    now: datetime,
    source: str,
) -> list[Candidate]:
    """Run ``detectors`` on one customer's history; the insights ``entries`` are evidence of.

    Pay landing needs only the last days (and the customer's savings rule): its history is read
    that far back alone.
    """
    lookback = PAY_LOOKBACK_DAYS if detectors == {"paycheck_landed"} else LOOKBACK_DAYS
    history = load_history(conn, person_id=person_id, now=now, lookback_days=lookback)
    found: list[Candidate] = []
    for name in EVENT_DETECTORS:
        if name not in detectors:
            continue
        for insight in DETECTORS[name](history, now):
            if _notifiable(insight) and entries.intersection(insight.evidence):
                found.append(from_insight(person_id, insight, source=source, now=now))
    return found


def scheduled(conn: Connection, person_id: int, *, now: datetime) -> list[Candidate]:
    """Every notifiable insight of one customer now (the scheduler's sweep)."""
    return [
        from_insight(person_id, insight, source=f"schedule:{now.date().isoformat()}", now=now)
        for insight in detect_all(load_history(conn, person_id=person_id, now=now), now)
        if _notifiable(insight) and _recent_enough(insight, now)
    ]


def _recent_enough(insight: Insight, now: datetime) -> bool:
    # the sweep tells what is current: an event-made insight older than a few days is history
    if insight.type not in EVENT_DETECTORS or insight.detected_at is None:
        return True
    at = insight.detected_at
    return at.tzinfo is None or now - at <= timedelta(days=3)
