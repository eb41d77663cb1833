"""``concierge bench handoff``: customers handed to advisors live, across server processes.

Self-contained: a demo bank with N customers and K advisors is seeded (an SQLite file in a
temporary folder, or a schema of its own on a PostgreSQL server, dropped afterwards), and
``servers`` processes of the app are started on it, sharing one Redis for the live hub. With two
or more processes the customers connect to the first half and the advisors to the other, so
every line said crosses from one process to another.

Each customer signs in, opens the chat websocket, asks for a person and approves the hand-off,
then answers each advisor message as it arrives. Each advisor signs in, opens ``/ws/advisor``,
and works through the queue as "take next" does: claim the conversation at its head (several
advisors clicking at once: 409s are expected, and counted), watch it, send M messages, hear the
customer's M replies on the socket, and hand the conversation back. The advisor sends the M
messages at once, so the customer's replies cross the later ones in flight (``burst``, as people
type over each other), or one at a time, each after the reply to the one before (``turns``).
Every message is unique, so each one is followed end to end:

- ``lost``: messages sent that never reached the other side; ``duplicated``: deliveries of a
  line beyond its first; ``misrouted``: a line delivered to a customer whose conversation it is
  not.
- ``claims``: conversations claimed; ``claim_conflicts``: 409s; ``claim_conflicts_won_twice``:
  conversations two advisors were both told they won (must be 0).
- ``delivery_ms``: the advisor's POST sent to the customer's ``advisor_message`` frame;
  ``reply_ms``: the customer's frame sent to the advisor's ``LINE`` frame;
  ``claim_to_first_message_ms``: the advisor's claim sent to the customer reading the first
  message; ``wait_ms``: the customer told their place to the customer told who joined.
- ``stored_*`` and ``*_not_stored``: the lines the system of record holds afterwards, to tell
  a line never stored from one stored but not delivered (``lost_samples`` says which).

The live hub's Redis channels have fixed names, so two runs on one Redis hear each other's
announcements; that costs each a few reads of its own store and changes none of its figures.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, text

from bench.chat import (
    TURN_TIMEOUT_S,
    Schema,
    bank_url,
    free_port,
    opened,
    run_client,
    sign_in,
    start_server,
    stop_server,
)
from services.stats import percentile

Phase = Callable[[str, int | None], Callable[[int], None]]
ASKS = (
    "I want to talk to a person",
    "can I speak to a human please",
    "I'd like to talk to a person",
)
ADVISOR_PASSWORD = "bench-advisor-password"
REPLY_WAIT_S = 20.0  # an advisor's wait for the replies: several of the store's 5 s re-reads
LIVE = "/api/advisor/live"


@dataclass
class Tally:
    """What the customers and advisors saw, keyed by each message's unique text."""

    customers: int
    sent_to_customer: dict[str, float] = field(default_factory=dict)  # text -> POST sent
    heard_by_customer: dict[str, float] = field(default_factory=dict)  # text -> first read
    customer_reads: Counter[int] = field(default_factory=Counter)  # line id -> reads
    sent_to_advisor: dict[str, float] = field(default_factory=dict)  # text -> frame sent
    heard_by_advisor: dict[str, float] = field(default_factory=dict)
    advisor_reads: Counter[int] = field(default_factory=Counter)
    stored: set[str] = field(default_factory=set)  # what the system of record holds, after
    claims: dict[int, list[int]] = field(default_factory=dict)  # hand-off -> advisors told 200
    claim_sent: dict[int, float] = field(default_factory=dict)
    first_heard: dict[int, float] = field(default_factory=dict)  # hand-off -> first message read
    waits_ms: list[float] = field(default_factory=list)
    conflicts: int = 0
    reply_timeouts: int = 0  # an advisor gave up waiting for a conversation's replies
    misrouted: int = 0
    handed_back: int = 0
    never_queued: int = 0
    errors: list[str] = field(default_factory=list)

    def settled(self) -> bool:
        """Whether every customer was claimed or will never join the queue."""
        return len(self.claims) + self.never_queued >= self.customers


def _tag(text: str) -> int:
    """The hand-off a message's text names (``... [h<id>:...]``)."""
    return int(text.rsplit("[h", 1)[1].split(":", 1)[0])


async def _frame(ws: Any, deadline: float) -> dict[str, Any]:
    async with asyncio.timeout(max(0.1, deadline - time.perf_counter())):
        return dict(json.loads(await ws.recv()))


