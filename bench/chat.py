"""``concierge bench chat``: many customers chatting at once over the real websocket.

Self-contained: a demo bank is seeded into a temporary folder, the app is started as its own
process on a free loopback port (so the clients' work does not share the server's interpreter),
and N sessions each sign in with their own demo credentials and run a scripted conversation
with the offline model: a greeting, a balance question, transactions, spending, a transfer
that is approved, bills and thanks. Every turn is timed from the frame sent to the run's last
frame (``RUN_FINISHED`` or ``CONFIRMATION_REQUIRED``); a ``RUN_ERROR``, a timeout or a broken
connection counts as an error. All customers sign in and connect before the conversations
start, so the throughput is the chat's; signing in is measured on its own.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import httpx
from sqlalchemy import make_url, text

from services.stats import percentile

T = TypeVar("T")

SCRIPT: tuple[str, ...] = (
    "hi",
    "what's my balance?",
    "show my recent transactions",
    "how much did I spend on groceries last month",
    "move 5 dollars from checking to savings",
    "any bills coming up?",
    "thanks",
)
# Each session says each step in its own words (and moves its own amount), so the benchmark
# does not just replay one remembered classification per step.
PHRASINGS: tuple[tuple[str, ...], ...] = (
    ("hi", "hello there", "good morning", "hey"),
    ("what's my balance?", "how much money do I have", "show me my balances", "balance please"),
    ("show my recent transactions", "what did I buy lately", "list my last payments"),
    (
        "how much did I spend on groceries last month",
        "what did I spend on dining this month",
        "spending on shopping in the last 30 days",
    ),
    ("move {n} dollars from checking to savings", "transfer ${n} from checking to savings"),
    ("any bills coming up?", "what bills are due soon", "upcoming payments?"),
    ("thanks", "thank you", "great, thanks", "cheers"),
)


def script_for(index: int) -> list[str]:
    """Session ``index``'s words for each step of :data:`SCRIPT`."""
    out = []
    for step, ways in enumerate(PHRASINGS):
        out.append(ways[(index + step) % len(ways)].format(n=2 + index % 23))
    return out


TURN_TIMEOUT_S = 60.0
TERMINAL = {"RUN_FINISHED", "CONFIRMATION_REQUIRED", "RUN_ERROR"}


@dataclass
class Tally:
    """What the sessions measured."""

    latencies_ms: list[float] = field(default_factory=list)
    by_step: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    confirmations: int = 0


def run_client(job: Coroutine[Any, Any, T]) -> T:
    """Run the benchmark's client on uvloop when it is installed (as the server does).

    The client shares the machine with the server it measures: the lighter its event loop,
    the less it takes from the server.
    """
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        return asyncio.run(job)
    return uvloop.run(job)


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _turn(
    ws: Any, frame: dict[str, Any], tally: Tally, step: str = ""
) -> dict[str, Any] | None:
    started = time.perf_counter()
    # one deadline for the whole turn: a timer and a task per frame (wait_for) cost the
    # client, which shares the machine with the server, a good share of its CPU
    async with asyncio.timeout(TURN_TIMEOUT_S):
        await ws.send(json.dumps(frame))
        while True:
            reply = json.loads(await ws.recv())
            if reply.get("type") in TERMINAL:
                break
    if reply["type"] == "RUN_ERROR":
        tally.errors.append(f"{reply.get('code')}: {reply.get('message')}")
        return None
    took = (time.perf_counter() - started) * 1000
    tally.latencies_ms.append(took)
    tally.by_step.setdefault(step, []).append(took)
    return dict(reply)


async def opened(ws: Any) -> dict[str, Any]:
    """Wait for the chat's opening ``STATE_SNAPSHOT`` (the customer's context is read)."""
    first = json.loads(await asyncio.wait_for(ws.recv(), TURN_TIMEOUT_S))
    if first.get("type") != "STATE_SNAPSHOT":
        raise RuntimeError(f"expected STATE_SNAPSHOT first, got {first.get('type')}")
    return dict(first["snapshot"])


