"""``concierge bench soak``: N websocket conversations held open for S seconds.

The chat benchmark (``bench/chat.py``) measures one burst; a soak measures staying power.
A demo bank is seeded into a temporary folder and served by a child process (the same helpers
as ``bench chat``); N sessions then each sign in and loop through scripted conversations —
questions, a transfer approved, a transfer declined — pausing a human-like think time between
frames, each conversation on a thread of its own, and now and then hanging up and reconnecting
between conversations. When the time is up each session finishes the turn in hand.

Every turn is timed from the frame sent to the run's last frame; a ``RUN_ERROR``, a timeout or a
broken connection counts as an error. The server's resident memory (``VmRSS`` from
``/proc/<pid>/status``, summed over its worker processes) is read once the warm-up is over
(``warmup_s``, and every session has opened its chat once, so every server process has loaded
its models) and again at the end (``rss_growth_pct``), and about twenty times in between
(``server_rss_mb_samples``, seconds since the start and MB). Caches fill while the customers
first come by, so growth over the first minutes is expected; ``rss_growth_pct_second_half``
(from the reading nearest the middle of the run to the end) tells a leak, which keeps growing,
from caches that have filled.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench.chat import (
    TURN_TIMEOUT_S,
    Tally,
    _turn,
    _warm,
    free_port,
    opened,
    run_client,
    seed_users,
    start_server,
    stop_server,
)
from bench.proc import server_rss_mb
from services.stats import percentile

# (text, what to answer if it asks for confirmation): None approves nothing, as no write asked
Step = tuple[str, bool | None]
CONVERSATIONS: tuple[tuple[Step, ...], ...] = (
    (("hi", None), ("what's my balance?", None), ("show my recent transactions", None)),
    (("move 5 dollars from checking to savings", True), ("thanks", None)),
    (("how much did I spend on groceries last month", None), ("any bills coming up?", None)),
    (("move 5 dollars from savings to checking", False), ("what's my balance?", None)),
)
RESULT_KEYS = (
    "sessions",
    "seconds",
    "turns",
    "errors",
    "latency_ms_p50",
    "latency_ms_p95",
    "latency_ms_p99",
    "server_rss_mb_start",
    "server_rss_mb_end",
    "rss_growth_pct",
    "rss_growth_pct_second_half",
    "server_rss_mb_samples",
)
SAMPLES = 20


class Soak:
    """The shared clock and tallies of one soak run."""

    def __init__(
        self, base: str, password: str, seconds: float, think_s: float, seed: int, sessions: int
    ):
        self.base, self.password = base, password
        self.seconds = seconds
        self.deadline = float("inf")  # the clock starts once every session is open (start)
        self.think_s = think_s
        self.tally = Tally()
        self.turns = 0
        self.conversations = 0
        self.reconnects = 0
        self.seed = seed
        self.opened: set[int] = set()  # sessions whose chat has opened at least once
        self.all_open = asyncio.Event()
        self.sessions = sessions

    def start(self) -> None:
        """Start the run's clock: sessions go on for ``seconds`` from now."""
        self.deadline = time.monotonic() + self.seconds

    def over(self) -> bool:
        """Whether the time is up (no new turn starts then)."""
        return time.monotonic() >= self.deadline

    async def think(self, rng: random.Random) -> None:
        """A customer reading the answer: ``think_s`` give or take 40%."""
        await asyncio.sleep(self.think_s * rng.uniform(0.6, 1.4))

    async def token(self, username: str) -> str:
        """Sign in as a demo customer."""
        async with httpx.AsyncClient(base_url=self.base, timeout=TURN_TIMEOUT_S) as http:
            signed = await http.post(
                "/api/auth/token", json={"username": username, "password": self.password}
            )
            signed.raise_for_status()
            return str(signed.json()["access_token"])

    async def conversation(
        self, ws: Any, thread: str, steps: tuple[Step, ...], rng: random.Random
    ) -> bool:
        """One scripted conversation; False when a turn failed (the connection is dropped)."""
        self.conversations += 1
        for text, approve in steps:
            if self.over():
                return True
            frame = {"type": "USER_MESSAGE", "threadId": thread, "text": text}
            reply = await _turn(ws, frame, self.tally)
            if reply is None:
                return False
            self.turns += 1
            await self.think(rng)
            if reply["type"] == "CONFIRMATION_REQUIRED":
                self.tally.confirmations += 1
                answer = {"type": "CONFIRM", "threadId": thread, "approve": bool(approve)}
                if await _turn(ws, answer, self.tally) is None:
                    return False
                self.turns += 1
                await self.think(rng)
        return True

    async def session(self, index: int, username: str, reconnect: float) -> None:
        """One customer: connect, loop through conversations, reconnect now and then."""
        import websockets

        rng = random.Random(self.seed * 100_003 + index)
        await asyncio.sleep(rng.uniform(0, self.think_s))  # do not all start on one tick
        number = 0
        token: str | None = None
        while not self.over():
            try:
                token = token or await self.token(username)
                url = self.base.replace("http://", "ws://") + f"/ws/chat?token={token}"
                async with websockets.connect(url, max_size=2**22) as ws:
                    await opened(ws)
                    self.opened.add(index)
                    if len(self.opened) >= self.sessions:
                        self.all_open.set()
                    while not self.over():
                        steps = CONVERSATIONS[(index + number) % len(CONVERSATIONS)]
                        number += 1
                        if not await self.conversation(ws, f"soak-{index}-{number}", steps, rng):
                            break
                        if rng.random() < reconnect:
                            break
            except Exception as exc:  # noqa: BLE001 - a failed connection is an error of the run
                self.tally.errors.append(f"{type(exc).__name__}: {exc}")
                await self.think(rng)
            if not self.over():
                self.reconnects += 1


