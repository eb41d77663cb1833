"""Reading one customer message: which intent, how sure, before any slot is filled.

The trained intent classifier does the work; a few very short replies ("y", "nope", "k") carry
too little text for it, so a small lexicon answers those first. Confidence below
``UNSURE`` means the model should say so and offer an advisor rather than guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

UNSURE = 0.35

_SHORT = {
    "affirm": r"y|ya|yes+|yeah|yep|yup|sure|ok(?:ay)?|k|kk|correct|confirm(?:ed)?|go ahead|do it"
    r"|please do|sounds good|that'?s right|right|absolutely|of course|approve[d]?",
    "deny": r"n|no+|nope|nah|no thanks|no thank you|not now|don'?t|do not|negative",
    "cancel": r"cancel|stop|never ?mind|nvm|forget it|abort|quit|cancel that|scrap that",
    "thanks": r"thanks?|thank you|thx|ty|cheers|ta",
    "greeting": r"hi+|hey+|hello|yo|good (?:morning|afternoon|evening)|hiya",
    "goodbye": r"bye|goodbye|see ya|cya|later|that'?s all|done",
    "human_handoff": r"agent|human|advisor|representative|operator|real person",
    "help": r"help|menu|\?",
}
_SHORT_RE = {
    intent: re.compile(rf"^\s*(?:{pattern})\s*[.!?]*\s*$", re.IGNORECASE)
    for intent, pattern in _SHORT.items()
}


class IntentClassifier(Protocol):
    """Anything that names the intent of a text with a confidence."""

    def predict(self, text: str) -> tuple[str, float]:
        """The best label and its probability."""
        ...


@dataclass(frozen=True)
class Reading:
    """What one message most likely means."""

    intent: str
    confidence: float
    text: str

    @property
    def unsure(self) -> bool:
        """Too unsure to act on."""
        return self.confidence < UNSURE


def short_reply(text: str) -> str | None:
    """The intent of a one- or two-word reply the lexicon knows, else None."""
    for intent, pattern in _SHORT_RE.items():
        if pattern.match(text):
            return intent
    return None


def read(text: str, classifier: IntentClassifier) -> Reading:
    """The intent of ``text``: the lexicon for very short replies, else the classifier."""
    short = short_reply(text)
    if short is not None:
        return Reading(short, 1.0, text)
    label, confidence = classifier.predict(text)
    return Reading(label, float(confidence), text)
