"""How the customer sounds, and what an advisor should be careful about, from their own words.

Two readings are combined. VADER (``vaderSentiment``: a lexicon with rules for negation,
intensifiers and capitals, shipped inside the package, so it works offline) gives the general
valence of each message. A banking lexicon of cues finds what VADER does not know: a customer
reporting charges they did not make or a stolen card (fraud), money trouble such as rent they
cannot pay (vulnerability), fear or despair (distress), and anger or swearing. A cue preceded in
its clause by a negation ("not worried at all", "I'm not desperate") does not count, unless the
negation is part of the cue itself ("I didn't make these charges").

Labels: ``distressed`` (a distress or vulnerability cue), ``negative`` (fraud or anger cues, or
clearly negative valence), ``positive`` (thanks or praise, or clearly positive valence, and no
negative cue), else ``neutral``. The flags are the risks an advisor acts on: ``fraud``,
``vulnerability``, ``distress``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

# What each kind of cue adds: a risk flag, and how it weighs on the label.
FRAUD, VULNERABILITY, DISTRESS, ANGER, THANKS = (
    "fraud",
    "vulnerability",
    "distress",
    "anger",
    "thanks",
)
FLAGS = (FRAUD, VULNERABILITY, DISTRESS)
NEGATIVE_MEAN = -0.35  # VADER compound averaged over the customer's messages
NEGATIVE_ANY = -0.6  # or one message this negative
POSITIVE_MEAN = 0.6  # or thanks and praise with a positive valence
NEGATION_WINDOW = 3  # words before a cue that a negation reaches
NEGATORS = re.compile(
    r"\b(?:not|no|never|nothing|without|hardly|nor|dont|doesnt|didnt|isnt|wasnt|cant|wont)\b"
    r"|n't\b",
    re.IGNORECASE,
)
CLAUSE = re.compile(r"[.;!?,]|\b(?:but|though|although|however)\b", re.IGNORECASE)

_NEG = r"(?:did ?n[o']?t|didnt|did not|never|do ?n[o']?t|dont|do not|have ?n[o']?t|haven'?t)"
_CHARGES = r"(?:charges?|payments?|transactions?|purchases?|transfers?|withdrawals?|debits?)"


@dataclass(frozen=True)
class Cue:
    """One pattern of the lexicon; ``negatable`` when a negation before it cancels it."""

    kind: str
    pattern: re.Pattern[str]
    negatable: bool = True


def _cue(kind: str, pattern: str, *, negatable: bool = True) -> Cue:
    return Cue(kind, re.compile(pattern, re.IGNORECASE), negatable)


CUES: tuple[Cue, ...] = (
    # fraud: the negation is the report itself
    _cue(
        FRAUD,
        rf"\b{_NEG} (?:make|made|authori[sz]e|authori[sz]ed|recogni[sz]e|know|do|buy|order)\b"
        rf"[^.!?]{{0,40}}\b{_CHARGES}",
        negatable=False,
    ),
    _cue(
        FRAUD,
        rf"\b{_CHARGES}[^.!?]{{0,40}}\b{_NEG} (?:make|made|authori[sz]e|recogni[sz]e)\b",
        negatable=False,
    ),
    _cue(FRAUD, r"\b(?:unrecogni[sz]ed|unauthori[sz]ed|fraud\w*|scam\w*|phish\w*|hacked)\b"),
    _cue(FRAUD, r"\b(?:stole|stolen|theft|thief|skimm\w*|cloned)\b"),
    _cue(FRAUD, r"\bsomeone (?:else )?(?:used|took|is using|has used|got into|accessed)\b"),
    _cue(FRAUD, r"\b(?:not|wasn'?t|isn'?t) (?:me|mine)\b", negatable=False),
    # vulnerability: money trouble and life events
    _cue(
        VULNERABILITY,
        r"\b(?:can'?t|cannot|can not|couldn'?t|unable to|won'?t be able to) (?:afford|pay|make)"
        r"\b[^.!?]{0,30}\b(?:rent|mortgage|bills?|food|groceries|loan|payments?|card)\b",
        negatable=False,
    ),
    _cue(VULNERABILITY, r"\b(?:lost my job|made redundant|laid off|unemployed|evict\w*)\b"),
    _cue(VULNERABILITY, r"\b(?:debt collectors?|bailiffs?|in debt|i'?m broke|i am broke)\b"),
    _cue(VULNERABILITY, r"\b(?:passed away|bereave\w*|funeral|in hospital|diagnosed)\b"),
    _cue(VULNERABILITY, r"\b(?:struggling|can'?t cope|cannot cope)\b"),
    # distress: fear, despair, panic
    _cue(DISTRESS, r"\b(?:desperate|desperately|panic\w*|terrified|scared|frightened)\b"),
    _cue(DISTRESS, r"\b(?:worried|worrying|anxious|stressed|distraught|devastated|crying)\b"),
    _cue(
        DISTRESS,
        r"\b(?:at my wits'? end|don'?t know what to do|need help urgently|worried sick)\b",
        negatable=False,
    ),
    # anger: complaints and swearing
    _cue(
        ANGER,
        r"\b(?:angry|furious|annoyed|frustrat\w*|ridiculous|terrible|awful|useless|"
        r"unacceptable|worst|disgrace\w*|pathetic|joke|fed up|sick of|rip ?off|"
        r"never again|upset|disappointed|complain\w*|outrage\w*)\b",
    ),
    _cue(
        ANGER,
        r"\b(?:f+u+c+k\w*|shit\w*|bullshit|crap|damn\w*|bloody|wtf|piss\w*|bastard\w*|"
        r"arse(?:hole)?s?|ass(?:hole)?s?)\b",
        negatable=False,
    ),
    _cue(THANKS, r"\b(?:thanks?|thank you|great|perfect|awesome|brilliant|helpful|love it)\b"),
)


@dataclass(frozen=True)
class Found:
    """A cue found in one message: its kind, the words, and the message's index."""

    kind: str
    words: str
    message: int


