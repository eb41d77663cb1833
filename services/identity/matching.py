"""Probabilistic record linkage: blocking, comparison vectors and Fellegi–Sunter weights.

Records from different systems are compared field by field; each field's agreement level has a
probability among true matches (m) and among non-matches (u), estimated by expectation-
maximisation on the candidate pairs (Fellegi & Sunter 1969; Winkler 1988). A pair's weight is
the sum of log2(m/u) over its fields, and its match probability follows from the estimated
share of matches. Blocking compares only records that share a cheap key, far from O(n²).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import jellyfish
import numpy as np
from nicknames import NickNamer
from rapidfuzz.distance import JaroWinkler

from services.identity.keys import fold

_ABBREVIATIONS = {
    "street": "st",
    "avenue": "ave",
    "av": "ave",
    "road": "rd",
    "suite": "ste",
    "apartment": "apt",
    "boulevard": "blvd",
    "drive": "dr",
    "lane": "ln",
    "court": "ct",
    "place": "pl",
    "square": "sq",
    "terrace": "ter",
    "highway": "hwy",
    "parkway": "pkwy",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
    "unit": "apt",
    "number": "no",
}
MAX_BLOCK = 60  # a block bigger than this is too common a key to compare all within


@dataclass(frozen=True, slots=True)
class Record:
    """One system's view of a person, normalised for comparison."""

    key: str  # "core:<id>", "crm:<id>", "digital:<login>"
    first: str = ""
    last: str = ""
    dob: date | None = None
    email: str | None = None
    phone: str | None = None
    nid_hash: str | None = None
    nid_last4: str | None = None
    street: str = ""
    postal: str = ""
    xref: str | None = None  # a cross-reference to another record's key


def normalise_street(street: str | None) -> str:
    """Street address with the usual abbreviations made uniform."""
    return " ".join(_ABBREVIATIONS.get(word, word) for word in fold(street).split())


@lru_cache(maxsize=65536)
def _names(first: str) -> frozenset[str]:
    """A first name with its nicknames and canonical forms."""
    namer = _namer()
    return frozenset({first} | namer.nicknames_of(first) | namer.canonicals_of(first))


@lru_cache(maxsize=1)
def _namer() -> NickNamer:
    return NickNamer()


def _similar(a: str, b: str) -> float:
    return JaroWinkler.similarity(a, b)


# Each comparison returns a level: 0 = disagree, higher = stronger agreement, -1 = missing.
def compare_first(a: str, b: str) -> int:
    """3 same, 2 nickname of each other, 1 close spelling, 0 different, -1 missing."""
    if not a or not b:
        return -1
    if a == b:
        return 3
    if b in _names(a) or a in _names(b):
        return 2
    return 1 if _similar(a, b) >= 0.9 else 0


def compare_last(a: str, b: str) -> int:
    """3 same, 2 one typo away, 1 similar, 0 different, -1 missing."""
    if not a or not b:
        return -1
    if a == b:
        return 3
    score = _similar(a, b)
    return 2 if score >= 0.92 else 1 if score >= 0.8 else 0


def compare_dob(a: date | None, b: date | None) -> int:
    """2 same day, 1 day and month swapped or one part off, 0 different, -1 missing."""
    if a is None or b is None:
        return -1
    if a == b:
        return 2
    swapped = (a.year, a.month, a.day) == (b.year, b.day, b.month)
    one_off = sum(x != y for x, y in ((a.year, b.year), (a.month, b.month), (a.day, b.day))) == 1
    return 1 if swapped or one_off else 0


def compare_exact(a: str | None, b: str | None) -> int:
    """1 equal, 0 different, -1 missing."""
    if not a or not b:
        return -1
    return int(a == b)


def compare_street(a: str, b: str) -> int:
    """2 same, 1 similar, 0 different, -1 missing."""
    if not a or not b:
        return -1
    if a == b:
        return 2
    return 1 if _similar(a, b) >= 0.88 else 0


def compare_email_user(a: str | None, b: str | None) -> int:
    """1 same mailbox name at different providers, 0 different, -1 missing."""
    if not a or not b:
        return -1
    return int(a.split("@")[0] == b.split("@")[0])


FIELDS: tuple[tuple[str, int], ...] = (  # field name, number of agreement levels
    ("first", 4),
    ("last", 4),
    ("dob", 3),
    ("street", 3),
    ("postal", 2),
    ("phone", 2),
    ("email_user", 2),
    ("nid_last4", 2),
)


