"""Fuzzy matching of what a customer names against the customer's own payees and merchants.

A mention is compared word by word with each known name: exact words, typos (optimal string
alignment distance from rapidfuzz, or a high Indel ratio for long words), first-name
nicknames ("Bob" for "Robert", from the ``nicknames`` package) and a few everyday synonyms
("the power company" for "City Electric"). Only names passed in can ever be returned.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from nicknames import NickNamer
from rapidfuzz.distance import OSA, Indel, Levenshtein
from spellchecker import SpellChecker

from agents.offline.slots.text import normalise

THRESHOLD = 0.6
MARGIN = 0.12  # candidates this far below the best are dropped

# Words that never identify a payee or merchant on their own.
STOPWORDS = frozenset(
    """a an the to from for of on in into at by with about my me i im i'm id i'd ill i'll you
    your please pls plz can could would will want wanna need like pay paying paid payment
    payments send sending sent transfer transferring move moving put give giving owe bill bills
    money cash dollars dollar bucks usd amount account accounts today tomorrow now next this that
    these those it its them him her his their our we us and or but so how much many what when
    where which who did do does is are was were be been spend spent spending some any all just
    back due again also too thanks thank hey hi hello ok okay yes no not only last month week
    year day days weeks months every each schedule set up make get got have has had let lets same
    usual one other there here go going over off out more less than then there's check card
    cards
    balance total across via using use store shop shopping purchase purchases bought buy charge
    charged charges transaction transactions recent show see tell list find""".split()
)
NAME_NOISE = frozenset(
    "the co company inc llc ltd corp corporation services service of and group plc llp".split()
)
_SYNONYMS: tuple[frozenset[str], ...] = tuple(
    frozenset(group.split())
    for group in (
        "electric electricity electrical power energy",
        "water sewer",
        "phone mobile cell wireless telecom",
        "internet broadband wifi cable fiber",
        "rent landlord apartment apartments property properties realty lease housing",
        "insurance insurer",
        "mom mum mother mommy mama",
        "dad father daddy papa",
        "gym fitness",
        "school tuition university college",
        "doctor clinic medical dentist dental",
    )
)
_WORD = re.compile(r"[a-z0-9]+(?:[&'.-][a-z0-9]+)*")


def words(text: str) -> list[str]:
    """Comparable words: normalised, possessive "'s" dropped, inner punctuation removed."""
    out = []
    for raw in _WORD.findall(normalise(text)):
        raw = re.sub(r"'s$", "", raw)
        word = re.sub(r"[^a-z0-9]", "", raw)
        if word:
            out.append(word)
    return out


@lru_cache(maxsize=8192)
def _name_words(name: str) -> tuple[str, ...]:
    # a customer's payee and merchant names come up turn after turn: split each once
    return tuple(words(name))


@lru_cache(maxsize=65536)
def similarity(a: str, b: str) -> float:
    """How alike two words are, 0..1.

    Words of three letters or fewer must be equal; four-letter words may only have two
    neighbouring letters swapped ("jonh"); longer ones allow one edit per five letters or so.
    """
    if a == b:
        return 1.0
    if a + "s" == b or b + "s" == a:
        return 0.95  # "joes" for "Joe's" (its "'s" is dropped), "apartment" for "Apartments"
    if min(len(a), len(b)) <= 3 or a.isdigit() or b.isdigit():
        return 0.0
    longest = max(len(a), len(b))
    distance = OSA.distance(a, b)
    if longest == 4:  # "card" is not "care", "mark" not "park"
        swapped = distance == 1 and Levenshtein.distance(a, b) == 2
        return 0.75 if swapped else 0.0
    allowed = 1 if longest <= 5 else 2 if longest <= 10 else 3
    best = 1 - distance / longest if distance <= allowed else 0.0
    if min(len(a), len(b)) >= 6:
        ratio = Indel.normalized_similarity(a, b)
        best = max(best, ratio if ratio >= 0.75 else 0.0)
    return best


@lru_cache(maxsize=1)
def _namer() -> NickNamer:
    return NickNamer()


@lru_cache(maxsize=4096)
def _forms(word: str) -> tuple[frozenset[str], frozenset[str]]:
    namer = _namer()
    canonical = frozenset(namer.canonicals_of(word))
    return canonical | namer.nicknames_of(word), canonical | {word}


def nickname_of(a: str, b: str) -> bool:
    """Whether first names ``a`` and ``b`` are the same name ("bob" and "robert")."""
    if a == b or not (a.isalpha() and b.isalpha()):
        return a == b
    related_a, canon_a = _forms(a)
    related_b, canon_b = _forms(b)
    return b in related_a or a in related_b or bool(canon_a & canon_b)


def _score(
    mention: list[str], content: list[str], grams: list[str], name: str, people: bool
) -> float:
    """How well ``name`` is named by the mention (all words, content words, joined pairs)."""
    all_words = _name_words(name)
    if not all_words:
        return 0.0
    if f" {' '.join(all_words)} " in f" {' '.join(mention)} ":  # all its words, in order
        return 1.0
    if len(all_words) > 1 and "".join(all_words) in grams:
        return 1.0
    significant = [w for w in all_words if w not in NAME_NOISE] or all_words
    found: list[float] = []
    for index, word in enumerate(significant):
        best = 1.0 if word in grams else max((similarity(word, t) for t in content), default=0.0)
        if people and best < 0.9 and any(nickname_of(t, word) for t in content if len(t) > 1):
            best = 0.9
        if not best and index and any(t == word[0] for t in mention if len(t) == 1):
            best = -0.85  # an initial ("Tom B"): counts only beside a matched word
        if not best and word in mention:
            best = -1.0  # a common word ("day" of "Rainy Day"): counts only beside a match
        found.append(best)
    strong = [s for s in found if s > 0]
    if strong:
        hits = [abs(s) for s in found if s]
        if len(hits) == len(significant):
            return min(1.0, 0.75 + 0.25 * sum(hits) / len(hits))
        share = len(hits) / len(significant)
        return (0.62 + 0.25 * share) * (0.5 + 0.5 * sum(hits) / len(hits))
    if any(group & set(content) and group & set(all_words) for group in _SYNONYMS):
        return 0.65
    return 0.0


def rank(
    text: str,
    items: Iterable[tuple[str, str]],
    *,
    people: bool = True,
    threshold: float = THRESHOLD,
    extra_stopwords: frozenset[str] = frozenset(),
) -> list[tuple[str, float]]:
    """Score each (key, name) against the mention in ``text``; best first, close ones only.

    Args:
        text: the customer's words.
        items: (key, display name) pairs; only these keys can come back.
        people: also accept first-name nicknames ("Bob" for "Robert").
        threshold: the lowest score returned.
        extra_stopwords: words that must not count as naming anything here.

    Returns:
        (key, score) pairs with score in 0..1, at or above ``threshold`` and within
        :data:`MARGIN` of the best, best first (ties keep the input order).
    """
    mention = words(text)
    stop = STOPWORDS | extra_stopwords
    content = [w for w in mention if w not in stop]
    grams = content + [a + b for a, b in zip(mention, mention[1:], strict=False)]
    best: dict[str, float] = {}
    for key, name in items:
        score = round(_score(mention, content, grams, name, people), 3)
        if score >= threshold and score > best.get(key, 0.0):
            best[key] = score
    if not best:
        return []
    top = max(best.values())
    floor = round(top - MARGIN, 3)
    ranked = [(key, score) for key, score in best.items() if score >= floor]
    return sorted(ranked, key=lambda pair: -pair[1])


def match_payee(
    text: str, payees: Sequence[tuple[str, str]], *, threshold: float = THRESHOLD
) -> list[tuple[str, float]]:
    """The customer's payees that ``text`` may name, best first.

    Full names, typos ("Tom Bakr"), first names ("Tom" for "Tom Baker"), nicknames ("Bob" for
    "Robert Lee"), a part of a biller's name ("the electric company" for "City Electric") and
    everyday synonyms ("the power bill"). "Mom" matches only a payee called Mom (or Mum,
    Mother). An ambiguous mention ("Tom" with two Toms) returns every close candidate, so the
    caller can ask which.

    Args:
        text: the customer's message.
        payees: (ref, display name) of this customer's payees only.
        threshold: the lowest score (0..1) returned.

    Returns:
        (ref, score) pairs, only refs from ``payees``; empty when nothing fits.
    """
    return rank(text, payees, people=True, threshold=threshold)


def match_merchant(
    text: str, merchants: Sequence[str], *, threshold: float = THRESHOLD
) -> list[tuple[str, float]]:
    """The merchants (from ``merchants``) that ``text`` names, best first, with scores 0..1.

    "starbucks", "Starbux" (a typo), "trader joes", "whole foods"; only names in
    ``merchants`` come back. A part of a name made only of everyday words ("power" of "City
    Power", "bottle" of "Blue Bottle") names no merchant: "spending power" is not a question
    about the power company.
    """
    found = rank(text, ((m, m) for m in merchants), people=False, threshold=threshold)
    if not found:
        return found
    content = [w for w in words(text) if w not in STOPWORDS]
    return [
        (name, score) for name, score in found if score >= 1.0 or not _everyday_part(name, content)
    ]


def _everyday_part(name: str, content: list[str]) -> bool:
    """Whether ``content`` names only part of ``name``, and only by everyday words."""
    significant = [w for w in _name_words(name) if w not in NAME_NOISE] or list(_name_words(name))
    hits = [w for w in significant if any(similarity(w, t) for t in content)]
    return 0 < len(hits) < len(significant) and all(is_everyday(w) for w in hits)


def correct_words(text: str, vocabulary: frozenset[str]) -> str:
    """``text`` with each word that is a typo of a ``vocabulary`` word spelt right.

    A word of five letters or more not in the vocabulary becomes the vocabulary word it is most
    like, when :func:`similarity` finds one close enough ("paychek" becomes "paycheck", "salry"
    "salary"); shorter words, numbers and words close to none are kept as typed. For the fixed
    cue words of a rule ("salary", "deadline", "platinum"), never for names. An English word
    spelt right is never a typo of another ("eating" is not "earning", "spending" not
    "sending").
    """
    out = []
    for token in re.split(r"(\W+)", text):
        word = token.lower()
        if len(word) < 5 or not word.isalpha() or word in vocabulary or is_english(word):
            out.append(token)
            continue
        best, score = token, 0.0
        for known in vocabulary:
            if abs(len(known) - len(word)) <= 2 and (found := similarity(word, known)) > score:
                best, score = known, found
        out.append(best if score >= TYPO_SCORE else token)
    return "".join(out)


TYPO_SCORE = 0.75
# How often a word must occur in English text to count as an everyday word
EVERYDAY = 1e-6


@lru_cache(maxsize=1)
def _english() -> SpellChecker:
    return SpellChecker(language="en", distance=1)


def is_english(word: str) -> bool:
    """Whether ``word`` (lower case) is a word of the English dictionary, spelt right."""
    return word in _english()


def is_everyday(word: str) -> bool:
    """Whether ``word`` is an everyday English word ("power", "city"), not a brand or name."""
    return _english().word_usage_frequency(word) >= EVERYDAY
