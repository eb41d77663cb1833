import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from app.auth import Principal, Role, TokenError, issue_token, read_token

KEY = "unit-test-key"
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _token(**kwargs: object) -> str:
    args: dict[str, object] = {"person_id": 42, "role": "customer", "key": KEY, "now": NOW}
    args["ttl"] = timedelta(minutes=30)
    args.update(kwargs)
    return issue_token(**args)  # type: ignore[arg-type]


def _resign(claims: object) -> str:
    # Build a token whose payload is arbitrary but correctly signed, via the module's own signer.
    from app.auth import _b64encode, _sign

    payload = _b64encode(json.dumps(claims).encode())
    return f"{payload}.{_sign(payload, KEY)}"


def test_round_trip() -> None:
    principal = read_token(_token(), key=KEY, now=NOW + timedelta(minutes=29))
    assert principal == Principal(
        person_id=42, role=Role.customer, expires_at=NOW + timedelta(minutes=30)
    )


def test_advisor_role_round_trips() -> None:
    assert read_token(_token(role=Role.advisor), key=KEY, now=NOW).role is Role.advisor


def test_expired_token_is_refused() -> None:
    token = _token()
    with pytest.raises(TokenError, match="token expired"):
        read_token(token, key=KEY, now=NOW + timedelta(minutes=30))


def test_negative_ttl_yields_expired_token() -> None:
    with pytest.raises(TokenError, match="token expired"):
        read_token(_token(ttl=timedelta(minutes=-1)), key=KEY, now=NOW)


def test_wrong_key_is_refused() -> None:
    with pytest.raises(TokenError, match="bad signature"):
        read_token(_token(), key="another-key", now=NOW)


def test_tampered_payload_is_refused() -> None:
    payload, signature = _token().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = 43
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(TokenError, match="bad signature"):
        read_token(f"{forged}.{signature}", key=KEY, now=NOW)


def test_tampered_signature_is_refused() -> None:
    payload, signature = _token().split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    with pytest.raises(TokenError, match="bad signature"):
        read_token(f"{payload}.{flipped}", key=KEY, now=NOW)


@pytest.mark.parametrize(
    "token",
    ["", "abc", "a.b.c", ".sig", "payload.", "é.é", "x" * 5000, "a b.c"],
)
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(TokenError):
        read_token(token, key=KEY, now=NOW)


@pytest.mark.parametrize(
    "claims",
    [
        [1, 2],
        {"sub": "42", "role": "customer", "exp": 2_000_000_000},
        {"sub": True, "role": "customer", "exp": 2_000_000_000},
        {"sub": 0, "role": "customer", "exp": 2_000_000_000},
        {"sub": 42, "role": "root", "exp": 2_000_000_000},
        {"sub": 42, "role": "customer", "exp": "soon"},
        {"sub": 42, "role": "customer", "exp": 10**30},
        {"role": "customer", "exp": 2_000_000_000},
    ],
)
def test_signed_but_malformed_claims_are_refused(claims: object) -> None:
    with pytest.raises(TokenError, match="malformed token"):
        read_token(_resign(claims), key=KEY, now=NOW)


@pytest.mark.parametrize("person_id", [0, -1, True, "42", None])
def test_issue_refuses_bad_person_ids(person_id: object) -> None:
    with pytest.raises(ValueError):
        _token(person_id=person_id)


def test_issue_refuses_unknown_role() -> None:
    with pytest.raises(ValueError):
        _token(role="teller")


def test_defaults_come_from_settings(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from services.settings import get_settings

    monkeypatch.setenv("CONCIERGE_SECRET_KEY", "from-env")
    monkeypatch.setenv("CONCIERGE_TOKEN_TTL_MINUTES", "5")
    monkeypatch.setenv("CONCIERGE_VAR_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        token = issue_token(person_id=7, role="customer", now=NOW)
        assert read_token(token, key="from-env", now=NOW).expires_at == NOW + timedelta(minutes=5)
        assert read_token(token, now=NOW).person_id == 7
    finally:
        get_settings.cache_clear()
