"""Typos in a customer's words put right before the offline model reads them.

"I want to make a trransfer", "what's my baance?", "go ahad": a word that is no English word
and is one edit (a letter added, dropped, changed or two swapped) from a word customers use
with a bank becomes that word — the most used one when there are several ("ahad" is "ahead",
as in "go ahead", not "had"). The bank's words are those of the offline model's own training
phrasings that are English words, counted, so the choice follows how customers talk to a bank.

A long word no dictionary knows may also become the everyday English word one edit away
("administrrator"). Kept as typed: English words spelt right ("eating" is never "earning";
a rare one, "mooney", may still be a bank word mistyped), words of three letters
or fewer, numbers, words with digits or symbols, and every word of a name the customer's bank
knows (their payees, merchants, accounts, goals: "Svetlana", "StreamFlix"). A name the bank
does not know and that is one edit from a bank word may be changed; it matches nothing either
way.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

from agents.offline.slots.match import EVERYDAY, _english, is_english, words

PHRASINGS = Path(__file__).resolve().parent.parent / "data"
_TOKEN = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?|[^A-Za-z]+")
SHORTEST = 4  # shorter words have too many neighbours to correct safely
LONG = 6  # an unknown word this long may be put right to any everyday English word
# An English word used less than this ("mooney", "spae") may be a typo of a bank word
RARE = 1e-7
COMMON = 3  # times a bank word is used in the phrasings to stand for a rare word


@lru_cache(maxsize=1)
def bank_words() -> Counter[str]:
    """How often each English word occurs in the offline model's training phrasings."""
    counts: Counter[str] = Counter()
    for name in ("utterances.csv", "acts.csv"):
        with (PHRASINGS / name).open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                counts.update(w for w in words(row["text"]) if w.isalpha() and is_english(w))
    return counts


def _best(word: str, candidates: list[str], weight: Mapping[str, float]) -> str:
    # a typo seldom changes the first letter ("aent" is "agent", not "rent")
    return max(candidates, key=lambda c: (c[0] == word[0], weight[c], c))


def _correction(word: str, *, rare: bool = False) -> str | None:
    english = _english()
    near = english.edit_distance_1(word)
    vocabulary = bank_words()
    # a rare word ("mooney", but also a surname: "Rowe") only for a word customers use often
    # that starts with the same letter
    least = COMMON if rare else 1
    found = [c for c in near if vocabulary[c] >= least and (not rare or c[0] == word[0])]
    if found:
        return _best(word, found, vocabulary)
    if _known(word) or len(word) < LONG:
        return None
    # a long word no dictionary knows, one edit from an everyday one ("administrrator")
    usage = {c: english.word_usage_frequency(c) for c in near}
    found = [c for c, used in usage.items() if used >= EVERYDAY]
    return _best(word, found, usage) if found else None


# British spellings the (American) dictionary lacks: "recognise", "colour", "centre", "cheque"
_BRITISH = (
    (re.compile(r"is(e|es|ed|ing|ation|ations)$"), r"iz\1"),
    (re.compile(r"our(s|ed|ing|ite|ites)?$"), r"or\1"),
    (re.compile(r"tre(s)?$"), r"ter\1"),
    (re.compile(r"ogue(s)?$"), r"og\1"),
    (re.compile(r"ence(s)?$"), r"ense\1"),
    (re.compile(r"ll(ed|ing|er)$"), r"l\1"),
    (re.compile(r"cheque"), "check"),
)
# Words of banking and of chat that no dictionary lists, and spellings people mean as typed
KEEP = frozenset(
    """dont didnt doesnt isnt wasnt arent werent wont cant couldnt wouldnt shouldnt hasnt havent
    hadnt youre theyre thats whats theres heres lets autopay autosave cashback chargeback
    chargebacks contactless nevermind biller billers iban swift sepa zelle venmo etransfer
    interac xfer fintech""".split()
)


def _known(word: str) -> bool:
    """Whether ``word`` is spelt right: in the dictionary, a British spelling, or kept."""
    if word in KEEP or is_english(word):
        return True
    return any(
        is_english(american)
        for pattern, replacement in _BRITISH
        if (american := pattern.sub(replacement, word)) != word
    )


@lru_cache(maxsize=16384)
def _spelt(word: str) -> str | None:
    lower = word.lower()
    if len(lower) < SHORTEST or not lower.isalpha() or lower in bank_words():
        return None
    if not _known(lower):
        return _correction(lower)
    if lower in KEEP or _usage(lower) >= RARE:
        return None
    return _correction(lower, rare=True)


def _usage(word: str) -> float:
    # a British spelling counts as used as often as the American one
    english = _english()
    found = english.word_usage_frequency(word)
    for pattern, replacement in _BRITISH:
        found = max(found, english.word_usage_frequency(pattern.sub(replacement, word)))
    return found


def spell(text: str, keep: Iterable[str] = ()) -> str:
    """``text`` with each typo of a bank word spelt right; names in ``keep`` left alone.

    Args:
        text: the customer's message.
        keep: names the customer's bank knows (payees, merchants, accounts, goals); their
            words are never changed.

    Returns:
        The message, the same but for the words put right (spaces and punctuation kept).
    """
    kept = {w for name in keep for w in words(name)}
    out = []
    for token in _TOKEN.findall(text):
        fixed = None if token.lower() in kept else _spelt(token)
        out.append(fixed if fixed is not None else token)
    return "".join(out)