def comparison(a: Record, b: Record) -> tuple[int, ...]:
    """The agreement level of each field in ``FIELDS`` for a pair of records."""
    return (
        compare_first(a.first, b.first),
        compare_last(a.last, b.last),
        compare_dob(a.dob, b.dob),
        compare_street(a.street, b.street),
        compare_exact(a.postal, b.postal),
        compare_exact(a.phone, b.phone),
        compare_email_user(a.email, b.email),
        compare_exact(a.nid_last4, b.nid_last4),
    )


def block_keys(r: Record) -> list[str]:
    """Cheap keys; only records sharing one are compared."""
    keys = []
    last = r.last.replace(" ", "")
    if last:
        sound = jellyfish.metaphone(last)[:4]
        if r.dob:
            keys.append(f"ly:{sound}:{r.dob.year}")
        if r.postal:
            keys.append(f"lp:{sound}:{r.postal}")
    if r.first and r.postal:
        keys.append(f"fp:{r.first[:2]}:{r.postal}")
    if r.phone:
        keys.append(f"ph:{r.phone[-7:]}")
    if r.dob and r.first:
        keys.append(f"fd:{r.first[:1]}:{r.dob.isoformat()}")
    if r.email:
        keys.append(f"em:{re.sub(r'[^a-z]', '', r.email.split('@')[0])[:8]}")
    return keys


def candidate_pairs(records: list[Record]) -> set[tuple[int, int]]:
    """Index pairs of records that share a blocking key (never two digital logins)."""
    blocks: dict[str, list[int]] = defaultdict(list)
    for i, record in enumerate(records):
        for key in block_keys(record):
            blocks[key].append(i)
    pairs: set[tuple[int, int]] = set()
    for members in blocks.values():
        if len(members) < 2 or len(members) > MAX_BLOCK:
            continue
        for x, i in enumerate(members):
            for j in members[x + 1 :]:
                pairs.add((i, j) if i < j else (j, i))
    return pairs


@dataclass
class Model:
    """Estimated m and u probabilities per field level, and the share of matching pairs."""

    m: list[np.ndarray]
    u: list[np.ndarray]
    prior: float

    def weight(self, levels: Iterable[int]) -> float:
        """Sum of log2(m/u) over the fields that are present."""
        total = 0.0
        for f, level in enumerate(levels):
            if level >= 0:
                total += math.log2(self.m[f][level] / self.u[f][level])
        return total

    def probability(self, levels: Iterable[int]) -> float:
        """Posterior probability that the pair is a match."""
        odds = self.prior / (1 - self.prior) * 2 ** self.weight(levels)
        return odds / (1 + odds)


def estimate(vectors: np.ndarray, iterations: int = 30) -> Model:
    """Fit m, u and the match share by EM under conditional independence (missing = no vote)."""
    n_fields = vectors.shape[1]
    sizes = [levels for _, levels in FIELDS]
    m = [np.linspace(0.05, 1.0, k) ** 2 for k in sizes]  # matches mostly agree...
    u = [np.linspace(1.0, 0.05, k) ** 2 for k in sizes]  # ...non-matches mostly do not
    m = [x / x.sum() for x in m]
    u = [x / x.sum() for x in u]
    prior = 0.1
    if len(vectors) == 0:
        return Model(m, u, prior)
    for _ in range(iterations):
        log_m = np.full(len(vectors), math.log(prior))
        log_u = np.full(len(vectors), math.log(1 - prior))
        for f in range(n_fields):
            col = vectors[:, f]
            present = col >= 0
            log_m[present] += np.log(m[f][col[present]])
            log_u[present] += np.log(u[f][col[present]])
        g = 1 / (1 + np.exp(np.clip(log_u - log_m, -50, 50)))  # P(match | vector)
        prior = float(np.clip(g.mean(), 1e-4, 1 - 1e-4))
        for f in range(n_fields):
            col = vectors[:, f]
            present = col >= 0
            for level in range(sizes[f]):
                hit = present & (col == level)
                m[f][level] = (g[hit].sum() + 0.5) / (g[present].sum() + 0.5 * sizes[f])
                u[f][level] = ((1 - g[hit]).sum() + 0.5) / ((1 - g[present]).sum() + 0.5 * sizes[f])
    return Model(m, u, prior)
