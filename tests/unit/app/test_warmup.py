"""WarmUp: parts load in order; a failure is reported and logged, and later parts still load."""

from __future__ import annotations

import logging

import pytest

from app.warmup import FAILED, WARM, WARMING, WarmUp


def test_parts_load_in_order_and_a_failed_one_is_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    loaded: list[str] = []

    def broken() -> None:
        raise OSError("no index here")

    warm = WarmUp(
        [("assistant", lambda: loaded.append("assistant")), ("knowledge", broken)]
        + [("later", lambda: loaded.append("later"))]
    )
    assert warm.parts_in(WARMING) == ["assistant", "knowledge", "later"] and not warm.ready
    with caplog.at_level(logging.ERROR, logger="app.warmup"):
        warm.run()
    assert loaded == ["assistant", "later"]
    assert warm.states() == {"assistant": WARM, "knowledge": FAILED, "later": WARM}
    assert not warm.ready and warm.parts_in(FAILED) == ["knowledge"] and warm.done.is_set()
    assert [r.getMessage() for r in caplog.records] == ["warm start: knowledge failed to load"]


def test_ready_once_every_part_is_warm() -> None:
    warm = WarmUp([("assistant", lambda: None), ("knowledge", lambda: None)])
    thread = warm.start()
    assert warm.done.wait(60)
    thread.join()
    assert warm.ready and warm.parts_in(WARMING) == []


def test_a_stopped_warm_up_loads_no_further_part() -> None:
    loaded: list[str] = []
    warm = WarmUp([("first", lambda: warm.stop()), ("second", lambda: loaded.append("x"))])
    warm.run()
    assert loaded == [] and warm.states()["second"] == WARMING and warm.done.is_set()
