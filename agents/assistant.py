"""The assistant: a compiled graph and the bank its tools act on, run for one customer at a time.

The composition root (``app.bootstrap``) builds one per process; the web app, the terminal
chat, the evaluations and the benchmarks all run conversations through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from agents.context import CustomerContext
from agents.customer import customer_context
from agents.offline.understand import IntentClassifier
from tools.bank import Bank
from tools.runtime import ChatContext


@dataclass
class Assistant:
    """A compiled graph and the bank its tools act on.

    ``classifier`` is the offline model's intent classifier (None for another model), so a
    warm start can run one message through it before any customer does.
    """

    graph: Any
    bank: Bank
    classifier: IntentClassifier | None = None

    def context(self, person_id: int, now: datetime | None = None) -> ChatContext:
        """The run context for the signed-in ``person_id``."""
        return ChatContext(person_id=person_id, bank=self.bank, now=now or datetime.now(UTC))

    def prepare(self, person_id: int, now: datetime | None = None) -> CustomerContext:
        """Read ``person_id``'s context ahead of their first message (warms every cache).

        Called when a customer opens the chat, as the customer page's dashboard reads their
        insights when it loads: the first turn then finds the context, the insights and the
        next best action ready instead of computing them while the customer waits.
        """
        return customer_context(self.context(person_id, now))

    def run(
        self, thread_id: str, person_id: int, payload: Any, now: datetime | None = None
    ) -> dict[str, Any]:
        """One run of the graph on ``thread_id`` for ``person_id``.

        The checkpoint is written when the run ends or waits for approval ("exit"
        durability), not after every step: a process killed mid-run resumes from the turn
        before, and a write it had begun replays by its idempotency key instead of running
        twice.
        """
        config = {"configurable": {"thread_id": thread_id}}
        context = self.context(person_id, now)
        return dict(self.graph.invoke(payload, config, context=context, durability="exit"))
