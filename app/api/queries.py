"""Reads and writes the delivery layer needs, as small functions with keyword-only arguments.

Every function that returns customer data takes the signed-in person's id and filters by it, so
a route cannot forget to scope a query.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from services.audit import append_audit
from services.models import Account, Credential, Person
from services.reads.accounts import account_rows


def get_person(session: Session, *, person_id: int) -> Person | None:
    """The person with ``person_id``, or ``None`` when there is none.

    Args:
        session: An open database session.
        person_id: The signed-in customer's id.
    """
    return session.get(Person, person_id)


def list_accounts(session: Session, *, person_id: int) -> Sequence[Account]:
    """Every account the person owns, oldest first, from the bank's one account query.

    Args:
        session: An open database session.
        person_id: The signed-in customer's id.
    """
    rows = account_rows(session.connection(), person_id=person_id)
    return [Account.model_validate(dict(r._mapping)) for r in rows]


def first_usernames(session: Session, *, limit: int) -> list[str]:
    """Usernames of the first customers by id, for the demo sign-in hint.

    Args:
        session: An open database session.
        limit: How many usernames to return at most.
    """
    statement = select(Credential.username).order_by(col(Credential.person_id)).limit(limit)
    return list(session.exec(statement).all())


def record_audit(
    session: Session,
    *,
    actor: str,
    action: str,
    resource: str,
    outcome: str,
    resource_id: str | None = None,
    origin: str | None = None,
    detail: str | None = None,
) -> None:
    """Append one entry to the audit log's hash chain and commit it.

    Args:
        session: An open database session.
        actor: Who acted, e.g. ``customer:42``, or the username tried on a failed sign-in.
        action: What they did, e.g. ``sign_in``.
        resource: What kind of thing it touched, e.g. ``session``.
        outcome: ``success``, ``failure`` or ``denied``.
        resource_id: Which one, when there is one.
        origin: Where the request came from (client address).
        detail: Anything else worth keeping (no secrets).
    """
    append_audit(
        session.connection(),
        actor=actor,
        action=action,
        resource=resource,
        resource_id=resource_id,
        outcome=outcome,
        origin=origin,
        detail=detail,
    )
    session.commit()