async def sign_in(http: httpx.AsyncClient, username: str, password: str) -> str:
    """A session token for the demo customer ``username``."""
    signed = await http.post("/api/auth/token", json={"username": username, "password": password})
    signed.raise_for_status()
    return str(signed.json()["access_token"])


async def session(
    base: str,
    username: str,
    password: str,
    index: int,
    tally: Tally,
    think_s: float = 0.0,
    start: asyncio.Event | None = None,
    ready: Callable[[float], None] = lambda ms: None,
) -> int:
    """One customer's scripted conversation; the number of turns completed.

    The customer signs in, opens the websocket and waits for the server's ``STATE_SNAPSHOT``
    (the chat is open: their context is read), reports ``ready`` (milliseconds spent signing
    in and connecting), then waits for ``start`` (when given) so that every session's
    conversation runs at once. ``think_s`` is the customer's pause before each message
    (jittered 50-150%, as people read and type).
    """
    import random

    import websockets

    rng = random.Random(index)
    done = 0
    try:
        began = time.perf_counter()
        async with httpx.AsyncClient(base_url=base, timeout=TURN_TIMEOUT_S) as http:
            token = await sign_in(http, username, password)
        url = base.replace("http://", "ws://") + f"/ws/chat?token={token}"
        thread = f"bench-{index}"
        async with websockets.connect(url, max_size=2**22) as ws:
            await opened(ws)
            ready((time.perf_counter() - began) * 1000)
            if start is not None:
                await start.wait()
            for step, text in zip(SCRIPT, script_for(index), strict=True):
                await asyncio.sleep(think_s * rng.uniform(0.5, 1.5))
                reply = await _turn(
                    ws, {"type": "USER_MESSAGE", "threadId": thread, "text": text}, tally, step
                )
                if reply is None:
                    return done
                done += 1
                if reply["type"] == "CONFIRMATION_REQUIRED":
                    tally.confirmations += 1
                    answer = {"type": "CONFIRM", "threadId": thread, "approve": True}
                    if await _turn(ws, answer, tally, "(approve)") is None:
                        return done
                    done += 1
    except (OSError, TimeoutError, httpx.HTTPError) as exc:
        tally.errors.append(f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # noqa: BLE001 - a closed socket is an error of the run, reported
        tally.errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        ready(-1.0)  # a session that failed before connecting must not hold the others back
    return done


async def drive(
    base: str,
    users: list[str],
    password: str,
    advance: Callable[[int], None] = lambda n: None,
    think_s: float = 0.0,
    server_cpu: Callable[[], float] | None = None,
) -> dict[str, Any]:
    """Run one scripted session per username concurrently; the figures.

    Every customer first signs in (a deliberately slow scrypt check) and connects; the
    conversations start together once all are connected, and ``turns_per_s`` counts from
    then. Signing in is reported on its own (``sign_in_ms_p50``, ``connect_seconds``).
    ``server_cpu`` reads the server's CPU seconds so far; with it, the CPU the server and
    this client spent per turn while the conversations ran is reported too.
    """
    tally = Tally()
    start = asyncio.Event()
    connect_ms: list[float] = []
    settled: set[int] = set()
    began = time.perf_counter()

    def ready_for(i: int) -> Callable[[float], None]:
        def ready(ms: float) -> None:
            if i in settled:
                return
            settled.add(i)
            if ms >= 0:
                connect_ms.append(ms)
            if len(settled) == len(users):
                start.set()

        return ready

    async def one(i: int, user: str) -> int:
        turns = await session(base, user, password, i, tally, think_s, start, ready_for(i))
        advance(1)
        return turns

    tasks = [asyncio.create_task(one(i, u)) for i, u in enumerate(users)]
    await start.wait()
    started = time.perf_counter()
    cpu_before = (time.process_time(), server_cpu() if server_cpu else 0.0)
    connect_s = started - began
    turns = await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    client_s = time.process_time() - cpu_before[0]
    server_s = server_cpu() - cpu_before[1] if server_cpu else None
    total = sum(turns)
    lat = tally.latencies_ms
    cpu: dict[str, float] = {"client_cpu_ms_per_turn": _per_turn(client_s, total)}
    if server_s is not None:
        cpu["server_cpu_ms_per_turn"] = _per_turn(server_s, total)
        cpu["cores_busy"] = round((server_s + client_s) / elapsed, 2) if elapsed else 0.0
    return {
        "sessions": len(users),
        "turns": total,
        "errors": len(tally.errors),
        "confirmations": tally.confirmations,
        "seconds": round(elapsed, 2),
        "turns_per_s": round(total / elapsed, 1) if elapsed else 0.0,
        "latency_ms_p50": round(percentile(lat, 50), 1),
        "latency_ms_p95": round(percentile(lat, 95), 1),
        "latency_ms_p99": round(percentile(lat, 99), 1),
        "latency_ms_mean": round(statistics.fmean(lat), 1) if lat else 0.0,
        "think_ms": round(think_s * 1000),
        "connect_seconds": round(connect_s, 2),
        "sign_in_ms_p50": round(percentile(connect_ms, 50), 1),
        "latency_ms_p95_by_step": {
            step: round(percentile(took, 95), 1) for step, took in tally.by_step.items()
        },
        **cpu,
        "error_samples": sorted(set(tally.errors))[:5],
    }


def _per_turn(seconds: float, turns: int) -> float:
    return round(seconds * 1000 / turns, 2) if turns else 0.0


# Consecutive 200s from ``/ready``, each on a new connection: the server's workers share the
# port, and every one of them must have finished its warm start.
READY_ANSWERS = 20


def _wait_ready(base: str, process: subprocess.Popen[bytes], seconds: float = 600) -> None:
    """Wait until ``/ready`` says every worker is warm.

    The warm start loads the models and builds the knowledge index in the background; a run
    measured before it finishes counts that work as the turns' CPU and latency.
    """
    deadline = time.monotonic() + seconds
    ready = 0
    while time.monotonic() < deadline and ready < READY_ANSWERS:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode}")
        try:
            ready = ready + 1 if httpx.get(base + "/ready", timeout=1).status_code == 200 else 0
        except httpx.HTTPError:
            ready = 0
        time.sleep(0.05 if ready else 0.2)
    if ready < READY_ANSWERS:
        raise RuntimeError(f"the server was not ready (/ready) within {seconds:.0f} s")


