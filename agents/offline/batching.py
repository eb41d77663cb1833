"""Intent classification shared by concurrent conversations: micro-batched and remembered.

A server holds many conversations at once, each run in a worker thread. One encoder pass over
16 texts costs little more than a pass over one, so :class:`BatchingClassifier` lets the
threads that ask at about the same time share a pass: while a pass runs, new askers queue and
the next pass answers them all. The first asker also waits up to ``max_wait_s`` for company,
but only when the last pass was shared (the server is busy): a lone asker is answered at once.
Short replies repeat endlessly ("yes", "thanks", "what's my balance?"), so answers are also
kept in a small LRU keyed by the exact text. The answers are the wrapped model's own: batching
changes no prediction (the model scores each row independently).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import Future
from typing import Any, Protocol

import numpy as np


class ProbabilityModel(Protocol):
    """A classifier that scores a batch of texts."""

    labels: list[str]

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """One row of probabilities per text, columns in ``labels`` order."""
        ...


class BatchingClassifier:
    """``predict(text)`` for many threads at once, over one model.

    Example:
        >>> shared = BatchingClassifier(IntentModel.load(path))  # doctest: +SKIP
        >>> shared.predict("freeze my card")  # doctest: +SKIP
        ('freeze_card', 0.93)
    """

    def __init__(
        self,
        model: ProbabilityModel,
        *,
        max_batch: int = 32,
        max_wait_s: float = 0.002,
        remember: int = 4096,
    ) -> None:
        self.model = model
        self.labels = list(model.labels)
        self.max_batch, self.max_wait_s, self.remember = max_batch, max_wait_s, remember
        self._lock = threading.Condition()
        self._queue: list[tuple[str, Future[tuple[str, float]]]] = []
        self._busy = False
        self._known: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._last_batch = 1
        self.passes = 0
        self.hits = 0
        self.asked = 0

    def predict(self, text: str) -> tuple[str, float]:
        """The most likely label of ``text`` and its probability."""
        with self._lock:
            self.asked += 1
            known = self._known.get(text)
            if known is not None:
                self._known.move_to_end(text)
                self.hits += 1
                return known
            future: Future[tuple[str, float]] = Future()
            self._queue.append((text, future))
            if self._busy:  # a leader is collecting or scoring: it (or the next) answers us
                self._lock.notify_all()
            else:
                self._busy = True
                self._lead()
        return future.result()

    def _lead(self) -> None:
        # Called holding the lock: wait briefly for company when others have been asking,
        # then score batches until the queue is empty. Scoring happens outside the lock so
        # others can queue meanwhile.
        if self._last_batch > 1:
            self._lock.wait_for(lambda: len(self._queue) >= self.max_batch, timeout=self.max_wait_s)
        try:
            while self._queue:
                batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
                self._last_batch = len(batch)
                self._lock.release()
                try:
                    results = self._score([text for text, _ in batch])
                except BaseException as exc:  # every waiter hears about the failure
                    for _, future in batch:
                        future.set_exception(exc)
                    results = None
                finally:
                    self._lock.acquire()
                if results is not None:
                    for (text, future), result in zip(batch, results, strict=True):
                        self._keep(text, result)
                        future.set_result(result)
        finally:
            self._busy = False

    def _score(self, texts: list[str]) -> list[tuple[str, float]]:
        self.passes += 1
        probabilities = self.model.predict_proba(texts)
        best = probabilities.argmax(axis=1)
        return [
            (self.labels[int(i)], float(row[int(i)]))
            for i, row in zip(best, probabilities, strict=True)
        ]

    def _keep(self, text: str, result: tuple[str, float]) -> None:
        self._known[text] = result
        self._known.move_to_end(text)
        while len(self._known) > self.remember:
            self._known.popitem(last=False)

    def stats(self) -> dict[str, Any]:
        """How many texts were asked, answered from memory, and encoder passes made."""
        return {"asked": self.asked, "remembered": self.hits, "passes": self.passes}
