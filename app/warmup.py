"""Loading at start-up what the first chat turn would otherwise load while a customer waits.

The assistant (its intent model and sentence encoder) and the knowledge index with its
question model are built on first use: the first question after a start would wait seconds for
them. With ``CONCIERGE_WARM_START`` on (the default), the app's lifespan starts a
:class:`WarmUp` that builds them in a background thread while the server already answers;
``/ready`` says 503, naming the parts still warming, until every part is warm, so a load
balancer sends customers only to a process that answers its first question as fast as its
tenth. ``/health`` (liveness) answers at once either way.

:func:`assistant_once` is the one place the app's assistant is built: the warm-up and a chat
that arrives before it finishes share it, so the assistant is built once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from app.heap import freeze_heap

log = logging.getLogger(__name__)

WARMING, WARM, FAILED = "warming", "warm", "failed"
# A help question like a customer's, run through the intent model and the knowledge index.
SAMPLE_QUESTION = "How do I dispute a card payment I don't recognise?"

_building = threading.Lock()


def assistant_once(app: Any) -> Any:
    """The app's assistant, built by ``app.state.assistant_factory`` on the first call."""
    with _building:
        if getattr(app.state, "assistant", None) is None:
            app.state.assistant = app.state.assistant_factory()
            freeze_heap()  # the models are loaded for good: keep them out of the collector's way
        return app.state.assistant


def warm_assistant(app: Any) -> None:
    """Build the assistant and read one message with its intent model.

    The first reading also pays the encoder runtime's own first-run set-up.
    """
    assistant = assistant_once(app)
    if assistant.classifier is not None:
        assistant.classifier.predict(SAMPLE_QUESTION)


def warm_knowledge(app: Any) -> None:
    """Open (or build) the knowledge index and its question model, and search it once.

    The question model is loaded from ``var/knowledge``, or built there from the articles'
    phrasings and the bank's question log when they changed; the search loads the encoder.
    """
    knowledge = assistant_once(app).bank.knowledge
    if knowledge is not None:
        knowledge.search(SAMPLE_QUESTION)


def app_parts(app: Any) -> list[tuple[str, Callable[[], object]]]:
    """The parts of ``app`` a warm start loads, in order, by the names ``/ready`` reports."""
    return [("assistant", lambda: warm_assistant(app)), ("knowledge", lambda: warm_knowledge(app))]


class WarmUp:
    """Named parts loaded one after another in a background thread.

    A part that fails is logged and reported as failed; the parts after it still load, and
    whatever failed is built on first use as it would be without a warm start.
    """

    def __init__(self, parts: Sequence[tuple[str, Callable[[], object]]]) -> None:
        self._parts = list(parts)
        self._state = dict.fromkeys((name for name, _ in self._parts), WARMING)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.done = threading.Event()  # set when every part is warm or failed

    def start(self) -> threading.Thread:
        """Load the parts in a daemon thread (it never holds up the server's start or stop)."""
        thread = threading.Thread(target=self.run, name="warm-up", daemon=True)
        thread.start()
        return thread

    def run(self) -> None:
        """Load the parts in order, here; what a part raises is logged, not raised."""
        try:
            for name, load in self._parts:
                if self._stopping.is_set():
                    return
                try:
                    load()
                except Exception:  # noqa: BLE001 - reported by /ready; first use tries again
                    if self._stopping.is_set():  # the app closed what the part was loading
                        return
                    log.exception("warm start: %s failed to load", name)
                    state = FAILED
                else:
                    state = WARM
                with self._lock:
                    self._state[name] = state
            log.info("warm start: %s", ", ".join(f"{n} {s}" for n, s in self.states().items()))
        finally:
            self.done.set()

    def stop(self) -> None:
        """Load no further part (the one loading finishes in its thread)."""
        self._stopping.set()

    def states(self) -> dict[str, str]:
        """Each part's state: ``warming``, ``warm`` or ``failed``."""
        with self._lock:
            return dict(self._state)

    def parts_in(self, state: str) -> list[str]:
        """The names of the parts in ``state``, in loading order."""
        return [name for name, found in self.states().items() if found == state]

    @property
    def ready(self) -> bool:
        """Whether every part is warm."""
        return all(state == WARM for state in self.states().values())