async def _soak(
    base: str,
    users: list[str],
    password: str,
    *,
    seconds: float,
    warmup_s: float,
    think_s: float,
    reconnect: float,
    seed: int,
    memory: Callable[[], float],
) -> dict[str, Any]:
    soak = Soak(base, password, seconds, think_s, seed, sessions=len(users))
    started = time.perf_counter()
    tasks = [asyncio.create_task(soak.session(i, user, reconnect)) for i, user in enumerate(users)]
    await asyncio.sleep(warmup_s)
    # Once every session has opened its chat (connections spread over the processes as they
    # come), every server process has built its assistant: only then is memory "at start",
    # and only then does the run's clock start, since a cold customer's first chat can take
    # seconds on a busy host (at most a turn's timeout is waited for).
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(soak.all_open.wait(), timeout=TURN_TIMEOUT_S)
    soak.start()
    warmed = time.perf_counter() - started
    rss_start = memory()
    samples = [(round(time.perf_counter() - started, 1), rss_start)]

    async def sample() -> None:
        every = max(1.0, (seconds - warmed) / SAMPLES)
        while True:
            await asyncio.sleep(every)
            samples.append((round(time.perf_counter() - started, 1), memory()))

    sampler = asyncio.create_task(sample())
    await asyncio.gather(*tasks)
    sampler.cancel()
    elapsed = time.perf_counter() - started
    rss_end = memory()
    samples.append((round(elapsed, 1), rss_end))
    lat = soak.tally.latencies_ms
    return {
        "sessions": len(users),
        "seconds": round(elapsed, 1),
        "turns": soak.turns,
        "errors": len(soak.tally.errors),
        "latency_ms_p50": round(percentile(lat, 50), 1),
        "latency_ms_p95": round(percentile(lat, 95), 1),
        "latency_ms_p99": round(percentile(lat, 99), 1),
        "server_rss_mb_start": rss_start,
        "server_rss_mb_end": rss_end,
        "rss_growth_pct": _growth(rss_start, rss_end),
        "rss_growth_pct_second_half": second_half_growth(samples),
        "server_rss_mb_samples": samples,
        "turns_per_s": round(soak.turns / elapsed, 1) if elapsed else 0.0,
        "conversations": soak.conversations,
        "confirmations": soak.tally.confirmations,
        "reconnects": soak.reconnects,
        "warmup_s": round(warmed, 1),
        "error_samples": sorted(set(soak.tally.errors))[:5],
    }


def _growth(start: float, end: float) -> float:
    return round((end - start) / start * 100, 2) if start else 0.0


def second_half_growth(samples: list[tuple[float, float]]) -> float:
    """Growth (%) from the reading nearest the middle of the run to the last one."""
    if len(samples) < 2:
        return 0.0
    middle = samples[-1][0] / 2
    mid = min(samples[:-1], key=lambda s: abs(s[0] - middle))
    return _growth(mid[1], samples[-1][1])


def run(
    sessions: int,
    seconds: float,
    *,
    nlu_model: Path,
    workers: int = 1,
    seed: int = 7,
    think_ms: int = 1_000,
    reconnect: float = 0.25,
    warmup_s: float | None = None,
    phase: Callable[[str, int | None], Callable[[int], None]] | None = None,
) -> dict[str, Any]:
    """Seed a bank, serve it in a child process and hold ``sessions`` chats for ``seconds``.

    Args:
        sessions: Concurrent websocket conversations (one demo customer each).
        seconds: How long they go on, counted from when every session has opened its chat;
            each session then finishes the turn in hand.
        nlu_model: The intent model of the offline chat model.
        workers: Server processes.
        seed: Seed of the demo bank and of the sessions' random choices.
        think_ms: Mean pause between a reply and the next frame (the chat allows 20 frames
            per 10 s per connection, so keep it above 600).
        reconnect: Chance of hanging up and reconnecting after a conversation.
        warmup_s: The earliest the first memory reading is taken (default: a fifth of the
            run, at most 10 s); it also waits until every session has opened its chat once
            (at most a turn's timeout). The result's ``warmup_s`` is when it was taken, and
            ``seconds`` the whole run, warm-up included.
        phase: Progress reporting, as ``app.progress.rich_phases`` gives it.

    Returns:
        The figures; ``RESULT_KEYS`` always, plus throughput and error samples.
    """
    from services.settings import Settings

    tell = phase or (lambda _label, _total: lambda _n: None)
    warm = min(10.0, seconds / 5) if warmup_s is None else warmup_s
    with tempfile.TemporaryDirectory(prefix="concierge-bench-soak-") as tmp:
        var = Path(tmp)
        password = Settings(var_dir=var).demo_password
        tell("seed the bank", None)(1)
        users = seed_users(var, sessions + 1, nlu_model=nlu_model, seed=seed)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server(var, nlu_model=nlu_model, port=port, workers=workers)
        try:
            tell("warm up the assistant", None)(1)
            for _ in range(workers * 2):  # each process builds its assistant once
                _warm(base, users[-1], password)
            tell(f"soak: {sessions} sessions for {seconds:.0f} s", None)(1)
            result = run_client(
                _soak(
                    base,
                    users[:sessions],
                    password,
                    seconds=seconds,
                    warmup_s=warm,
                    think_s=think_ms / 1000,
                    reconnect=reconnect,
                    seed=seed,
                    memory=lambda: server_rss_mb(server.pid),
                )
            )
        finally:
            stop_server(server)
        return {**result, "workers": workers}
