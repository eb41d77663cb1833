"""The benchmarks' client runs on the same event loop as the server it measures."""

from __future__ import annotations

import asyncio

from bench.chat import run_client


def test_the_client_runs_its_coroutine_on_uvloop_and_returns_its_result() -> None:
    async def which() -> tuple[str, int]:
        await asyncio.sleep(0)
        return type(asyncio.get_running_loop()).__module__, 42

    module, answer = run_client(which())
    assert module.startswith("uvloop") and answer == 42
