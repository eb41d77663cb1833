"""Text helpers shared by the slot extractors: normalising, tokens, numbers written as words.

Everything here is pure and deterministic; the public API is :mod:`agents.offline.slots`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

UNITS: dict[str, int] = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
}
TEENS: dict[str, int] = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
TENS: dict[str, int] = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fourty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
SCALES: dict[str, int] = {"thousand": 1_000, "grand": 1_000, "million": 1_000_000}
NUMBER_WORDS = frozenset(UNITS) | frozenset(TEENS) | frozenset(TENS) | {"hundred"} | set(SCALES)
NUMBER_WORDS |= {"couple"}
_BY_COUPLES = {"hundred"} | set(SCALES)

MONTHS: dict[str, int] = {
    "january": 1,
    "jan": 1,
    "february": 2,
    "feb": 2,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "may": 5,
    "june": 6,
    "jun": 6,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sept": 9,
    "sep": 9,
    "october": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
}
# Longest first, so that "march" wins over "mar" in an alternation.
MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))

_TOKEN = re.compile(r"[a-z]+|\d+(?:[.,]\d+)*|\S")


@dataclass(frozen=True)
class Token:
    """One word, number or symbol of normalised text, with its character span."""

    text: str
    start: int
    end: int


def normalise(text: str) -> str:
    """Lower-case, accent-free text with typographic quotes and ellipses made plain.

    The result has the same meaning as the input and is what every extractor matches against.
    """
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u2026", "...")
    text = text.replace("\u2013", "-").replace("\u2014", " - ").replace("\u00a0", " ")
    decomposed = unicodedata.normalize("NFKD", text)
    # Keep currency symbols (NFKD leaves them alone) but drop combining accents.
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return plain.lower()


def tokens(text: str) -> list[Token]:
    """Words, digit runs and single symbols of already normalised ``text``."""
    return [Token(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def words_to_int(words: list[str]) -> tuple[int, int] | None:
    """Read a number written in words from the start of ``words``.

    Understands "twenty five", "a hundred and fifty", "two thousand five hundred", "two grand"
    and the spoken "one fifty" (150). Stops at the first word that cannot continue the number.

    Args:
        words: lower-case words, hyphenated numbers already split ("twenty", "five").

    Returns:
        The value and how many words it used, or None when ``words`` does not start a number.
    """
    total = current = used = 0
    last = ""
    i = 0
    while i < len(words):
        word = words[i]
        nxt = words[i + 1] if i + 1 < len(words) else ""
        after = words[i + 2] if i + 2 < len(words) else ""
        if word in ("a", "an") and not last and (nxt == "hundred" or nxt in SCALES):
            current, last = 1, "a"
        elif word in ("a", "an") and not last and nxt == "couple" and after in _BY_COUPLES:
            last = "a"  # "a couple hundred"
        elif word == "couple" and last in ("", "a") and nxt in _BY_COUPLES:
            current, last = 2, "unit"
        elif word == "and" and last in ("hundred", "scale") and nxt in NUMBER_WORDS:
            pass
        elif word in UNITS:
            if last in ("unit", "teen", "a"):
                break
            current += UNITS[word]
            last = "unit"
        elif word in TEENS:
            if last in ("unit", "teen", "tens", "a"):
                break
            current += TEENS[word]
            last = "teen"
        elif word in TENS:
            if last in ("unit", "teen") and current < 20:
                current = current * 100 + TENS[word]  # "one fifty" said for 150
            elif last in ("tens", "a"):
                break
            else:
                current += TENS[word]
            last = "tens"
        elif word == "hundred":
            if last == "hundred" or current >= 100:
                break
            current = (current or 1) * 100
            last = "hundred"
        elif word in SCALES:
            if last == "scale" and not current:
                break
            total += (current or 1) * SCALES[word]
            current = 0
            last = "scale"
        else:
            break
        i += 1
        if last != "a" and word != "and":
            used = i
    if not used:
        return None
    # Recompute on the words actually used: a trailing "a"/"and" must not count.
    if used < i:
        again = words_to_int(words[:used])
        return again
    return total + current, used


def number_at(text: str) -> int | None:
    """A whole number written with digits or words filling all of ``text`` ("12", "twelve")."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    if text in ("a", "an", "one"):
        return 1
    if re.fullmatch(r"(?:a\s+)?couple(?:\s+of)?", text):
        return 2
    words = re.split(r"[\s-]+", text)
    found = words_to_int(words)
    return found[0] if found and found[1] == len(words) else None
