"""Refs: how the conversation names the customer's records (``acc-12``, ``payee-3``, ``card-5``).

A ref is only a handle. Every tool resolves it *and* checks that the record belongs to the
authenticated customer in the same query, so a ref typed or invented for someone else's record
finds nothing.
"""

from __future__ import annotations

import re

KINDS = {
    "acc": "account",
    "payee": "payee",
    "card": "card",
    "txn": "transaction",
    "sched": "scheduled payment",
    "goal": "goal",
}
_REF = re.compile(r"^(?P<kind>[a-z]+)-(?P<id>[1-9][0-9]{0,17})$")


class RefError(ValueError):
    """A ref that is malformed or names no record of this customer."""


def ref(kind: str, record_id: int) -> str:
    """The ref of record ``record_id`` of ``kind``."""
    if kind not in KINDS:
        raise ValueError(f"unknown ref kind {kind!r}")
    return f"{kind}-{int(record_id)}"


def parse_ref(value: str, kind: str) -> int:
    """The record id in ``value``, which must be a ref of ``kind``.

    Raises:
        RefError: when it is not one (a kind with no records, e.g. a made-up one, has no refs).
    """
    match = _REF.match(str(value).strip())
    if not match or kind not in KINDS or match["kind"] != kind:
        raise RefError(f"I couldn't find that {KINDS.get(kind, kind)}.")
    return int(match["id"])
