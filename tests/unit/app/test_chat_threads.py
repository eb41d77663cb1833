"""The chat pool runs customers' turns first and background work only when idle."""

from __future__ import annotations

import threading
import time

import pytest

from app.chat_threads import ChatThreads


def _wait(event: threading.Event) -> None:
    assert event.wait(10), "timed out"


def test_results_and_errors_reach_the_caller() -> None:
    pool = ChatThreads(2)
    try:
        assert pool.submit(lambda a, b=0: a + b, 2, b=3).result(10) == 5
        assert pool.submit_background(str.upper, "ok").result(10) == "OK"
        failed = pool.submit(lambda: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            failed.result(10)
        assert pool.submit(lambda: "still serving").result(10) == "still serving"
    finally:
        pool.shutdown()


def test_background_work_waits_while_a_turn_runs_or_waits() -> None:
    pool = ChatThreads(2)
    order: list[str] = []
    release, started = threading.Event(), threading.Event()

    def turn(name: str) -> None:
        order.append(name)
        if name == "turn-1":
            started.set()
            _wait(release)

    try:
        first = pool.submit(turn, "turn-1")
        _wait(started)
        later = pool.submit_background(order.append, "background")
        time.sleep(0.2)  # a thread is free, but a turn is running: the background work waits
        assert order == ["turn-1"] and not later.done()
        second = pool.submit(turn, "turn-2")  # submitted after, runs before
        second.result(10)
        assert order == ["turn-1", "turn-2"]
        release.set()
        first.result(10)
        later.result(10)
        assert order == ["turn-1", "turn-2", "background"]
    finally:
        release.set()
        pool.shutdown()


def test_shutdown_finishes_or_cancels_what_waits_and_refuses_more() -> None:
    pool = ChatThreads(1)
    gate, began = threading.Event(), threading.Event()

    def hold() -> None:
        began.set()
        _wait(gate)

    running = pool.submit(hold)
    _wait(began)  # taken by the thread before the pool shuts down
    waiting = pool.submit(lambda: "never")
    later = pool.submit_background(lambda: "never either")
    closer = threading.Thread(target=pool.shutdown, kwargs={"cancel_futures": True})
    closer.start()
    deadline = time.monotonic() + 10
    while not pool._closed and time.monotonic() < deadline:  # shut down while the job holds
        time.sleep(0.01)
    gate.set()
    closer.join(10)
    assert running.result(10) is None
    assert waiting.cancelled() and later.cancelled()
    with pytest.raises(RuntimeError, match="after shutdown"):
        pool.submit(lambda: None)
    kept = ChatThreads(1)
    done = [kept.submit(lambda i=i: i) for i in range(5)]
    kept.shutdown(wait=True)  # without cancelling, waiting work still runs
    assert [f.result(0) for f in done] == list(range(5))


def test_a_pool_needs_a_thread() -> None:
    with pytest.raises(ValueError, match="at least one"):
        ChatThreads(0)