def _warm(base: str, username: str, password: str) -> None:
    # The first chat builds the assistant (loads the intent model and the knowledge index):
    # pay for it before the clock starts, as a server does once after it starts.
    asyncio.run(session(base, username, password, -1, Tally()))


def seed_users(
    var: Path, customers: int, *, nlu_model: Path, seed: int = 7, database_url: str | None = None
) -> list[str]:
    """Seed a demo bank of ``customers``; their usernames, in id order.

    The bank is ``var/bank.db``, or the database at ``database_url``. Every demo customer's
    password is the settings' ``demo_password``.
    """
    from app.bootstrap import open_engine
    from services.settings import Settings
    from services.synth.writer import seed_bank

    url = database_url or bank_url(var)
    settings = Settings(var_dir=var, database_url=url, nlu_model=nlu_model)
    engine = open_engine(settings)
    try:
        seed_bank(
            engine,
            customers=customers,
            seed=seed,
            as_of=date.today(),
            password=settings.demo_password,
        )
        with engine.connect() as conn:
            return [
                str(r[0])
                for r in conn.exec_driver_sql(
                    "SELECT c.username FROM credential c ORDER BY c.person_id"
                )
            ]
    finally:
        engine.dispose()


def bank_url(var: Path) -> str:
    """The SQLite URL of the bank a benchmark seeds under ``var``."""
    return f"sqlite:///{(var / 'bank.db').as_posix()}"


def postgres_url(url: str) -> str:
    """``url`` on the psycopg driver (a bare ``postgresql://`` means psycopg2 to SQLAlchemy)."""
    found = make_url(url)
    if found.get_backend_name() != "postgresql":
        raise ValueError(f"{url!r} is not a PostgreSQL URL")
    return found.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


