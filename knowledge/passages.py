"""Which passage of an article answers the question asked: its fees, limits, timing or steps.

Search by meaning finds the right article, but within it the closest section is not always the
answer: "is there a fee for sending money abroad?" is about as close to an article's *Limits*
section as to its *Fees*, because both are about sending money abroad. A question usually asks
about one aspect of its subject, though, and says which in a few plain words ("fee", "how
long", "the most I can"), and a help article's sections say which aspect they cover in their
heading and in their sentences ("0.5% of the amount", "up to $50,000 per day", "1–2 business
days", numbered steps).

:func:`asked_aspects` reads the aspects a question asks about; :func:`coverage` measures how far a
passage covers one (its heading naming the aspect counts in full, otherwise the share of its
sentences, table rows and list items that speak of it); :func:`passage_score` adds that coverage
(a little more for a section headed with the asked aspect than for a lead that mentions it)
to the passage's similarity to the question and takes as much off a passage whose heading
names another aspect and which does not cover the asked one, so the passage on the asked aspect
wins over a passage that only shares the subject. A question that names no aspect is ranked by
meaning alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# How much a passage that fully covers the asked aspect gains, and a passage headed with another
# aspect loses, in cosine similarity. A short section that is mostly its article's title can sit
# 0.2 closer to a question about the title's subject than the section that answers it, so the
# two together (up to 0.4) decide between sections of one article, while a passage far off the
# subject still loses.
ASPECT_WEIGHT = 0.2
# A section headed with the asked aspect ("Our transfer fees") is the passage on it; a lead that
# only mentions it ("most transfers are free; fees apply to...") introduces the subject. Of two
# passages that both cover the aspect, the headed one gains this share of ASPECT_WEIGHT (0.05 in
# cosine similarity): enough to win over a lead as close to the question, not over a closer one.
HEADED_SHARE = 0.25


@dataclass(frozen=True)
class Aspect:
    """One thing a question can ask about a subject, with the words that show it.

    Attributes:
        name: Short name (``fee``, ``limit``, ``time``, ``steps``).
        asked: How a question asks about it.
        heading: How a section heading names it.
        said: How a passage's sentence, row or list item speaks of it.
    """

    name: str
    asked: re.Pattern[str]
    heading: re.Pattern[str]
    said: re.Pattern[str]


def _words(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


ASPECTS: tuple[Aspect, ...] = (
    Aspect(
        "fee",
        asked=_words(
            r"\b(?:fees?|costs?|costing|charged?|charges|charging|price[sd]?|pricing)\b",
            r"\b(?:commission|surcharge|markup|expensive|cheap(?:er|est)?|free)\b",
            r"\bpay (?:anything|extra|for)\b",
            r"\bhow much (?:is|are|does|do|will|would)\b(?!.*\b(?:can|could|may)\b)",
        ),
        heading=_words(r"\b(?:fees?|costs?|charges?|pric(?:e|es|ing)|what it costs)\b"),
        said=_words(
            r"\b(?:fees?|costs?|charged?|charges|free|no charge|markup|commission|surcharge)\b",
            r"\d(?:\.\d+)?\s?%",
        ),
    ),
    Aspect(
        "limit",
        asked=_words(
            r"\b(?:limits?|limited|maximum|max|minimum|min|cap|capped|at most|at least)\b",
            r"\bthe (?:most|least)\b",
            r"\bhow (?:much|many|often)\b.{0,40}\b(?:can|may|could) (?:i|you|we)\b",
            r"\b(?:per|a|each) (?:day|week|month|year|transaction|transfer|withdrawal)\b",
            r"\b(?:daily|monthly)\b",
        ),
        heading=_words(r"\b(?:limits?|maximum|minimum|how much you can)\b"),
        said=_words(
            r"\b(?:limits?|maximum|minimum|up to|at most|no more than)\b",
            r"\bper (?:day|week|month|year|transaction|transfer|top-up|withdrawal|check)\b",
            r"\b(?:daily|monthly)\b",
        ),
    ),
    Aspect(
        "time",
        asked=_words(
            r"\bhow (?:long|quickly|fast|soon)\b",
            r"\bwhen (?:will|would|does|do|should|can)\b",
            r"\b(?:arrive|arrives|arrival|arriving|timing|time ?frame|delay(?:ed)?)\b",
            r"\b(?:take|takes|taking) to (?:arrive|reach|land|clear|show|come)\b",
            r"\bhow many (?:days|hours|minutes|weeks)\b",
            r"\b(?:business days?|weekends?)\b",
        ),
        heading=_words(r"\b(?:how long|timing|times?|arriv\w*|when\b|delivery)\b"),
        said=_words(
            r"\d\s*(?:business |working |calendar )?(?:days?|hours?|minutes?|seconds|weeks?)\b",
            r"\b(?:business days?|instantly|immediately|same (?:business )?day|next day)\b",
            r"\b(?:arrives?|arrival|cut-off|takes? up to)\b",
        ),
    ),
    Aspect(
        "steps",
        asked=_words(
            r"\bhow (?:do|can|could|should|would) (?:i|you|we)\b(?! (?:know|tell))",
            r"\bhow to\b",
            r"\b(?:steps?|where (?:do|can) i|walk me through|set up|sign up)\b",
        ),
        heading=_words(r"\b(?:how to|how do|steps?|in the app|set(?:ting)? up|get started)\b"),
        said=_words(
            r"^\s*\d+\.\s",
            r"\b(?:go to|tap|open|choose|select|enter|follow)\b",
            r"\*\*[^*]+>[^*]+\*\*",
        ),
    ),
)
_BY_NAME = {a.name: a for a in ASPECTS}


def asked_aspects(question: str) -> tuple[str, ...]:
    """The aspects a question asks about, by name, in :data:`ASPECTS` order (maybe none).

    "How do I …" asks for steps only when nothing more specific is asked: "how do I avoid the
    fee" is a fee question, "how do I send money abroad" a how-to.
    """
    found = [a.name for a in ASPECTS if a.asked.search(question)]
    if "steps" in found and len(found) > 1:
        found.remove("steps")
    return tuple(found)


_DELIMITER = re.compile(r"\|?[\s:|-]+\|?")
_ITEM = re.compile(r"^(?:[-*]|\d+\.)\s")


def _units(body: str) -> list[tuple[str, str]]:
    """A passage's sentences, table rows and list items, each with its table's header row.

    A table row is paired with its table's header row ("" for prose and for the header row
    itself); delimiter rows are dropped.
    """
    units: list[tuple[str, str]] = []
    header = ""
    for raw in body.splitlines():
        line = raw.strip()
        if not line:
            header = ""
        elif _DELIMITER.fullmatch(line):
            if units and units[-1][0].startswith("|"):
                header = units[-1][0]
        elif line.startswith("|"):
            units.append((line, header))
        else:
            header = ""
            if _ITEM.match(line):
                units.append((line, ""))
            else:
                units += [(s, "") for s in re.split(r"(?<=[.!?])\s+", line) if s]
    return units


def coverage(heading: str, body: str, aspect: str) -> float:
    """How far a passage covers ``aspect``, from 0 to 1.

    A heading that names the aspect covers it in full; otherwise twice the share of the
    passage's sentences, rows and items that speak of it, at most 1 (half of them is a passage
    about it). A table counts through its header row too: a column headed "Fee" puts every row
    on fees.
    """
    found = _BY_NAME[aspect]
    if heading and found.heading.search(heading):
        return 1.0
    units = _units(body)
    if not units:
        return 0.0
    spoken = sum(
        bool(found.said.search(unit) or (header and found.said.search(header)))
        for unit, header in units
    )
    return min(1.0, 2.0 * spoken / len(units))


def headed_with(heading: str) -> tuple[str, ...]:
    """The aspects a section's heading names, by name."""
    return tuple(a.name for a in ASPECTS if heading and a.heading.search(heading))


def passage_score(similarity: float, heading: str, body: str, aspects: Iterable[str]) -> float:
    """The passage's similarity to the question, moved by the aspects asked.

    Plus its best coverage of an asked aspect, and :data:`HEADED_SHARE` more when its heading
    names an asked aspect; minus, for the part it does not cover, when its heading names only
    aspects that were not asked (a *Limits* section for a fee question).
    """
    asked = tuple(aspects)
    if not asked:
        return similarity
    covered = max(coverage(heading, body, a) for a in asked)
    named = headed_with(heading)
    headed = HEADED_SHARE if set(named) & set(asked) else 0.0
    elsewhere = 1.0 if named and not set(named) & set(asked) else 0.0
    return similarity + ASPECT_WEIGHT * (covered + headed - (1.0 - covered) * elsewhere)
