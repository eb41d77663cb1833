"""``concierge bench notifications``: events in, notifications decided, sent, and shown.

Self-contained: a demo bank of N customers is seeded into a temporary folder (SQLite), every
customer gets reserved addresses (``customerN@example.com``, 555-01xx numbers) so the real
channel adapters may reach them, and a "tell me about charges over $200" threshold. Three parts:

- **Throughput** (``in_process``, ``redis``): E synthetic transactions (mostly small card
  purchases, some large ones, subscription charges and pay) go through the event bus to the
  app's consumer, which books each batch and decides its notifications (the notifier: the
  customers' thresholds, the detectors for the customers an event may concern, the contact
  policy, the outbox). ``events_per_s`` runs from the first publish to the last batch decided;
  ``decide_only_events_per_s`` counts the notifier's time alone (booking happens anyway).
- **Toast** (``toast_ms_*``): the app is served in a child process; customers keep the chat
  open; one large charge at a time is posted to ``/api/events`` and timed until the
  ``notification`` frame reaches that customer's page.
- **Crash** (``duplicates``, ``lost``): two ``concierge notify work`` processes send the outbox
  through a local SMTP server and a local push provider (a webhook receiver that, as providers
  do, recognises a repeated ``Idempotency-Key``); one is killed with SIGKILL mid-send and a new
  one started. A message accepted by a receiver just before its worker died is sent again once
  the lease ends, under the same key (a push's ``Idempotency-Key``, an e-mail's Message-ID):
  ``resends_caught`` counts those (``resent_emails`` the e-mails among them, which reach the
  customer twice where a mail store does not recognise a repeated Message-ID);
  ``duplicates``: notifications that reached the customer under two different keys, which no
  receiver can recognise; ``lost``: deliveries due that never arrived.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, bindparam, text

from bench.chat import bank_url, free_port, opened, run_client, sign_in, start_server, stop_server
from services.events import Event, EventBus, run_consumer
from services.features.live import book_events
from services.notifications.notifier import Notifier
from services.recommendations.catalog import default_catalog
from services.stats import percentile

Phase = Callable[[str, int | None], Callable[[int], None]]
SMALL_MERCHANTS = ("Corner Cafe", "Fresh Mart", "City Cab", "Bookshop", "Pharma Plus", "Gas&Go")
THRESHOLD_MINOR = 20_000  # every customer's "tell me about charges over $200"
WEBHOOK_SECRET = "bench-webhook-secret"
TOAST_WAIT_S = 10.0
TOAST_CUSTOMERS = 5  # kept out of the throughput part, so their day starts quiet


# --- the bank ---------------------------------------------------------------------------------


def build_bank(var: Path, customers: int, *, nlu_model: Path, seed: int) -> list[str]:
    """Seed the bank under ``var``; reserved addresses and a threshold for everyone."""
    from bench.chat import seed_users
    from services.db import make_engine

    users = seed_users(var, customers, nlu_model=nlu_model, seed=seed)
    engine = make_engine(bank_url(var))
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE person SET email = 'customer' || id || '@example.com', "
                    "phone = '+1 202-555-01' || substr('0' || (id % 100), -2, 2)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO notification_preference (person_id, large_purchase_minor, "
                    "updated_at) SELECT id, :over, :now FROM person"
                ),
                {"over": THRESHOLD_MINOR, "now": datetime.now(UTC).replace(tzinfo=None)},
            )
    finally:
        engine.dispose()
    return users


def synthetic_events(
    engine: Engine, n: int, *, seed: int, now: datetime, spare: frozenset[int] = frozenset()
) -> list[Event]:
    """``n`` transactions on the customers' own checking accounts, as a day of a bank looks.

    ``spare``: customers left out (the toast part's, whose day must start quiet).
    """
    rng = random.Random(seed)
    with engine.connect() as conn:
        accounts: dict[int, int] = dict(
            conn.execute(
                text(
                    "SELECT person_id, min(id) FROM account WHERE type = 'checking' "
                    "GROUP BY person_id"
                )
            ).all()
        )
        scheduled: dict[int, list[tuple[str, int]]] = {}
        for pid, merchant, amount in conn.execute(
            text(
                "SELECT person_id, merchant, amount_minor FROM recurring_series "
                "WHERE amount_minor < 0"
            )
        ):
            scheduled.setdefault(int(pid), []).append((str(merchant), int(amount)))
    people = sorted(set(accounts) - spare)
    run = f"notify{seed}-{uuid.uuid4().hex[:8]}"
    out = []
    for i in range(n):
        pid = rng.choice(people)
        roll = rng.random()
        data: dict[str, Any] = {
            "account_id": int(accounts[pid]),
            "currency": "USD",
            "channel": "card",
            "category": "shopping",
        }
        if roll < 0.90 or (roll < 0.95 and not scheduled.get(pid)):
            data |= {
                "amount_minor": -rng.randint(300, 12_000),
                "merchant": rng.choice(SMALL_MERCHANTS),
            }
        elif roll < 0.95:
            merchant, amount = rng.choice(scheduled[pid])
            data |= {"amount_minor": amount, "merchant": merchant, "channel": "ach"}
        elif roll < 0.98:
            data |= {"amount_minor": -rng.randint(25_000, 200_000), "merchant": "Hifi Store"}
        else:
            data |= {
                "amount_minor": rng.randint(150_000, 400_000),
                "merchant": "Employer Payroll",
                "category": "income",
                "channel": "ach",
            }
        at = now - timedelta(seconds=rng.randint(0, 6 * 3600))
        out.append(
            Event(id=f"{run}-{i}", type="transaction", person_id=pid, occurred_at=at, data=data)
        )
    return out


# --- throughput ---------------------------------------------------------------------------------


def throughput(
    engine: Engine,
    bus: EventBus,
    events: Sequence[Event],
    *,
    batch: int = 500,
    advance: Callable[[int], None] = lambda n: None,
    timeout_s: float = 600.0,
) -> dict[str, Any]:
    """Push ``events`` through ``bus`` into the consumer that books and decides; the figures."""
    notifier = Notifier(engine, catalog=default_catalog(), channels=("in_app", "email", "push"))
    done = threading.Condition()
    counts = {"decided": 0, "last": 0.0, "deciding": 0.0}

    def handle(batch_events: Sequence[Event]) -> None:
        book_events(engine, batch_events)
        began = time.perf_counter()
        notifier.on_events(batch_events)
        deciding = time.perf_counter() - began
        with done:
            counts["deciding"] += deciding
            counts["decided"] += len(batch_events)
            counts["last"] = time.perf_counter()
            done.notify_all()
        advance(len(batch_events))

    stop = threading.Event()
    group, consumer = "bench-notify", "bench-notify-1"
    worker = threading.Thread(
        target=run_consumer,
        args=(bus, group, consumer, handle),
        kwargs={"stop": stop, "count": batch, "block_ms": 50},
        daemon=True,
    )
    worker.start()
    try:
        started = time.perf_counter()
        for first in range(0, len(events), batch):
            bus.publish_many(events[first : first + batch])
        deadline = time.monotonic() + timeout_s
        with done:
            while counts["decided"] < len(events):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"decided {counts['decided']} of {len(events)} in time")
                done.wait(1.0)
        elapsed = counts["last"] - started
    finally:
        stop.set()
        worker.join(10)
    return {
        "events": len(events),
        "seconds": round(elapsed, 2),
        "events_per_s": round(len(events) / elapsed, 1) if elapsed > 0 else None,
        # the notifier's own share: the consumer books every event whether or not it notifies
        "decide_only_events_per_s": (
            round(len(events) / counts["deciding"], 1) if counts["deciding"] > 0 else None
        ),
        "notifications": notifier.recorded,
    }


# --- the toast on an open page --------------------------------------------------------------------


async def toasts(
    base: str, users: list[str], password: str, advisor_password: str, *, count: int
) -> tuple[list[float], int]:
    """Post ``count`` large charges one at a time, each timed until its toast shows.

    Returns the milliseconds of each, and how many never came within :data:`TOAST_WAIT_S`.
    """
    import websockets

    from services.settings import DEMO_ADVISOR

    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        bank = await sign_in(http, DEMO_ADVISOR, advisor_password)
        customers = []
        for username in users:
            token = await sign_in(http, username, password)
            me = await http.get("/api/me/profile", headers={"Authorization": f"Bearer {token}"})
            person = int(me.raise_for_status().json()["id"])
            accounts = await http.get(
                "/api/me/accounts", headers={"Authorization": f"Bearer {token}"}
            )
            checking = next(a for a in accounts.json() if a["type"] == "checking")
            customers.append((person, int(checking["id"]), token))
        sockets = []
        for _person, _account, token in customers:
            ws = await websockets.connect(
                base.replace("http://", "ws://") + f"/ws/chat?token={token}"
            )
            await opened(ws)
            sockets.append(ws)
        took: list[float] = []
        missing: list[int] = []
        try:
            for n in range(count):
                k = n % len(customers)
                person, account, _ = customers[k]
                event = {
                    "id": f"toast-{uuid.uuid4().hex}",
                    "type": "transaction",
                    "person_id": person,
                    "occurred_at": datetime.now(UTC).isoformat(),
                    "data": {
                        "account_id": account,
                        "amount_minor": -(THRESHOLD_MINOR + 1_000 + n),
                        "currency": "USD",
                        "category": "shopping",
                        "channel": "card",
                        "merchant": f"Toast Store {n}",
                    },
                }
                sent = time.perf_counter()
                posted = await http.post(
                    "/api/events",
                    json={"events": [event]},
                    headers={"Authorization": f"Bearer {bank}"},
                )
                posted.raise_for_status()
                try:
                    async with asyncio.timeout(TOAST_WAIT_S):
                        while True:
                            frame = json.loads(await sockets[k].recv())
                            if frame.get("name") == "notification" and f"Toast Store {n}" in str(
                                frame["value"].get("body", "")
                            ):
                                break
                except TimeoutError:
                    missing.append(n)
                    continue
                took.append((time.perf_counter() - sent) * 1000)
        finally:
            for ws in sockets:
                await ws.close()
    return took, len(missing)


# --- workers killed mid-send ----------------------------------------------------------------------


class Provider(BaseHTTPRequestHandler):
    """A push provider: records each request's key; a repeated key gets the first answer."""

    received: Counter[str] = Counter()
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802 - the standard library's name
        """Take one push."""
        length = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(length)
        key = self.headers.get("Idempotency-Key", "")
        with self.lock:
            self.received[key] += 1
        time.sleep(0.005)  # a provider takes a moment: workers die mid-send
        body = json.dumps({"id": f"push-{key}"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's signature
        """Quiet."""


class Mailbox:
    """An SMTP server's handler: counts each e-mail by its dedupe header."""

    def __init__(self) -> None:
        """No mail yet."""
        self.received: Counter[str] = Counter()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        """Take one e-mail."""
        from email import message_from_bytes

        message = message_from_bytes(envelope.content)
        self.received[str(message.get("X-Concierge-Dedupe", ""))] += 1
        return "250 OK"


def crash(var: Path, *, workers: int = 2, timeout_s: float = 300.0) -> dict[str, Any]:
    """Send the outbox with worker processes, killing one mid-send; what arrived how often."""
    from aiosmtpd.controller import Controller

    from services.db import make_engine

    engine = make_engine(bank_url(var))
    with engine.connect() as conn:
        due = {
            (str(k), str(ch))
            for k, ch in conn.execute(
                text(
                    "SELECT n.dedupe_key || ':' || d.channel || ':' || n.id, d.channel "
                    "FROM notification_delivery d JOIN notification n ON n.id = d.notification_id "
                    "WHERE d.state = 'pending'"
                )
            )
        }
    Provider.received = Counter()
    provider = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    threading.Thread(target=provider.serve_forever, daemon=True).start()
    mailbox = Mailbox()
    smtp_port = free_port()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    env = {
        **os.environ,
        "CONCIERGE_VAR_DIR": str(var),
        "CONCIERGE_DATABASE_URL": bank_url(var),
        "CONCIERGE_SMTP_HOST": "127.0.0.1",
        "CONCIERGE_SMTP_PORT": str(smtp_port),
        "CONCIERGE_PUSH_WEBHOOK_URL": f"http://127.0.0.1:{provider.server_port}/push",
        "CONCIERGE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "CONCIERGE_NOTIFY_LEASE_SECONDS": "3",
        "CONCIERGE_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-c", "from app.cli import main; main()", "notify", "work"]
    started: list[subprocess.Popen[bytes]] = []

    def start(name: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen([*command, "--batch", "20", "--name", name], env=env)
        started.append(process)
        return process

    killed = 0
    try:
        for k in range(workers):
            start(f"bench-worker-{k}")
        deadline = time.monotonic() + timeout_s
        if not due:
            raise RuntimeError("nothing was due to send: the throughput part recorded nothing")
        target = max(1, len(due) // 3)
        while _arrived(mailbox, Provider.received) < target and time.monotonic() < deadline:
            time.sleep(0.02)
        started[0].send_signal(signal.SIGKILL)  # mid-send: its claimed rows stay "sending"
        started[0].wait()
        killed += 1
        start("bench-worker-restarted")
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                left = conn.execute(
                    text(
                        "SELECT count(*) FROM notification_delivery "
                        "WHERE state IN ('pending', 'sending', 'failed')"
                    )
                ).scalar_one()
            if left == 0:
                break
            time.sleep(0.2)
        with engine.connect() as conn:
            states: dict[str, int] = dict(
                conn.execute(
                    text("SELECT state, count(*) FROM notification_delivery GROUP BY state")
                ).all()
            )
    finally:
        for process in started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
        smtp.stop()
        provider.shutdown()
        engine.dispose()
    pushes = {k for k, ch in due if ch == "push"}
    mails = {k for k, ch in due if ch == "email"}
    inbox = {k for k, ch in due if ch == "in_app"}
    arrived_push = {k for k, n in Provider.received.items() if n}
    arrived_mail = {k for k, n in mailbox.received.items() if n}
    with make_engine(bank_url(var)).connect() as conn:
        inbox_sent = {
            str(k)
            for (k,) in conn.execute(
                text(
                    "SELECT n.dedupe_key || ':in_app:' || n.id FROM notification_delivery d "
                    "JOIN notification n ON n.id = d.notification_id "
                    "WHERE d.channel = 'in_app' AND d.state = 'sent'"
                )
            )
        }
    return {
        "deliveries_due": len(due),
        "by_channel": {"in_app": len(inbox), "email": len(mails), "push": len(pushes)},
        "workers_killed": killed,
        "duplicates": _told_twice(mailbox.received, "email")
        + _told_twice(Provider.received, "push"),
        "resends_caught": sum(n - 1 for n in Provider.received.values() if n > 1)
        + sum(n - 1 for n in mailbox.received.values() if n > 1),
        "resent_emails": sum(n - 1 for n in mailbox.received.values() if n > 1),
        "lost": len(pushes - arrived_push) + len(mails - arrived_mail) + len(inbox - inbox_sent),
        "states_after": {str(k): int(v) for k, v in states.items()},
    }


def _told_twice(received: Counter[str], channel: str) -> int:
    """Notifications that reached the customer on ``channel`` under two different keys.

    A resend after a crash carries the same key (``<dedupe>:<channel>:<notification id>``; the
    e-mail's Message-ID is made from it), so a receiver recognises it: the push provider by its
    ``Idempotency-Key``, a mail store by the Message-ID. Two keys for one notification would
    reach the customer twice whatever the receiver does.
    """
    keys: dict[str, set[str]] = {}
    for key in received:
        note = key.rsplit(":", 1)[-1]
        if f":{channel}:" in key:
            keys.setdefault(note, set()).add(key)
    return sum(len(found) - 1 for found in keys.values())


def _arrived(mailbox: Mailbox, pushes: Counter[str]) -> int:
    return len(mailbox.received) + len(pushes)


# --- the whole run --------------------------------------------------------------------------------


def run(
    *,
    nlu_model: Path,
    customers: int = 200,
    events: int = 20_000,
    redis_url: str | None = None,
    toast_count: int = 40,
    seed: int = 7,
    phase: Phase | None = None,
) -> dict[str, Any]:
    """Seed a bank, run the three parts; the figures (see the module docstring)."""
    from services.db import make_engine
    from services.events.in_process import InProcessBus
    from services.settings import Settings

    tell = phase or (lambda _label, _total: lambda _n: None)
    with tempfile.TemporaryDirectory(prefix="concierge-bench-notify-") as tmp:
        var = Path(tmp)
        step = tell("seed the bank", None)
        users = build_bank(var, customers + TOAST_CUSTOMERS, nlu_model=nlu_model, seed=seed)
        step(1)
        engine = make_engine(bank_url(var))
        now = datetime.now(UTC)
        result: dict[str, Any] = {"customers": customers}
        spare = _people_of(engine, users[-TOAST_CUSTOMERS:])
        try:
            stream = synthetic_events(engine, events, seed=seed, now=now, spare=spare)
            bus = InProcessBus(maxlen=len(stream) + 1)
            result["in_process"] = throughput(
                engine, bus, stream, advance=tell("in-process: events decided", len(stream))
            )
            if redis_url:
                result["redis"] = _on_redis(engine, redis_url, seed, now, len(stream), spare, tell)
        finally:
            engine.dispose()
        settings = Settings(var_dir=var)
        port = free_port()
        env = {
            "CONCIERGE_NOTIFY_SWEEP_SECONDS": "3600",
            "CONCIERGE_NOTIFY_DISPATCH": "true",
            "CONCIERGE_WARM_START": "false",  # toasts need no language model
        }
        server = start_server(var, nlu_model=nlu_model, port=port, env=env)
        try:
            tell("toasts on open pages", None)(1)
            took, missing = run_client(
                toasts(
                    f"http://127.0.0.1:{port}",
                    users[-TOAST_CUSTOMERS:],
                    settings.demo_password,
                    settings.demo_advisor_password,
                    count=toast_count,
                )
            )
        finally:
            stop_server(server)
        result |= {
            "toasts": len(took),
            "toasts_missing": missing,
            "toast_ms_p50": round(percentile(took, 50), 1),
            "toast_ms_p99": round(percentile(took, 99), 1),
        }
        tell("workers killed mid-send", None)(1)
        result |= crash(var)
    return result


def _people_of(engine: Engine, usernames: list[str]) -> frozenset[int]:
    with engine.connect() as conn:
        return frozenset(
            int(pid)
            for (pid,) in conn.execute(
                text("SELECT person_id FROM credential WHERE username IN :names").bindparams(
                    bindparam("names", expanding=True)
                ),
                {"names": usernames},
            )
        )


def _on_redis(
    engine: Engine,
    url: str,
    seed: int,
    now: datetime,
    n: int,
    spare: frozenset[int],
    tell: Phase,
) -> dict[str, Any]:
    import redis

    from services.events.redis_streams import RedisStreamBus, connect

    client = connect(url)
    prefix = f"concierge:bench:notify:{uuid.uuid4().hex[:12]}"
    bus = RedisStreamBus(client, stream=f"{prefix}:events", maxlen=n + 1_000)
    try:
        client.ping()
        stream = synthetic_events(engine, n, seed=seed + 1, now=now, spare=spare)
        return throughput(engine, bus, stream, advance=tell("redis: events decided", n))
    except (redis.RedisError, RuntimeError) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    finally:
        try:
            bus.delete()
        except redis.RedisError:
            pass
        client.close()
