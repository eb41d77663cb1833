"""Which of the customer's own accounts and cards a message names.

By type words ("checking", "my savings account", "current account"), by the account's name or
a part of it ("Rainy Day", "everyday") and by last four digits ("ending 4821", "...4821").
Only accounts and cards passed in can come back; a last four that is none of them gives nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from agents.context import AccountRef, CardRef
from agents.offline.slots.match import MARGIN, THRESHOLD, rank
from agents.offline.slots.text import normalise

TYPE_SCORE = 0.8  # below a full name (1.0), above a part of a name (about 0.75)
LAST4_SCORE = 1.0


# Most specific first: a phrase is blanked out once used, so "line of credit" is not "credit".
_ACCOUNT_TYPES: tuple[tuple[str, str], ...] = (
    ("line_of_credit", r"line\s+of\s+credit|credit\s+line|heloc|loc"),
    ("credit_card", r"credit\s+cards?|cc|visa|mastercard|amex"),
    ("business_checking", r"business(?:\s+(?:checking|chequing|account))?"),
    ("personal_loan", r"personal\s+loan"),
    ("term_deposit", r"term\s+deposits?|cds?|certificates?(?:\s+of\s+deposit)?|fixed\s+deposit"),
    ("mortgage", r"mortgage|home\s+loan"),
    ("checking", r"checking|chequing|cheque\s+account|current\s+account|main\s+account"),
    ("checking", r"spending\s+account|transaction\s+account|debit\s+account"),
    ("savings", r"savings|saving\s+account|saver"),
    ("investment", r"investments?|investing|brokerage|portfolio|stocks"),
    ("credit_card", r"credit"),
    ("personal_loan", r"loan"),
)
_CARD_TYPES: tuple[tuple[str, str], ...] = (
    ("credit", r"credit(?:\s+card)?|cc"),
    ("debit", r"debit(?:\s+card)?|atm\s+card|bank\s+card|check\s+card|cash\s+card"),
    ("prepaid", r"prepaid(?:\s+card)?"),
)
# Type words are scored as types, not as parts of names.
_TYPE_WORDS = frozenset(
    """account acct card cards checking chequing savings saving credit loan line mortgage
    deposit investment investments business current main""".split()
)
_LAST4_CUE = re.compile(
    r"(?:end(?:ing|s)?(?:\s+(?:in|with|on))?|last\s+(?:four|4)(?:\s+digits)?(?:\s+(?:is|are|of))?"
    r"|\.\.\.|x+|\*+|#|no\.?|number|account|acct|card|one)\s*[:-]?\s*(?P<d>\d{4})(?![\d.,])"
)
_ONLY_FOUR = re.compile(r"\W*(?P<d>\d{4})\W*")


def _types_named(text: str, table: Sequence[tuple[str, str]]) -> tuple[set[str], str]:
    """The types ``text`` names, and the text with those words blanked out."""
    named: set[str] = set()
    for kind, pattern in table:
        regex = re.compile(rf"\b(?:{pattern})\b")
        if regex.search(text):
            named.add(kind)
            text = regex.sub(" ", text)
    return named, text


def _last4(text: str, known: set[str]) -> tuple[set[str], bool]:
    """Last fours named in ``text`` that are in ``known``; and whether one was named at all."""
    cued = {m.group("d") for m in _LAST4_CUE.finditer(text)}
    alone = _ONLY_FOUR.fullmatch(text)
    if alone:
        cued.add(alone.group("d"))
    return cued & known, bool(cued)


def _prune(scores: dict[str, float]) -> list[tuple[str, float]]:
    if not scores:
        return []
    top = max(scores.values())
    floor = max(THRESHOLD, round(top - MARGIN, 3))
    kept = [(ref, s) for ref, s in scores.items() if s >= floor]
    return sorted(kept, key=lambda pair: -pair[1])


def match_account(text: str, accounts: Sequence[AccountRef]) -> list[tuple[str, float]]:
    """The customer's accounts that ``text`` names, best first, with scores 0..1.

    "checking", "my savings account", "current account" (checking), "the credit card",
    "Rainy Day" or "everyday" (part of an account's name), "ending 4821" or "...4821". Two
    accounts of the named type both come back, so the caller can ask. A last four that is
    none of the accounts' gives nothing (it is somebody else's account).

    Returns:
        (ref, score) pairs, only refs from ``accounts``.
    """
    norm = normalise(text)
    matched, cued = _last4(norm, {a.last4 for a in accounts})
    if matched:
        return [(a.ref, LAST4_SCORE) for a in accounts if a.last4 in matched]
    if cued:
        return []
    named, rest = _types_named(norm, _ACCOUNT_TYPES)
    known = {kind for kind, _ in _ACCOUNT_TYPES}
    scores: dict[str, float] = {}
    for account in accounts:
        own = account.type.replace("_", " ")
        if account.type in named or (
            account.type not in known and re.search(rf"\b{re.escape(own)}\b", rest)
        ):
            scores[account.ref] = TYPE_SCORE
    names = ((a.ref, a.name) for a in accounts)
    for ref, score in rank(norm, names, people=False, extra_stopwords=_TYPE_WORDS):
        # Named by type and by name ("my vacation savings") beats either alone.
        scores[ref] = round(1 - (1 - score) * (1 - scores.get(ref, 0.0)), 3)
    return _prune(scores)


_FROM = r"\b(?:from|out\s+of|off\s+of|off)\b"
_TO = r"\b(?:to|into|onto|towards?|(?<!ending\s)(?<!ends\s)in)\b"
_MARKER = re.compile(rf"(?P<from>{_FROM})|(?P<to>{_TO})")


def _merge(into: dict[str, float], found: list[tuple[str, float]]) -> None:
    for ref, score in found:
        into[ref] = max(score, into.get(ref, 0.0))


def match_transfer_accounts(
    text: str, accounts: Sequence[AccountRef]
) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """The accounts a transfer is from and to, each as candidates best first.

    "move 200 from everyday to savings", "put 50 into rainy day" (no source named),
    "transfer 100 to my savings from checking", "move savings to checking" (the account
    before "to" is the source when no "from" is said).

    Returns:
        (from candidates, to candidates), each a list like :func:`match_account`'s.
    """
    norm = normalise(text)
    marks = list(_MARKER.finditer(norm))
    ends = [m.start() for m in marks[1:]] + [len(norm)] if marks else []
    sources: dict[str, float] = {}
    targets: dict[str, float] = {}
    for mark, end in zip(marks, ends, strict=True):
        found = match_account(norm[mark.end() : end], accounts)
        _merge(sources if mark.group("from") else targets, found)
    head = norm[: marks[0].start()] if marks else norm
    if not sources and head.strip():
        _merge(sources, match_account(head, accounts))
    source, target = _prune(sources), _prune(targets)
    # One account can't be both ends: "from savings to rainy day" leaves the other savings.
    if len(target) == 1 and len(source) > 1:
        source = [pair for pair in source if pair[0] != target[0][0]]
    if len(source) == 1 and len(target) > 1:
        target = [pair for pair in target if pair[0] != source[0][0]]
    return source, target


def match_card(text: str, cards: Sequence[CardRef]) -> list[tuple[str, float]]:
    """The customer's cards that ``text`` names, best first, with scores 0..1.

    "card ending 4821" (1.0), "my debit card" or "the credit card" (0.8 each card of that
    type), or just "my card" (0.6 each card, so a single card is found and several are asked
    about). A type or last four the customer has no card of gives nothing.
    """
    norm = normalise(text)
    matched, cued = _last4(norm, {c.last4 for c in cards})
    if matched:
        return [(c.ref, LAST4_SCORE) for c in cards if c.last4 in matched]
    if cued:
        return []
    named, _ = _types_named(norm, _CARD_TYPES)
    if named:
        return [(c.ref, TYPE_SCORE) for c in cards if c.type in named]
    if re.search(r"\bcards?\b", norm):
        return [(c.ref, THRESHOLD) for c in cards]
    return []
