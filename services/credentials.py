"""Sign-in credentials of customers and advisors: scrypt password hashes and lookup."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Literal

from sqlmodel import Session, select

from services.models import Advisor, Credential

_N, _R, _P = 2**14, 8, 1


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """Hash a password with scrypt; the result carries its parameters and salt."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Check ``password`` against a stored scrypt hash in constant time."""
    try:
        scheme, n, r, p, salt_hex, digest_hex = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(
            password.encode(),
            salt=bytes.fromhex(salt_hex),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(digest_hex) // 2,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest.hex(), digest_hex)


def authenticate(session: Session, *, username: str, password: str) -> int | None:
    """The person id for valid credentials, else ``None``."""
    credential = session.exec(
        select(Credential).where(Credential.username == username.strip().lower())
    ).first()
    if credential is None:
        # Spend the same work as a real check, so timing does not tell which usernames exist.
        verify_password(password, _DUMMY_HASH)
        return None
    if not verify_password(password, credential.password_hash):
        return None
    return credential.person_id


@dataclass(frozen=True)
class SignedIn:
    """Who valid credentials belong to: a customer (person id) or an advisor (advisor id)."""

    role: Literal["customer", "advisor"]
    id: int


def authenticate_any(session: Session, *, username: str, password: str) -> SignedIn | None:
    """The customer or advisor that valid credentials name, else ``None``.

    Customers' and advisors' usernames live in separate tables; a customer's is looked up
    first. Exactly one password check is spent whatever the outcome, so neither the reply nor
    its timing tells which usernames exist or whose they are.

    Args:
        session: An open database session.
        username: As typed; compared trimmed and lower-cased.
        password: As typed.
    """
    name = username.strip().lower()
    credential = session.exec(select(Credential).where(Credential.username == name)).first()
    if credential is not None:
        if verify_password(password, credential.password_hash):
            return SignedIn("customer", credential.person_id)
        return None
    advisor = session.exec(select(Advisor).where(Advisor.username == name)).first()
    if advisor is None or advisor.id is None:
        verify_password(password, _DUMMY_HASH)
        return None
    if not verify_password(password, advisor.password_hash):
        return None
    return SignedIn("advisor", advisor.id)


_DUMMY_HASH = hash_password("no such user", salt=b"\0" * 16)
