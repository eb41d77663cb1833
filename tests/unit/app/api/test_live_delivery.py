"""How a live line reaches a socket: straight when it follows the last sent, shared store reads."""

from __future__ import annotations

import asyncio
import threading
import time
from types import SimpleNamespace
from typing import Any

from sqlalchemy import create_engine

from app.api.live import SharedRead, sent_straight, shared_read


def test_a_line_goes_straight_only_when_it_follows_the_last_one_sent() -> None:
    line = {"id": 9, "text": "hi"}
    assert sent_straight({"id": 9, "prev": 4, "line": line}, seen=4) == line
    assert sent_straight({"id": 9, "prev": 4, "line": line}, seen=2) is None  # a line between
    assert sent_straight({"id": 9, "prev": None, "line": line}, seen=0) is None  # prev unknown
    assert sent_straight({"id": 9, "prev": 4}, seen=4) is None  # an announcement without it


def _app() -> Any:
    return SimpleNamespace(state=SimpleNamespace(engine=create_engine("sqlite://")))


def test_callers_asking_at_once_share_one_read_and_never_get_an_older_one() -> None:
    reads: list[int] = []
    lock = threading.Lock()

    def read(_conn: Any) -> int:
        with lock:
            reads.append(len(reads) + 1)
            n = reads[-1]
        time.sleep(0.05)
        return n

    async def main() -> tuple[int, list[int]]:
        shared = SharedRead(_app(), read)
        first = asyncio.create_task(shared.get())
        await asyncio.sleep(0)  # the first read has begun
        later = [asyncio.create_task(shared.get()) for _ in range(5)]
        return await first, await asyncio.gather(*later)

    first, later = asyncio.run(main())
    # the five that asked during the first read share the next, begun after they asked
    assert first == 1 and later == [2] * 5 and reads == [1, 2]


def test_a_failed_read_reaches_every_caller_and_the_next_ask_reads_again() -> None:
    tries: list[int] = []

    def read(_conn: Any) -> str:
        tries.append(1)
        if len(tries) == 1:
            raise RuntimeError("store away")
        return "queue"

    async def main() -> tuple[list[Any], str]:
        shared = SharedRead(_app(), read)
        failed = await asyncio.gather(shared.get(), shared.get(), return_exceptions=True)
        return failed, await shared.get()

    failed, after = asyncio.run(main())
    assert all(isinstance(f, RuntimeError) for f in failed) and len(failed) == 2
    assert after == "queue" and len(tries) == 2


def test_one_shared_read_per_function_per_process() -> None:
    app = _app()

    def one(_conn: Any) -> int:
        return 1

    def two(_conn: Any) -> int:
        return 2

    assert shared_read(app, one) is shared_read(app, one)
    assert shared_read(app, one) is not shared_read(app, two)
