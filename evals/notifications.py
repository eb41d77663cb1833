"""Notifications against the synthetic bank's planted situations, and the contact policy's record.

A bank of N customers is seeded; the scheduler's pass (``Notifier.sweep``) runs over every
customer at noon UTC of the bank's day, and dispatchers then send what is due at that moment
and through the following day, every hour on the hour, so deferred messages go out when the
customers' quiet hours end. The channels are recording adapters (every address of a synthetic
customer is refused by the real ones, by design). Reported:

- ``recall``: of the (customer, planted situation) pairs whose situation has a notification
  kind, the share told about it (a notification of that kind, delivered on at least one
  channel), leaving out the pairs the contact policy rightly withheld on every channel
  (``withheld_by_policy``: marketing without opt-in, a customer with every channel off;
  ``recall_with_withheld`` counts them as misses); ``precision``: of the customers notified of
  such a kind, the share with the planted situation. Per kind too (``kinds``).
- ``sent_against_consent``: deliveries sent on a channel the customer has off, or marketing
  without their opt-in (mandatory messages excepted); ``sent_in_quiet_hours``: push, text or
  e-mail sent inside the customer's quiet hours (mandatory excepted). Both must be 0.
- ``deliveries``: how many were sent, deferred, skipped (with the policy's reasons), dead.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from services.db import make_engine
from services.insights import PLANTED_SITUATION, PLANTED_WHEN
from services.notifications import ROUTES, aware
from services.notifications.channels import Message
from services.notifications.dispatch import Dispatcher
from services.notifications.notifier import Notifier
from services.notifications.policy import Contact, quiet_until
from services.recommendations.catalog import default_catalog
from services.synth.writer import seed_bank
from services.truth import labelled

AS_OF = date(2026, 11, 28)
NOW = datetime(AS_OF.year, AS_OF.month, AS_OF.day, 12, tzinfo=UTC)
HOURS = 24  # the dispatchers' day after the pass


class Recorder:
    """A channel that keeps what it is given (the evaluation's stand-in for a provider)."""

    def __init__(self, name: str) -> None:
        """Nothing sent yet."""
        self.name, self.sent = name, list[Message]()

    async def send(self, message: Message) -> str:
        """Keep the message; its position is the provider's id."""
        self.sent.append(message)
        return f"{self.name}-{len(self.sent)}"


def _json(value: Any) -> dict[str, Any]:
    import json

    return value if isinstance(value, dict) else json.loads(value or "{}")


def notify_all(engine: Engine, *, now: datetime, hours: int = HOURS) -> dict[str, Any]:
    """The scheduler's pass at ``now``, then an hourly dispatcher for ``hours``; the counts."""
    channels = {name: Recorder(name) for name in ("email", "push", "sms")}
    notifier = Notifier(engine, catalog=default_catalog(), channels=channels, clock=lambda: now)
    started = time.perf_counter()
    swept = notifier.sweep(everyone=True)
    sweep_s = time.perf_counter() - started
    for hour in range(hours + 1):
        at = now + timedelta(hours=hour)
        dispatcher = Dispatcher(engine, channels, batch=500, clock=_fixed(at))
        while asyncio.run(dispatcher.run_once()):
            pass
    return {**swept, "sweep_seconds": round(sweep_s, 2)}


def _fixed(at: datetime) -> Callable[[], datetime]:
    return lambda: at


def score(engine: Engine) -> dict[str, Any]:
    """Recall and precision against the planted situations; the policy's record."""
    with engine.connect() as conn:
        notified: dict[str, set[int]] = {}
        rows = conn.execute(
            text(
                "SELECT n.person_id, n.kind, n.data FROM notification n WHERE EXISTS ("
                "SELECT 1 FROM notification_delivery d WHERE d.notification_id = n.id "
                "AND d.state = 'sent')"
            )
        ).all()
        for pid, kind, data in rows:
            qualifier = PLANTED_WHEN.get(kind)
            figures = _json(data).get("figures") or {}
            if qualifier is None or figures.get(qualifier) is not None:
                notified.setdefault(kind, set()).add(int(pid))
        # recorded, but the policy let it out on no channel (e.g. marketing without opt-in)
        withheld: dict[str, set[int]] = {}
        for pid, kind in conn.execute(
            text(
                "SELECT n.person_id, n.kind FROM notification n WHERE NOT EXISTS ("
                "SELECT 1 FROM notification_delivery d WHERE d.notification_id = n.id "
                "AND d.state <> 'skipped')"
            )
        ):
            withheld.setdefault(str(kind), set()).add(int(pid))
        kinds: dict[str, Any] = {}
        hits = known_total = told_total = held_total = 0
        for kind, label in PLANTED_SITUATION.items():
            if kind not in ROUTES:
                continue
            planted = set(labelled(conn, kind="situation", label=label))
            held = (planted & withheld.get(kind, set())) - notified.get(kind, set())
            known = planted - held  # the customers the policy allowed to be told
            told = notified.get(kind, set())
            both = len(known & told)
            hits, known_total, told_total = (
                hits + both,
                known_total + len(known),
                told_total + len(told),
            )
            held_total += len(held)
            kinds[kind] = {
                "recall": round(both / len(known), 4) if known else None,
                "precision": round(both / len(told), 4) if told else None,
                "support": len(known),
                "notified": len(told),
                "withheld_by_policy": len(held),
            }
        against, quiet = _policy_record(conn)
        states = Counter(
            {
                s: int(n)
                for s, n in conn.execute(
                    text("SELECT state, count(*) FROM notification_delivery GROUP BY state")
                )
            }
        )
        reasons: Counter[str] = Counter()
        for reason, n in conn.execute(
            text(
                "SELECT reason, count(*) FROM notification_delivery "
                "WHERE state = 'skipped' GROUP BY reason"
            )
        ):
            reasons[str(reason).split("(")[0]] += int(n)  # "channel_off(email)": channel_off
    return {
        "recall": round(hits / known_total, 4) if known_total else None,
        "recall_with_withheld": (
            round(hits / (known_total + held_total), 4) if known_total + held_total else None
        ),
        "withheld_by_policy": held_total,
        "precision": round(hits / told_total, 4) if told_total else None,
        "kinds": kinds,
        "sent_against_consent": against,
        "sent_in_quiet_hours": quiet,
        "deliveries": dict(states),
        "skipped_because": dict(reasons),
    }


def _policy_record(conn: Any) -> tuple[int, int]:
    rows = conn.execute(
        text(
            "SELECT d.channel, d.sent_at, n.message_class, n.person_id, cp.push, cp.email, "
            "cp.sms, cp.marketing_consent, cp.quiet_start, cp.quiet_end, cp.timezone "
            "FROM notification_delivery d JOIN notification n ON n.id = d.notification_id "
            "LEFT JOIN contact_preference cp ON cp.person_id = n.person_id "
            "WHERE d.state = 'sent'"
        )
    ).all()
    against = quiet = 0
    for r in rows:
        if r.message_class == "mandatory":
            continue
        on = {"push": r.push, "email": r.email, "sms": r.sms, "in_app": True}
        if r.push is not None and not on[r.channel]:
            against += 1
        if r.message_class == "marketing" and not r.marketing_consent:
            against += 1
        if r.channel != "in_app":
            contact = Contact(
                person_id=r.person_id,
                quiet_start=_time(r.quiet_start),
                quiet_end=_time(r.quiet_end),
                timezone=r.timezone or "UTC",
            )
            sent = _moment(r.sent_at)
            if quiet_until(contact, sent) is not None:
                quiet += 1
    return against, quiet


def _moment(value: Any) -> datetime:
    return aware(value if isinstance(value, datetime) else datetime.fromisoformat(str(value)))


def _time(value: Any) -> Any:
    from datetime import time as clock

    if value is None or isinstance(value, clock):
        return value
    return clock.fromisoformat(str(value))


def run_notifications_eval(
    *,
    customers: int = 1000,
    seed: int = 7,
    workdir: Path | None = None,
    step: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Seed a bank in a temporary SQLite file, notify, dispatch for a day, and score."""
    tell = step or (lambda _name: None)
    with tempfile.TemporaryDirectory(prefix="concierge-notify-eval-") as tmp:
        root = workdir or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        path = root / f"notify-{seed}-{customers}.db"
        for leftover in root.glob(f"{path.name}*"):
            leftover.unlink()
        engine = make_engine(f"sqlite:///{path.as_posix()}")
        try:
            tell(f"seed {customers} customers")
            seed_bank(engine, customers=customers, seed=seed, as_of=AS_OF)
            tell("notify and dispatch for a day")
            ran = notify_all(engine, now=NOW)
            tell("score")
            result = score(engine)
        finally:
            engine.dispose()
    return {**result, "customers": customers, "seed": seed, "now": NOW.isoformat(), **ran}