async def _until(
    ws: Any, deadline: float, done: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    while True:
        frame = await _frame(ws, deadline)
        if done(frame) or frame.get("type") == "RUN_ERROR":
            return frame


def _status(frame: dict[str, Any]) -> str | None:
    if frame.get("type") == "CUSTOM" and frame.get("name") == "handoff":
        return str((frame.get("value") or {}).get("status"))
    return None


async def customer(
    base: str,
    username: str,
    password: str,
    index: int,
    tally: Tally,
    start: asyncio.Event,
    ready: Callable[[], None],
    deadline: float,
) -> None:
    """One customer: ask for a person, approve, answer each advisor message, until handed back."""
    import websockets

    thread, queued = f"handoff-{index}", False
    try:
        async with httpx.AsyncClient(base_url=base, timeout=TURN_TIMEOUT_S) as http:
            token = await sign_in(http, username, password)
        url = base.replace("http://", "ws://") + f"/ws/chat?token={token}"
        async with websockets.connect(url, max_size=2**22) as ws:
            await opened(ws)
            ready()
            await start.wait()
            ask = {"type": "USER_MESSAGE", "threadId": thread, "text": ASKS[index % len(ASKS)]}
            await ws.send(json.dumps(ask))
            offered = await _until(
                ws, deadline, lambda f: f["type"] in ("CONFIRMATION_REQUIRED", "RUN_FINISHED")
            )
            if (
                offered["type"] != "CONFIRMATION_REQUIRED"
                or offered["calls"][0]["name"] != "handoff"
            ):
                raise RuntimeError(f"asking for a person ended in {offered['type']}")
            await ws.send(json.dumps({"type": "CONFIRM", "threadId": thread, "approve": True}))
            told = await _until(ws, deadline, lambda f: _status(f) is not None)
            if _status(told) != "waiting":
                raise RuntimeError(f"the hand-off said {_status(told) or told.get('code')}")
            queued, handoff = True, int(told["value"]["handoffId"])
            waiting_since, replies = time.perf_counter(), 0
            while True:
                frame = await _frame(ws, deadline)
                status, now = _status(frame), time.perf_counter()
                if status == "active":
                    tally.waits_ms.append((now - waiting_since) * 1000)
                elif status in ("returned", "closed"):
                    tally.handed_back += 1
                    return
                elif frame.get("name") == "advisor_message":
                    value = frame["value"]
                    tally.customer_reads[int(value["id"])] += 1
                    if _tag(value["text"]) != handoff:
                        tally.misrouted += 1
                    tally.heard_by_customer.setdefault(value["text"], now)
                    tally.first_heard.setdefault(handoff, now)
                    replies += 1
                    said = f"Customer {index}, reply {replies} [h{handoff}:{uuid.uuid4().hex[:8]}]"
                    tally.sent_to_advisor[said] = time.perf_counter()
                    await ws.send(
                        json.dumps({"type": "USER_MESSAGE", "threadId": thread, "text": said})
                    )
                elif frame.get("type") == "RUN_ERROR":
                    tally.errors.append(f"customer: {frame.get('code')}: {frame.get('message')}")
    except Exception as exc:  # noqa: BLE001 - a failed customer is an error of the run, reported
        tally.errors.append(f"customer: {type(exc).__name__}: {exc}")
    finally:
        ready()  # one that failed before connecting must not hold the others back
        if not queued:
            tally.never_queued += 1


class Advisor:
    """One advisor's console: REST for actions, ``/ws/advisor`` for the queue and the lines."""

    def __init__(
        self, base: str, index: int, tally: Tally, messages: int, deadline: float, turns: bool
    ):
        """Not signed in yet; :meth:`work` signs in and works until the queue is done.

        ``turns``: wait for each reply before the next message; else send all ``messages`` at
        once, so replies cross them in flight.
        """
        self.base, self.index, self.tally = base, index, tally
        self.messages, self.deadline, self.turns = messages, deadline, turns
        self.queue_changed = asyncio.Event()
        self.replies: dict[int, set[int]] = {}  # hand-off -> ids of the customer's lines heard
        self.heard = asyncio.Event()

    async def _read(self, ws: Any) -> None:
        async for raw in ws:
            frame = json.loads(raw)
            if frame["type"] == "QUEUE":
                self.queue_changed.set()
            elif frame["type"] == "LINE" and frame["line"]["author"] == "customer":
                line, now = frame["line"], time.perf_counter()
                self.tally.advisor_reads[int(line["id"])] += 1
                self.tally.heard_by_advisor.setdefault(line["text"], now)
                self.replies.setdefault(int(frame["handoffId"]), set()).add(int(line["id"]))
                self.heard.set()
            elif frame["type"] == "ERROR":
                self.tally.errors.append(f"advisor socket: {frame.get('code')}")

    async def work(self, username: str, ready: Callable[[], None], start: asyncio.Event) -> None:
        """Sign in, then claim, talk and hand back until every customer was seen to."""
        import websockets

        try:
            async with httpx.AsyncClient(base_url=self.base, timeout=TURN_TIMEOUT_S) as http:
                token = await sign_in(http, username, ADVISOR_PASSWORD)
                http.headers["Authorization"] = f"Bearer {token}"
                url = self.base.replace("http://", "ws://") + f"/ws/advisor?token={token}"
                async with websockets.connect(url, max_size=2**22) as ws:
                    reader = asyncio.create_task(self._read(ws))
                    ready()
                    await start.wait()
                    try:
                        await self._take_next(http, ws)
                    finally:
                        reader.cancel()
        except Exception as exc:  # noqa: BLE001 - reported with the figures
            self.tally.errors.append(f"advisor: {type(exc).__name__}: {exc}")
        finally:
            ready()

    async def _take_next(self, http: httpx.AsyncClient, ws: Any) -> None:
        while time.perf_counter() < self.deadline:
            waiting = (await http.get(f"{LIVE}/queue")).raise_for_status().json()
            if not waiting:
                if self.tally.settled():
                    return
                self.queue_changed.clear()
                try:
                    async with asyncio.timeout(0.5):  # or a QUEUE frame, whichever comes first
                        await self.queue_changed.wait()
                except TimeoutError:
                    pass
                continue
            handoff, sent = int(waiting[0]["id"]), time.perf_counter()
            claimed = await http.post(f"{LIVE}/{handoff}/claim")
            if claimed.status_code == 409:
                self.tally.conflicts += 1
                continue
            claimed.raise_for_status()
            self.tally.claims.setdefault(handoff, []).append(self.index)
            self.tally.claim_sent.setdefault(handoff, sent)
            await self._converse(http, ws, handoff)

    async def _converse(self, http: httpx.AsyncClient, ws: Any, handoff: int) -> None:
        await ws.send(json.dumps({"type": "WATCH", "handoffId": handoff, "after": 0}))
        for n in range(1, self.messages + 1):
            said = f"Advisor {self.index}, message {n} [h{handoff}:{uuid.uuid4().hex[:8]}]"
            self.tally.sent_to_customer[said] = time.perf_counter()
            posted = await http.post(f"{LIVE}/{handoff}/messages", json={"text": said})
            if posted.status_code != 200:
                del self.tally.sent_to_customer[said]
                self.tally.errors.append(
                    f"advisor message: {posted.status_code} {posted.text[:80]}"
                )
            if self.turns:
                await self._replies(handoff, n)
        await self._replies(handoff, self.messages)
        back = await http.post(f"{LIVE}/{handoff}/return")
        if back.status_code != 200:
            self.tally.errors.append(f"hand back: {back.status_code} {back.text[:80]}")

    async def _replies(self, handoff: int, count: int) -> None:
        """Wait for the customer's ``count`` replies, or :data:`REPLY_WAIT_S`."""
        until = min(self.deadline, time.perf_counter() + REPLY_WAIT_S)
        while len(self.replies.get(handoff, ())) < count:
            self.heard.clear()
            try:
                async with asyncio.timeout(max(0.0, until - time.perf_counter())):
                    await self.heard.wait()
            except TimeoutError:
                self.tally.reply_timeouts += 1
                return


async def drive(
    customer_bases: list[str],
    advisor_bases: list[str],
    users: list[str],
    desks: list[str],
    password: str,
    *,
    messages: int,
    turns: bool = False,
    timeout_s: float,
    advance: Callable[[int], None],
) -> tuple[Tally, float]:
    """Connect every customer and advisor, then run the hand-offs at once; the tally, seconds."""
    tally, start = Tally(customers=len(users)), asyncio.Event()
    deadline = time.perf_counter() + timeout_s
    left = [len(users) + len(desks)]
    counted: set[int] = set()

    def ready_for(key: int) -> Callable[[], None]:
        def ready() -> None:
            if key not in counted:
                counted.add(key)
                left[0] -= 1
                if left[0] == 0:
                    start.set()

        return ready

    async def one(i: int, user: str) -> None:
        base = customer_bases[i % len(customer_bases)]
        await customer(base, user, password, i, tally, start, ready_for(i), deadline)
        advance(1)

    tasks = [asyncio.create_task(one(i, u)) for i, u in enumerate(users)]
    for k, desk in enumerate(desks):
        base = advisor_bases[k % len(advisor_bases)]
        advisor = Advisor(base, k, tally, messages, deadline, turns)
        tasks.append(asyncio.create_task(advisor.work(desk, ready_for(-1 - k), start)))
    await start.wait()
    began = time.perf_counter()
    await asyncio.gather(*tasks)
    return tally, time.perf_counter() - began


def _sample(tally: Tally, said: str) -> str:
    holders = tally.claims.get(_tag(said), [])
    where = f"advisor {holders[0]}" if holders else "never claimed"
    return f"{said} ({'stored' if said in tally.stored else 'not stored'}; {where})"


def figures(tally: Tally) -> dict[str, Any]:
    """The run's figures from what both sides saw (and :attr:`Tally.stored`)."""
    to_customer, to_advisor = tally.sent_to_customer, tally.sent_to_advisor
    lost = [t for t in to_customer if t not in tally.heard_by_customer]
    lost += [t for t in to_advisor if t not in tally.heard_by_advisor]
    dup_c = sum(n - 1 for n in tally.customer_reads.values())
    dup_a = sum(n - 1 for n in tally.advisor_reads.values())
    delivery = [
        tally.heard_by_customer[t] - s
        for t, s in to_customer.items()
        if t in tally.heard_by_customer
    ]
    reply = [
        tally.heard_by_advisor[t] - s for t, s in to_advisor.items() if t in tally.heard_by_advisor
    ]
    first = [
        tally.first_heard[h] - s for h, s in tally.claim_sent.items() if h in tally.first_heard
    ]

    def ms(values: list[float], q: float, scale: float = 1000) -> float:
        return round(percentile([v * scale for v in values], q), 1)

    return {
        "messages": len(to_customer) + len(to_advisor),
        "advisor_messages": len(to_customer),
        "customer_messages": len(to_advisor),
        "advisor_messages_not_stored": len(set(to_customer) - tally.stored),
        "customer_messages_not_stored": len(set(to_advisor) - tally.stored),
        "lost": len(lost),
        "lost_to_customers": sum(1 for t in lost if t in to_customer),
        "lost_to_advisors": sum(1 for t in lost if t in to_advisor),
        "lost_samples": [_sample(tally, t) for t in lost[:5]],
        "reply_waits_timed_out": tally.reply_timeouts,
        "duplicated": dup_c + dup_a,
        "misrouted": tally.misrouted,
        "claims": len(tally.claims),
        "claim_conflicts": tally.conflicts,
        "claim_conflicts_won_twice": sum(1 for won in tally.claims.values() if len(won) > 1),
        "handed_back": tally.handed_back,
        "delivery_ms_p50": ms(delivery, 50),
        "delivery_ms_p95": ms(delivery, 95),
        "delivery_ms_max": ms(delivery, 100),
        "reply_ms_p50": ms(reply, 50),
        "reply_ms_p95": ms(reply, 95),
        "claim_to_first_message_ms_p50": ms(first, 50),
        "claim_to_first_message_ms_p95": ms(first, 95),
        "wait_ms_p50": ms(tally.waits_ms, 50, 1),
        "wait_ms_p95": ms(tally.waits_ms, 95, 1),
        "errors": len(tally.errors),
        "error_samples": sorted(set(tally.errors))[:5],
    }


# --- the bank and the servers ---------------------------------------------------------------


def build_bank(
    url: str, var: Path, customers: int, advisors: int, *, nlu_model: Path, seed: int
) -> tuple[list[str], list[str]]:
    """Seed ``customers`` and ``advisors`` at ``url``; their usernames (customers in id order)."""
    from sqlmodel import SQLModel

    from bench.chat import seed_users
    from services.credentials import hash_password
    from services.db import make_engine

    users = seed_users(var, customers, nlu_model=nlu_model, seed=seed, database_url=url)
    desks = [f"desk{k}@concierge.example" for k in range(advisors)]
    hashed = hash_password(ADVISOR_PASSWORD)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(SQLModel.metadata.tables["advisor"]),
                [
                    {"username": d, "display_name": f"Desk {k}", "password_hash": hashed}
                    for k, d in enumerate(desks)
                ],
            )
    finally:
        engine.dispose()
    return users, desks