@dataclass(frozen=True)
class Mood:
    """The label, the cues behind it, and the risk flags they raise."""

    label: str
    found: tuple[Found, ...] = ()
    valence: float = 0.0  # VADER's compound, averaged over the messages read

    @property
    def flags(self) -> tuple[str, ...]:
        """The risks found, in the order of ``FLAGS``."""
        kinds = {f.kind for f in self.found}
        return tuple(flag for flag in FLAGS if flag in kinds)

    @property
    def cues(self) -> tuple[str, ...]:
        """The words that triggered a label other than neutral, each once."""
        seen: dict[str, str] = {}
        for f in self.found:
            if f.kind != THANKS or self.label == "positive":
                seen.setdefault(f.words.lower(), f.words)
        return tuple(seen.values())

    def first(self, kind: str) -> Found | None:
        """The first cue of ``kind``, or None."""
        return next((f for f in self.found if f.kind == kind), None)


@cache
def _vader() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def _negated(text: str, start: int) -> bool:
    """Whether a negation comes shortly before ``start`` within the same clause."""
    before = text[:start]
    clauses = list(CLAUSE.finditer(before))
    if clauses:
        before = before[clauses[-1].end() :]
    words = before.split()[-NEGATION_WINDOW:]
    return bool(NEGATORS.search(" ".join(words)))


def cues_in(text: str, message: int = 0) -> list[Found]:
    """The lexicon's cues in one message, without the negated ones."""
    text = text.replace("\u2019", "'")  # phones type a curly apostrophe
    out: list[Found] = []
    for cue in CUES:
        for m in cue.pattern.finditer(text):
            if cue.negatable and _negated(text, m.start()):
                continue
            out.append(Found(cue.kind, " ".join(m.group(0).split()), message))
    return out


def read_mood(messages: Sequence[str]) -> Mood:
    """The mood of the customer's ``messages`` (their own words only, oldest first)."""
    said = [m for m in messages if m.strip()]
    if not said:
        return Mood("neutral")
    found = [f for n, text in enumerate(said) for f in cues_in(text, n)]
    scores = [_vader().polarity_scores(text)["compound"] for text in said]
    mean = sum(scores) / len(scores)
    kinds = {f.kind for f in found}
    if kinds & {DISTRESS, VULNERABILITY}:
        label = "distressed"
    elif kinds & {FRAUD, ANGER} or mean <= NEGATIVE_MEAN or min(scores) <= NEGATIVE_ANY:
        label = "negative"
    elif mean >= POSITIVE_MEAN or (THANKS in kinds and mean > 0):
        label = "positive"
    else:
        label = "neutral"
    return Mood(label, tuple(found), round(mean, 3))
