"""What Concierge can help with here, and what it honestly declines.

A banking assistant is asked about the weather, restaurants, flights and jokes, and about banking
it does not do from the chat (credit scores, checkbooks, credit-limit changes). The intent
classifier has an ``out_of_scope`` class for those, trained on general phrasings of every-day
requests (``agents/offline/data/utterances.csv``). Beside it, a request that would start a task
or read the customer's data must be read with some confidence when nothing is under way:
starting a write on a weak guess is the costly mistake, and a clear "not something I can do
here", with what the assistant can do, is the honest answer.

:func:`decline` answers a message with nothing pending (no task being filled, no question
awaiting an answer) that the guarded classifier (:class:`ScopeGuard`) reads as out of scope;
mid-task, slot answers like "the 28th" are short and read weakly, so the dialogue decides
those on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from agents.offline.intents import kind_of
from agents.offline.understand import UNSURE, IntentClassifier, read

OUT_OF_SCOPE = "out_of_scope"
# A task or a read of the customer's data needs at least this confidence when nothing is under
# way; below it the request is declined. At the dialogue's own floor (UNSURE) only the
# classifier's explicit out-of-scope reading declines: on CLINC150's validation splits a higher
# floor (0.45) started about one in a hundred fewer tasks on other domains' requests, but it
# also declined plain banking requests the classifier reads at 0.38-0.42 ("move 200 to savings
# every payday"), and every write still waits for the customer's confirmation.
ACT_MIN = UNSURE
STATE = "concierge"  # where the offline model keeps its dialogue state on its messages

DECLINE = (
    "That's outside what I can help with here. I can check your balances and transactions, "
    "sum up your spending, show bills that are due, move money, pay your payees, schedule "
    "payments, freeze or replace a card, dispute a charge, set up savings goals, and answer "
    "questions about our accounts, cards and fees. I can also connect you with an advisor."
)


@dataclass
class ScopeGuard:
    """``classifier``, with weak guesses at a task or a read turned into ``out_of_scope``."""

    classifier: IntentClassifier
    act_min: float = ACT_MIN

    def predict(self, text: str) -> tuple[str, float]:
        """The wrapped classifier's label, unless it would act on a weak reading."""
        label, confidence = self.classifier.predict(text)
        acting = kind_of(label) in ("task", "info")
        if acting and UNSURE <= confidence < self.act_min:  # below UNSURE the dialogue asks
            return OUT_OF_SCOPE, 1.0 - float(confidence)
        return label, confidence


def nothing_pending(messages: Sequence[BaseMessage]) -> bool:
    """Whether the assistant's last message left nothing under way (no task, no question)."""
    for message in reversed(messages):
        if isinstance(message, AIMessage):
            return not (message.additional_kwargs or {}).get(STATE)
    return True


def decline(messages: Sequence[BaseMessage], classifier: IntentClassifier) -> AIMessage | None:
    """The honest answer to a customer message that is out of scope while nothing is under way.

    None when the last message is not the customer's, when a task or a question is pending
    (the dialogue reads the answer in its context), or when the message is in scope.
    """
    if not messages or not isinstance(messages[-1], HumanMessage):
        return None
    if not nothing_pending(messages):
        return None
    reading = read(str(messages[-1].content), ScopeGuard(classifier))
    if reading.intent != OUT_OF_SCOPE:
        return None
    return AIMessage(content=DECLINE)