def stored(url: str, tally: Tally) -> dict[str, int]:
    """Read the lines the system of record holds into ``tally``; how many each side wrote."""
    from services.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT author, text FROM live_message WHERE kind = 'text'")
            ).all()
    finally:
        engine.dispose()
    tally.stored = {str(said) for _, said in rows}
    authors = Counter(str(author) for author, _ in rows)
    return {
        "stored_advisor_messages": authors["advisor"],
        "stored_customer_messages": authors["customer"],
    }


async def _warm(base: str, username: str, password: str) -> None:
    # The first chat on a process builds its assistant (the intent model, the knowledge index):
    # paid for before the clock starts, as a server does once after it starts.
    import websockets

    async with httpx.AsyncClient(base_url=base, timeout=TURN_TIMEOUT_S) as http:
        token = await sign_in(http, username, password)
    url = base.replace("http://", "ws://") + f"/ws/chat?token={token}"
    async with websockets.connect(url, max_size=2**22) as ws:
        await opened(ws)
        await ws.send(json.dumps({"type": "USER_MESSAGE", "threadId": "warm", "text": "hi"}))
        await _until(
            ws, time.perf_counter() + TURN_TIMEOUT_S, lambda f: f["type"] == "RUN_FINISHED"
        )


def run(
    customers: int,
    advisors: int,
    *,
    nlu_model: Path,
    servers: int = 2,
    messages: int = 3,
    redis_url: str | None,
    database_url: str | None = None,
    seed: int = 7,
    turns: bool = False,
    timeout_s: float = 300.0,
    phase: Phase | None = None,
) -> dict[str, Any]:
    """Seed a bank, start ``servers`` processes on it, run the hand-offs; the figures.

    ``redis_url`` is the live hub the processes share (None: the in-process hub, one process
    only); ``database_url`` a PostgreSQL server to build the bank on in a schema of its own
    (None: an SQLite file in a temporary folder). ``turns``: each advisor waits for the reply
    to one message before sending the next, instead of sending all ``messages`` at once.
    """
    from services.settings import Settings

    if redis_url is None and servers > 1:
        raise ValueError("more than one server process needs Redis for the live hub")
    tell = phase or (lambda _label, _total: lambda _n: None)
    schema = Schema(database_url, prefix="bench_handoff") if database_url else None
    running: list[Any] = []
    try:
        with tempfile.TemporaryDirectory(prefix="concierge-bench-handoff-") as tmp:
            var = Path(tmp)
            url = schema.url if schema else bank_url(var)
            password = Settings(var_dir=var).demo_password
            step = tell("seed the bank", None)
            users, desks = build_bank(
                url, var, customers + 1, advisors, nlu_model=nlu_model, seed=seed
            )
            step(1)
            env = {
                "CONCIERGE_DATABASE_URL": url,
                "CONCIERGE_REDIS_URL": redis_url or "",
                "CONCIERGE_ADVISOR_HOURS": "always",
                "CONCIERGE_SECRET_KEY": secrets.token_urlsafe(32),  # one key for every process
            }
            step = tell(f"start {servers} server processes", servers)
            ports = [free_port() for _ in range(servers)]

            def serve(port: int) -> None:
                running.append(start_server(var, nlu_model=nlu_model, port=port, env=env))
                step(1)

            with ThreadPoolExecutor(servers) as pool:
                list(pool.map(serve, ports))
            bases = [f"http://127.0.0.1:{p}" for p in ports]
            customer_bases = bases[: max(1, servers // 2)]
            advisor_bases = bases[servers // 2 :] or bases
            tell("warm up the assistant", None)(1)
            for base in customer_bases:
                run_client(_warm(base, users[-1], password))
            advance = tell("hand-offs", customers)
            tally, seconds = run_client(
                drive(
                    customer_bases,
                    advisor_bases,
                    users[:customers],
                    desks,
                    password,
                    messages=messages,
                    turns=turns,
                    timeout_s=timeout_s,
                    advance=advance,
                )
            )
            for server in running:
                stop_server(server)
            counted = stored(url, tally)
            result = {**figures(tally), **counted}
    finally:
        for server in running:
            if server.poll() is None:
                stop_server(server)
        if schema is not None:
            schema.drop()
    return {
        **result,
        "customers": customers,
        "advisors": advisors,
        "servers": servers,
        "messages_per_conversation": messages,
        "pace": "turns" if turns else "burst",
        "database": "postgresql" if database_url else "sqlite",
        "hub": "redis" if redis_url else "in-process",
        "seconds": round(seconds, 2),
    }
