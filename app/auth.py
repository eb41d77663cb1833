"""Session tokens: a small JSON payload signed with HMAC-SHA256.

A token is ``<payload>.<signature>``, both base64url without padding. The payload names the
person, their role and an expiry (Unix seconds). The signature covers a fixed context prefix plus
the encoded payload, so a token cannot be replayed as some other signed value of this bank.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from services.settings import get_settings

_CONTEXT = b"concierge-session-v1."
_MAX_TOKEN_LENGTH = 4096  # far above any real token; refuse absurd input before doing work


class Role(StrEnum):
    """Who a session belongs to."""

    customer = "customer"
    advisor = "advisor"


class TokenError(ValueError):
    """A token that is malformed, wrongly signed or expired; the message says which."""


@dataclass(frozen=True)
class Principal:
    """The signed-in party a valid token names.

    Attributes:
        person_id: Id of the person (customer or advisor) the token was issued to.
        role: Whether they act as a customer or as an advisor.
        expires_at: When the token stops being accepted (UTC).
    """

    person_id: int
    role: Role
    expires_at: datetime


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    return base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True)


def _sign(payload: str, key: str) -> str:
    digest = hmac.new(key.encode("utf-8"), _CONTEXT + payload.encode("ascii"), hashlib.sha256)
    return _b64encode(digest.digest())


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def issue_token(
    *,
    person_id: int,
    role: Role | str,
    key: str | None = None,
    ttl: timedelta | None = None,
    now: datetime | None = None,
) -> str:
    """Sign a session token for one person.

    Args:
        person_id: The person the session belongs to (must be a positive id).
        role: ``"customer"`` or ``"advisor"``.
        key: Signing key; the configured ``secret_key`` (or ``var/secret.key``) when omitted.
        ttl: Lifetime; ``token_ttl_minutes`` from settings when omitted. A negative value
            yields an already expired token, which tests use.
        now: Issue time (UTC); the current time when omitted.

    Returns:
        The token text to send as ``Authorization: Bearer <token>``.

    Raises:
        ValueError: For a non-positive person id or an unknown role.
    """
    if isinstance(person_id, bool) or not isinstance(person_id, int) or person_id <= 0:
        raise ValueError(f"person_id must be a positive integer, not {person_id!r}")
    role = Role(role)
    if key is None or ttl is None:
        settings = get_settings()
        key = key if key is not None else settings.resolved_secret_key()
        ttl = ttl if ttl is not None else timedelta(minutes=settings.token_ttl_minutes)
    expires = int((_now(now) + ttl).timestamp())
    body = json.dumps(
        {"sub": person_id, "role": role.value, "exp": expires},
        separators=(",", ":"),
        sort_keys=True,
    )
    payload = _b64encode(body.encode("utf-8"))
    return f"{payload}.{_sign(payload, key)}"


def read_token(token: str, *, key: str | None = None, now: datetime | None = None) -> Principal:
    """Verify a session token and say whom it names.

    Args:
        token: The text after ``Bearer``.
        key: Signing key; the configured one when omitted.
        now: The time to check expiry against (UTC); the current time when omitted.

    Returns:
        The principal the token was issued to.

    Raises:
        TokenError: ``malformed token`` when it cannot be parsed, ``bad signature`` when it
            was not signed with ``key`` or was altered, ``token expired`` when past its expiry.
    """
    if not isinstance(token, str) or not token or len(token) > _MAX_TOKEN_LENGTH:
        raise TokenError("malformed token")
    parts = token.split(".")
    if len(parts) != 2 or not all(parts):
        raise TokenError("malformed token")
    payload, signature = parts
    if key is None:
        key = get_settings().resolved_secret_key()
    try:
        expected = _sign(payload, key)
    except UnicodeEncodeError:
        raise TokenError("malformed token") from None
    if not hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8")):
        raise TokenError("bad signature")
    # Only a payload this bank signed gets this far; still check its shape.
    try:
        claims = json.loads(_b64decode(payload))
    except (binascii.Error, ValueError):
        raise TokenError("malformed token") from None
    if not isinstance(claims, dict):
        raise TokenError("malformed token")
    person_id, role, expires = claims.get("sub"), claims.get("role"), claims.get("exp")
    if (
        not isinstance(person_id, int)
        or isinstance(person_id, bool)
        or person_id <= 0
        or not isinstance(expires, int)
        or isinstance(expires, bool)
        or role not in {r.value for r in Role}
    ):
        raise TokenError("malformed token")
    try:
        expires_at = datetime.fromtimestamp(expires, UTC)
    except (OverflowError, OSError, ValueError):
        raise TokenError("malformed token") from None
    if _now(now) >= expires_at:
        raise TokenError("token expired")
    return Principal(person_id=person_id, role=Role(role), expires_at=expires_at)
