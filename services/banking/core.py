"""What every customer write shares: errors, results, idempotency, locking and audit.

A write runs inside the caller's transaction (``with engine.begin() as conn``) in two phases:
checks, then changes. A check that fails raises :class:`NotFound` or :class:`Refused` before
anything is written (the idempotency claim is withdrawn too), so nothing changes even if the
caller commits anyway. Concurrency: the first statement claims the idempotency key (on SQLite
that takes the database's single write lock, serialising writers), then the customer's person
row and the accounts touched are locked in id order on PostgreSQL, so balance checks and the
daily limit see every earlier write of that customer. The locks are ``FOR NO KEY UPDATE``:
rows that reference a person or account (the claim, ledger rows) take ``KEY SHARE`` locks on
it, which ``FOR UPDATE`` would wait on and deadlock with.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import SQLModel

from services.audit import append_audit
from services.money import MAX_MINOR

_T = SQLModel.metadata.tables
KEY_MAX = 100


class BankingError(Exception):
    """A write that was not carried out: nothing changed."""


class NotFound(BankingError, LookupError):
    """No such record for this customer (the same whether it is missing or someone else's)."""

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(f"We couldn't find that {what}.")


class Refused(BankingError):
    """The bank will not do this; ``reason`` tells the customer why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class IdempotencyConflict(BankingError):
    """The idempotency key was already used by this customer for a different request."""


@dataclass(frozen=True)
class WriteResult:
    """What a write did, for the customer (``summary``) and for the caller (``ids``).

    ``kind`` is the write's kind in the evaluation vocabulary (``transfer``, ``payment``,
    ``schedule``...); ``reference`` is shared by every ledger row the write booked;
    ``replayed`` is true when an earlier identical request's stored result is returned.
    """

    kind: str
    summary: str
    ids: dict[str, int] = field(default_factory=dict)
    reference: str | None = None
    replayed: bool = False

    def to_json(self) -> dict[str, Any]:
        """The stored form (without ``replayed``)."""
        return {
            "kind": self.kind,
            "summary": self.summary,
            "ids": dict(self.ids),
            "reference": self.reference,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, replayed: bool = False) -> WriteResult:
        """Rebuild a stored result."""
        return cls(
            kind=str(data["kind"]),
            summary=str(data["summary"]),
            ids={str(k): int(v) for k, v in dict(data.get("ids") or {}).items()},
            reference=data.get("reference"),
            replayed=replayed,
        )


@dataclass(frozen=True)
class Write:
    """One write in progress: who, when, and its claimed request row."""

    conn: Connection
    person_id: int
    now: datetime
    request_id: int

    @property
    def reference(self) -> str:
        """The customer-visible reference of this write, e.g. ``CW00000042``."""
        return f"CW{self.request_id:08d}"


@cache
def _statements(dialect: str) -> dict[str, Any]:
    """The statements every write runs, built once per database kind and reused."""
    people, requests = _T["person"], _T["write_request"]
    who = people.c.id == bindparam("b_person")
    target = ["person_id", "idempotency_key"]
    claim: Any
    if dialect == "postgresql":
        # Waits for a concurrent claim of the same key to commit, then does nothing.
        claim = postgresql.insert(requests).on_conflict_do_nothing(index_elements=target)
    elif dialect == "sqlite":
        claim = sqlite.insert(requests).on_conflict_do_nothing(index_elements=target)
    else:
        claim = insert(requests)
    return {
        "person": select(people.c.id).where(who),
        "lock_person": select(people.c.id).where(who).with_for_update(key_share=True),
        "claim": claim.returning(requests.c.id),
        "result": update(requests)
        .where(requests.c.id == bindparam("b_request"))
        .values(result=bindparam("b_result", type_=requests.c.result.type)),
    }


def execute(
    conn: Connection,
    *,
    person_id: int,
    kind: str,
    idempotency_key: str,
    now: datetime,
    request: Mapping[str, Any],
    resource: str,
    resource_key: str,
    body: Callable[[Write], WriteResult],
    actor: str | None = None,
) -> WriteResult:
    """Run ``body`` once per (customer, idempotency key); replay its stored result after that.

    ``actor`` is who the audit log names (the customer unless an advisor acted).

    Raises:
        NotFound: the customer, or a record ``body`` looks up, is not this customer's.
        Refused: ``body`` refused (nothing was written).
        IdempotencyConflict: the key was used for a different request.
        ValueError: ``now`` is naive or the key is empty or too long (caller errors).
    """
    now = aware_utc(now)
    if not isinstance(idempotency_key, str) or not 0 < len(idempotency_key) <= KEY_MAX:
        raise ValueError(f"idempotency_key must be 1 to {KEY_MAX} characters")
    check_id(person_id, "customer")
    q = _statements(conn.dialect.name)
    if conn.execute(q["person"], {"b_person": person_id}).first() is None:
        raise NotFound("customer")
    canonical = json.dumps({"kind": kind, **request}, sort_keys=True, default=str)
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    request_id = _claim(
        conn,
        person_id=person_id,
        key=idempotency_key,
        kind=kind,
        digest=digest,
        request=json.loads(canonical),
        now=now,
    )
    if request_id is None:
        return _replay(conn, person_id=person_id, key=idempotency_key, kind=kind, digest=digest)
    write = Write(conn, person_id, now, request_id)
    try:
        conn.execute(q["lock_person"], {"b_person": person_id})
        result = body(write)
    except BankingError:
        # Checks run before changes, so withdrawing the claim leaves the bank as it was.
        conn.execute(delete(_T["write_request"]).where(_T["write_request"].c.id == request_id))
        raise
    conn.execute(q["result"], {"b_request": request_id, "b_result": result.to_json()})
    detail = {"idempotency_key": idempotency_key, "reference": result.reference, **result.ids}
    append_audit(
        conn,
        occurred_at=now,
        actor=actor or f"customer:{person_id}",
        action=kind,
        resource=resource,
        resource_id=str(result.ids.get(resource_key, "")) or None,
        outcome="success",
        # the key names the conversation and the tool call the write came from
        origin=f"request:{idempotency_key}",
        detail=json.dumps(detail, sort_keys=True)[:500],
    )
    return result


def _claim(
    conn: Connection,
    *,
    person_id: int,
    key: str,
    kind: str,
    digest: str,
    request: dict[str, Any],
    now: datetime,
) -> int | None:
    """Insert the request row; ``None`` when this customer already used ``key``."""
    values = {
        "person_id": person_id,
        "idempotency_key": key,
        "kind": kind,
        "request_hash": digest,
        "request": request,
        "result": None,
        "created_at": now,
    }
    found = conn.execute(_statements(conn.dialect.name)["claim"], values).scalar()
    return None if found is None else int(found)


def _replay(conn: Connection, *, person_id: int, key: str, kind: str, digest: str) -> WriteResult:
    table = _T["write_request"]
    row = conn.execute(
        select(table.c.kind, table.c.request_hash, table.c.result).where(
            table.c.person_id == person_id, table.c.idempotency_key == key
        )
    ).one()
    if row.kind != kind or row.request_hash != digest:
        raise IdempotencyConflict(
            "This request id was already used for a different request; nothing was done."
        )
    if row.result is None:
        raise IdempotencyConflict("This request is still being carried out.")
    return WriteResult.from_json(row.result, replayed=True)


# --- the caller's arguments ---------------------------------------------------------------------


def aware_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; naive datetimes are a caller error."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return moment.astimezone(UTC)


def check_id(value: object, what: str) -> int:
    """An id as the database can hold it; anything else cannot be this customer's record."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_MINOR:
        raise NotFound(what)
    return value