class Schema:
    """A schema of its own on a PostgreSQL server, dropped when the run is over."""

    def __init__(self, server_url: str, *, prefix: str = "bench") -> None:
        """Create the schema (named ``prefix`` and a random part); :attr:`url` reaches it."""
        from services.db import make_engine

        self.name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        self.admin = make_engine(postgres_url(server_url))
        with self.admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{self.name}"'))
        self.url = (
            make_url(postgres_url(server_url))
            .update_query_dict({"options": f"-csearch_path={self.name}"})
            .render_as_string(hide_password=False)
        )

    def drop(self) -> None:
        """Drop the schema and everything in it."""
        with self.admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{self.name}" CASCADE'))
        self.admin.dispose()


def start_server(
    var: Path,
    *,
    nlu_model: Path,
    port: int,
    workers: int = 1,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """``concierge serve`` in a child process on the bank under ``var``; ready to serve.

    ``env`` adds or overrides environment variables of the child.
    """
    child_env = {
        **os.environ,
        "CONCIERGE_VAR_DIR": str(var),
        "CONCIERGE_DATABASE_URL": bank_url(var),
        "CONCIERGE_NLU_MODEL": str(nlu_model),
        "CONCIERGE_LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    # `concierge serve` itself: the same settings (CONCIERGE_WS_COMPRESSION, ...) and the same
    # workers, each listening on the port with its share of the CPUs (app.serving)
    command = [sys.executable, "-c", "from app.cli import main; main()", "serve"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    server = subprocess.Popen(command, env=child_env)
    try:
        _wait_ready(f"http://127.0.0.1:{port}", server)
    except BaseException:
        stop_server(server)
        raise
    return server


def stop_server(server: subprocess.Popen[bytes]) -> None:
    """Stop a server started by :func:`start_server` (terminate, then kill after 20 s)."""
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def run(
    sessions: int,
    *,
    nlu_model: Path,
    workdir: Path | None = None,
    seed: int = 7,
    workers: int = 1,
    think_ms: int = 0,
    database_url: str | None = None,
    redis_url: str | None = None,
    phase: Callable[[str, int | None], Callable[[int], None]] | None = None,
) -> dict[str, Any]:
    """Seed a bank, serve it in a child process, drive ``sessions`` concurrent chats.

    ``workers`` server processes share the bank and the checkpoints; each connection stays
    with the process that accepted it. The bank is an SQLite file under the work folder, or,
    with ``database_url`` (the scale path), a schema of its own on that PostgreSQL server,
    dropped afterwards; ``redis_url`` is the Redis the processes share (the live hub).
    """
    from bench.proc import cpu_seconds
    from services.settings import Settings

    tell = phase or (lambda _label, _total: lambda _n: None)
    schema = Schema(database_url, prefix="bench_chat") if database_url else None
    try:
        with tempfile.TemporaryDirectory(prefix="concierge-bench-chat-") as tmp:
            var = workdir or Path(tmp)
            url = schema.url if schema else bank_url(var)
            password = Settings(var_dir=var).demo_password
            step = tell("seed the bank", None)
            users = seed_users(var, sessions + 1, nlu_model=nlu_model, seed=seed, database_url=url)
            step(1)
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            env = {
                "CONCIERGE_DATABASE_URL": url,
                "CONCIERGE_REDIS_URL": redis_url or "",
                "CONCIERGE_SECRET_KEY": secrets.token_urlsafe(32),  # one key for every worker
            }
            server = start_server(var, nlu_model=nlu_model, port=port, workers=workers, env=env)
            try:
                tell("warm up the assistant", None)(1)
                for _ in range(workers * 2):  # each process builds its assistant once
                    _warm(base, users[-1], password)
                advance = tell("chat sessions", sessions)
                result = run_client(
                    drive(
                        base,
                        users[:sessions],
                        password,
                        advance,
                        think_s=think_ms / 1000,
                        server_cpu=lambda: cpu_seconds(server.pid),
                    )
                )
            finally:
                stop_server(server)
    finally:
        if schema is not None:
            schema.drop()
    return {
        **result,
        "workers": workers,
        "database": "postgresql" if database_url else "sqlite",
        "hub": "redis" if redis_url else "in-process",
    }
