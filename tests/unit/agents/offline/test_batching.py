"""The shared intent classifier: batches concurrent askers, remembers answers, changes none."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from agents.offline.batching import BatchingClassifier


class Lengths:
    """Scores a text by its length: label ``short`` under 10 characters, else ``long``."""

    labels = ["long", "short"]

    def __init__(self, fail_on: str = "", gate: threading.Event | None = None) -> None:
        self.batches: list[list[str]] = []
        self.fail_on = fail_on
        self.gate = gate  # when given, the first pass holds until it opens

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        self.batches.append(list(texts))
        if self.fail_on in texts:
            raise RuntimeError("the encoder broke")
        if self.gate is not None and len(self.batches) == 1:
            assert self.gate.wait(timeout=120), "the test never opened the gate"
        time.sleep(0.01)  # long enough for other threads to queue behind a pass
        rows = [[0.2, 0.8] if len(t) < 10 else [0.9, 0.1] for t in texts]
        return np.array(rows)


def _ask_all(shared: BatchingClassifier, texts: list[str]) -> dict[str, tuple[str, float]]:
    found: dict[str, tuple[str, float]] = {}
    start = threading.Barrier(len(texts))

    def ask(text: str) -> None:
        start.wait()
        found[text] = shared.predict(text)

    threads = [threading.Thread(target=ask, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return found


def test_concurrent_askers_share_passes_and_get_the_models_own_answers() -> None:
    # The first pass holds until every asker has asked: whatever the scheduling, the others
    # are queued behind it and must be answered in shared passes, not one by one.
    gate = threading.Event()
    model = Lengths(gate=gate)
    shared = BatchingClassifier(model, max_batch=8, max_wait_s=0.05)
    texts = [f"text number {i}" if i % 2 else f"t{i}" for i in range(24)]
    found: dict[str, tuple[str, float]] = {}

    def ask(text: str) -> None:
        found[text] = shared.predict(text)

    threads = [threading.Thread(target=ask, args=(t,)) for t in texts]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 120  # a guard against a hang, not a measurement
    while shared.stats()["asked"] < len(texts) and time.monotonic() < deadline:
        time.sleep(0.001)
    gate.set()
    for thread in threads:
        thread.join()
    assert found == {t: ("short", 0.8) if len(t) < 10 else ("long", 0.9) for t in texts}
    assert sum(len(b) for b in model.batches) == len(texts)  # every text scored exactly once
    assert max(len(b) for b in model.batches) <= 8
    # the leader's own pass, then the 23 queued behind it in batches of at most 8
    assert len(model.batches) <= 1 + -(-(len(texts) - 1) // 8), model.batches


def test_a_text_seen_before_is_answered_from_memory() -> None:
    model = Lengths()
    shared = BatchingClassifier(model, remember=2)
    assert shared.predict("yes") == ("short", 0.8)
    assert shared.predict("yes") == ("short", 0.8)
    assert len(model.batches) == 1 and shared.stats()["remembered"] == 1
    shared.predict("thanks")
    shared.predict("hello there friend")  # the oldest ("yes") is forgotten
    shared.predict("yes")
    assert len(model.batches) == 4


def test_a_failing_pass_reaches_every_waiter_and_the_next_ask_works() -> None:
    model = Lengths(fail_on="boom")
    shared = BatchingClassifier(model, max_wait_s=0.0)
    with pytest.raises(RuntimeError, match="encoder broke"):
        shared.predict("boom")
    assert shared.predict("fine") == ("short", 0.8)


def test_a_lone_asker_does_not_wait_for_company() -> None:
    model = Lengths()
    shared = BatchingClassifier(model, max_wait_s=5.0)
    waits: list[float | None] = []
    wait_for = shared._lock.wait_for

    def recorded(predicate, timeout=None):  # type: ignore[no-untyped-def]
        waits.append(timeout)
        return wait_for(predicate, timeout)

    shared._lock.wait_for = recorded  # type: ignore[method-assign]
    shared.predict("alone here")
    shared.predict("alone again")
    assert waits == []  # nobody else asked, so nobody waited
    assert [len(b) for b in model.batches] == [1, 1]


def test_after_a_shared_pass_the_leader_waits_for_company() -> None:
    model = Lengths()
    shared = BatchingClassifier(model, max_batch=4, max_wait_s=1.0)
    shared._last_batch = 2  # the last pass was shared: the server is busy
    found = _ask_all(shared, ["one a", "two b", "three c", "four d"])
    assert len(found) == 4
    assert [len(b) for b in model.batches] == [4]  # the leader waited until the batch filled
