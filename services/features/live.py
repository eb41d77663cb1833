"""Events from the bus into the system of record, the live features and the decision cache.

What a bank expects of an event that says a transaction was booked: it is on the statement. So
the live consumer *books* each event before anything else reads it:

* ``transaction`` -> a ``ledger_entry`` row (the account's balance moves by the amount, or is
  set to ``balance_after_minor`` when core banking sent it);
* ``digital`` -> a ``digital_event`` row;
* ``profile`` -> the ``contact_preference`` field it names (other fields only reach features).

Then the same batch goes to the feature store (``ProfileConsumer.handle``: the profile's
``live`` overlay) and to any further handlers (the recommender's ``on_events``), so statements,
insights, the dashboard and the next decision all reflect it.

Booking is idempotent on the event id (the row's ``source_ref``), so a re-delivered event books
nothing twice and moves no balance twice. An event whose account is not the person's is not
booked (the API refuses those before publishing; this guards other producers).
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
from collections.abc import Sequence
from datetime import time
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, select, update
from sqlmodel import SQLModel

from services.events import Event, EventBus, Handler, run_consumer
from services.features.store import FeatureStore

log = logging.getLogger(__name__)
_T = SQLModel.metadata.tables
REF_MAX = 64
PREFERENCE_FLAGS = frozenset({"push", "email", "sms", "in_app", "marketing_consent"})


def source_ref(event_id: str) -> str:
    """The event id as a ``source_ref`` (hashed when it would not fit the column)."""
    ref = f"event:{event_id}"
    if len(ref) <= REF_MAX:
        return ref
    return "event#" + hashlib.sha256(event_id.encode()).hexdigest()[: REF_MAX - 6]


def _exists(conn: Connection, table: str, ref: str) -> bool:
    t = _T[table]
    return conn.execute(select(t.c.id).where(t.c.source_ref == ref)).first() is not None


def _book_digital(conn: Connection, event: Event) -> bool:
    data, ref = event.data, source_ref(event.id)
    if _exists(conn, "digital_event", ref):
        return False
    conn.execute(
        _T["digital_event"]
        .insert()
        .values(
            person_id=event.person_id,
            device_id=str(data.get("device_id") or "unknown")[:40],
            session_id=str(data.get("session_id") or f"event-{event.id}")[:40],
            occurred_at=event.occurred_at,
            channel=str(data["channel"])[:10],
            kind=data["kind"],
            page=(data.get("page") or None) and str(data["page"])[:100],
            detail=data.get("detail"),
            source_ref=ref,
        )
    )
    return True


def _book_transactions(conn: Connection, events: list[Event]) -> int:
    """Book transactions, in the order given; how many were new.

    Each is a ``ledger_entry`` row; its account's balance moves by the amount, or is set to
    ``balance_after_minor`` when core banking sent it. One booked already (its ``source_ref``),
    or on an account that is not the person's or in another currency, books nothing. The batch
    is read and written in a few statements: the refs already booked and the accounts in one
    query each, the entries in one insert, one balance update per account.
    """
    if not events:
        return 0
    ledger, account = _T["ledger_entry"], _T["account"]
    refs = [source_ref(e.id) for e in events]
    seen = set(
        conn.execute(select(ledger.c.source_ref).where(ledger.c.source_ref.in_(refs))).scalars()
    )
    wanted = {int(e.data["account_id"]) for e in events}
    accounts = {
        int(r.id): (int(r.person_id), int(r.balance_minor), str(r.currency))
        for r in conn.execute(
            select(
                account.c.id, account.c.person_id, account.c.balance_minor, account.c.currency
            ).where(account.c.id.in_(wanted))
        )
    }
    balances = {key: value[1] for key, value in accounts.items()}
    rows: list[dict[str, Any]] = []
    for event, ref in zip(events, refs, strict=True):
        if ref in seen:
            continue
        data = event.data
        found = accounts.get(int(data["account_id"]))
        if found is None or found[0] != event.person_id or found[2] != data["currency"]:
            log.warning("event %s: account is not the person's, or in another currency", event.id)
            continue
        seen.add(ref)
        amount, after = int(data["amount_minor"]), data.get("balance_after_minor")
        account_id = int(data["account_id"])
        balance = int(after) if isinstance(after, int) else balances[account_id] + amount
        balances[account_id] = balance
        merchant = data.get("merchant")
        rows.append(
            {
                "account_id": account_id,
                "person_id": event.person_id,
                "booked_at": event.occurred_at,
                "amount_minor": amount,
                "currency": data["currency"],
                "merchant": merchant,
                "category": data["category"],
                "channel": str(data["channel"])[:20],
                "description": (merchant or data["category"])[:200],
                "balance_after_minor": balance,
                "source_ref": ref,
            }
        )
    if not rows:
        return 0
    conn.execute(ledger.insert(), rows)
    moved = sorted({row["account_id"] for row in rows})
    conn.execute(
        update(account)
        .where(account.c.id == bindparam("moved_id"))
        .values(balance_minor=bindparam("moved_balance")),
        [{"moved_id": a, "moved_balance": balances[a]} for a in moved],
    )
    return len(rows)


def _preference_value(name: str, value: Any) -> tuple[bool, Any]:
    if name in PREFERENCE_FLAGS:
        return isinstance(value, bool), value
    if name in ("quiet_start", "quiet_end"):
        if value is None:
            return True, None
        try:
            return True, time.fromisoformat(str(value))
        except ValueError:
            return False, None
    if name == "timezone":
        return isinstance(value, str) and 0 < len(value) <= 50, value
    return False, None


def _book_profile(conn: Connection, event: Event) -> bool:
    name = str(event.data["field"])
    ok, value = _preference_value(name, event.data.get("value"))
    if not ok:
        return False  # not a stored preference (or a malformed value): features only
    prefs = _T["contact_preference"]
    have = conn.execute(
        select(prefs.c.person_id).where(prefs.c.person_id == event.person_id)
    ).first()
    if have is None:
        conn.execute(prefs.insert().values(person_id=event.person_id, **{name: value}))
    else:
        conn.execute(
            update(prefs).where(prefs.c.person_id == event.person_id).values(**{name: value})
        )
    return True


def refusals(conn: Connection, events: Sequence[Event]) -> list[dict[str, Any]]:
    """Why events valid in shape still cannot be booked: unknown person, foreign account.

    Args:
        conn: A connection to the system of record.
        events: Validated events.

    Returns:
        One ``{"index", "id", "msg"}`` per refused event; empty when all can be booked.
    """
    person, account = _T["person"], _T["account"]
    people = {e.person_id for e in events}
    known = set(conn.execute(select(person.c.id).where(person.c.id.in_(people))).scalars())
    wanted = {int(e.data["account_id"]) for e in events if e.type == "transaction"}
    accounts = {
        int(r.id): (int(r.person_id), str(r.currency))
        for r in conn.execute(
            select(account.c.id, account.c.person_id, account.c.currency).where(
                account.c.id.in_(wanted)
            )
        )
    }
    out: list[dict[str, Any]] = []
    for index, event in enumerate(events):
        msg = None
        if event.person_id not in known:
            msg = f"no customer {event.person_id}"
        elif event.type == "transaction":
            owner = accounts.get(int(event.data["account_id"]))
            if owner is None or owner[0] != event.person_id:
                msg = f"account {event.data['account_id']} is not one of this customer's"
            elif owner[1] != event.data["currency"]:
                msg = f"account {event.data['account_id']} is held in {owner[1]}"
        if msg:
            out.append({"index": index, "id": event.id, "msg": msg})
    return out


BOOKERS = {"digital": _book_digital, "profile": _book_profile}  # transactions: in one go


def book_events(engine: Engine, events: Sequence[Event]) -> int:
    """Book a batch into the system of record in one transaction; returns how many were new.

    Args:
        engine: The system of record.
        events: Validated events, in any order.
    """
    booked = 0
    ordered = sorted(events, key=lambda e: e.occurred_at)
    with engine.begin() as conn:
        booked += _book_transactions(conn, [e for e in ordered if e.type == "transaction"])
        for event in ordered:
            if event.type != "transaction":
                booked += BOOKERS[event.type](conn, event)
    return booked


class LiveUpdates:
    """The app's consumer: books each batch, feeds the feature store, then other handlers.

    Args:
        bus: Where events come from.
        engine: The system of record to book into.
        store: The feature store behind profiles' live figures.
        handlers: Called after booking with the same batch (e.g. ``Recommender.on_events``).
        group: The consumer group; every replica uses the same one.
        consumer: This consumer's name in the group (default: host and process id).
        block_ms: How long one poll waits for events.
    """

    def __init__(
        self,
        bus: EventBus,
        engine: Engine,
        store: FeatureStore,
        *,
        handlers: Sequence[Handler] = (),
        group: str = "live",
        consumer: str | None = None,
        block_ms: int = 100,
    ) -> None:
        self.bus, self.engine, self.store = bus, engine, store
        self.handlers = tuple(handlers)
        self.group = group
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}"
        self.block_ms = block_ms
        self.applied = 0  # events handled by this process (for tests and probes)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def handle(self, events: Sequence[Event]) -> None:
        """Apply one batch; raising leaves it unacknowledged and re-applying is harmless."""
        book_events(self.engine, events)
        self.store.apply_many(events)
        for handler in self.handlers:
            handler(events)
        self.applied += len(events)

    def start(self) -> None:
        """Consume in a daemon thread until :meth:`stop`."""
        self._stop.clear()
        self._thread = threading.Thread(
            target=run_consumer,
            args=(self.bus, self.group, self.consumer, self.handle),
            kwargs={"stop": self._stop, "block_ms": self.block_ms},
            name=f"live-updates-{self.consumer}",
            daemon=True,
        )
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Let the current batch finish and wait for the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
