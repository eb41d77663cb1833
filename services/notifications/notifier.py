"""The notifier: events and clocks in, notifications decided and in the outbox.

:meth:`Notifier.on_events` is a handler of the app's event consumer (after the batch is booked,
so the detectors read the new entries): one transaction per batch decides every event of it.
:meth:`Notifier.sweep` is the scheduler's pass over the customers whose data changed since the
last pass or whose own day turned since their last one (incremental: the others are not read).
Both call ``on_due`` with the number of deliveries due now, so a dispatcher can send at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, select
from sqlmodel import SQLModel

from services.events import Event
from services.features.live import source_ref
from services.notifications import CHANNELS, Candidate
from services.notifications.copy import copy_for
from services.notifications.outbox import record
from services.notifications.policy import Contact, load_contacts
from services.notifications.triggers import (
    detected,
    detectors_for,
    scheduled,
    scheduled_merchants,
    threshold_candidates,
)
from services.recommendations.actions import Catalog
from services.recommendations.policy import zone

log = logging.getLogger(__name__)
_T = SQLModel.metadata.tables
CONTACT_FIELDS = ("email", "phone", "address", "contact_email", "contact_phone")


class Notifier:
    """Decides notifications for events as they are booked, and on the scheduler's clock.

    Args:
        engine: The system of record.
        catalog: The catalogue whose templates give each channel its copy.
        channels: The channels this bank can send on (the in-app inbox always); others are
            recorded as skipped with the reason, never queued to fail.
        on_due: Called with how many deliveries became due now (wakes a dispatcher).
        clock: The time (tests and evaluations fix it).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        catalog: Catalog | None = None,
        channels: Iterable[str] = CHANNELS,
        on_due: Callable[[int], None] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.engine, self.catalog = engine, catalog
        self.channels = frozenset(channels) | {"in_app"}
        self.on_due = on_due or (lambda _n: None)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.decided = 0  # events decided by this process
        self.recorded = 0  # notifications recorded by this process
        self._dirty: set[int] = set()
        self._swept: dict[int, tuple[str, str]] = {}  # person -> (time zone, day of last sweep)
        self._lock = threading.Lock()

    # --- events ------------------------------------------------------------------------------

    def on_events(self, events: Sequence[Event]) -> None:
        """Decide one booked batch (a handler of the event consumer)."""
        now = self.clock()
        mine = [e for e in events if e.type in ("transaction", "profile")]
        if mine:
            with self.engine.begin() as conn:
                due = self._decide(conn, mine, now)
            if due:
                self.on_due(due)
        with self._lock:
            self._dirty.update(e.person_id for e in events)
            self.decided += len(events)

    def _decide(self, conn: Connection, events: list[Event], now: datetime) -> int:
        people = sorted({e.person_id for e in events})
        contacts = load_contacts(conn, people, now)
        merchants = scheduled_merchants(conn, people)
        entries = _entries(conn, [e for e in events if e.type == "transaction"])
        found: list[Candidate] = []
        marked: dict[int, tuple[set[str], set[str]]] = {}  # person -> entries, detectors
        for event in events:
            contact = contacts.get(event.person_id)
            if contact is None:
                continue
            if event.type == "profile":
                found.extend(_contact_change(event))
                continue
            entry = entries.get(event.id)
            found.extend(threshold_candidates(event, contact, entry))
            wanted = detectors_for(event, contact, merchants[event.person_id])
            if entry is not None and wanted:
                refs, names = marked.setdefault(event.person_id, (set(), set()))
                refs.add(f"ledger:{entry}")
                names.update(wanted)
        for person, (refs, names) in marked.items():
            found.extend(
                detected(conn, person, entries=refs, detectors=names, now=now, source="events")
            )
        return self._record(conn, found, contacts, now)

    def _record(
        self, conn: Connection, found: list[Candidate], contacts: dict[int, Contact], now: datetime
    ) -> int:
        due = 0
        for candidate in found:
            contact = contacts[candidate.person_id]
            copy = copy_for(
                candidate, self.catalog, first_name=contact.first_name, currency=contact.currency
            )
            candidate = Candidate(
                **{
                    **candidate.__dict__,
                    "data": {**candidate.data, "copy": copy, "action": candidate.action},
                }
            )
            rows = record(conn, candidate, _available(contact, self.channels), now)
            if rows:
                self.recorded += 1
            due += sum(1 for r in rows if r["state"] == "pending")
        return due

    # --- the scheduler -------------------------------------------------------------------------

    def sweep(self, *, everyone: bool = False) -> dict[str, int]:
        """One scheduler pass: customers whose data changed, or whose own day turned.

        ``everyone``: every customer of the bank (a first pass, or an evaluation).
        Returns ``{"customers", "recorded", "due"}``.
        """
        now = self.clock()
        with self._lock:
            dirty, self._dirty = self._dirty, set()
        with self.engine.begin() as conn:
            people = _everyone(conn) if everyone else None
            contacts = load_contacts(conn, people if people is not None else sorted(dirty), now)
            if people is None:
                # customers not changed since their last pass, whose own day has turned since
                stale = [
                    pid
                    for pid, (tz, day) in self._swept.items()
                    if pid not in contacts and day != _day(tz, now)
                ]
                contacts.update(load_contacts(conn, stale, now))
            before = self.recorded
            found = [c for pid in sorted(contacts) for c in scheduled(conn, pid, now=now)]
            due = self._record(conn, found, contacts, now)
        for pid, contact in contacts.items():
            self._swept[pid] = (contact.timezone, _day(contact.timezone, now))
        if due:
            self.on_due(due)
        return {"customers": len(contacts), "recorded": self.recorded - before, "due": due}


def _day(timezone: str, now: datetime) -> str:
    """The date in ``timezone`` at ``now`` (a customer's own day)."""
    return now.astimezone(zone(timezone)).date().isoformat()


def _available(contact: Contact, channels: frozenset[str]) -> Contact:
    """The contact with the channels this bank cannot send on marked unavailable."""
    return Contact(**{**contact.__dict__, "unavailable": frozenset(CHANNELS) - channels})


def _entries(conn: Connection, events: list[Event]) -> dict[str, int]:
    """Event id -> the ledger entry it booked."""
    if not events:
        return {}
    refs = {source_ref(e.id): e.id for e in events}
    t = _T["ledger_entry"]
    rows = conn.execute(select(t.c.id, t.c.source_ref).where(t.c.source_ref.in_(list(refs))))
    return {refs[ref]: int(entry) for entry, ref in rows}


def _everyone(conn: Connection) -> list[int]:
    return [int(pid) for pid in conn.execute(select(_T["person"].c.id)).scalars()]


def _contact_change(event: Event) -> list[Candidate]:
    """A change of the customer's contact details: told on every channel, whatever the caps."""
    field = str(event.data.get("field", ""))
    if field not in CONTACT_FIELDS:
        return []
    what = field.removeprefix("contact_")
    words = {"email": "e-mail address", "phone": "phone number", "address": "postal address"}
    said = words.get(what, what)
    return [
        Candidate(
            person_id=event.person_id,
            kind="contact_details_changed",
            dedupe_key=f"contact_details_changed:event:{event.id}",
            title=f"Your {said} was changed",
            body=f"The {said} on your profile was changed. If this wasn't you, call us now.",
            source=f"event:{event.id}",
            severity="critical",
            data={"figures": {"field": what}, "evidence": [f"event:{event.id}"]},
        )
    ]
