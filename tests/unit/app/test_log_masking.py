"""Logs never carry personal data: account numbers (last four kept), e-mails, phones, tokens."""

from __future__ import annotations

import logging

import pytest

from app.auth import issue_token
from app.logging_setup import mask_personal_data
from app.main import create_app
from services.settings import Settings

TOKEN = issue_token(person_id=7, role="customer", key="log-key")
PERSONAL = {
    "account": "100000004821",
    "card": "4111 1111 1111 1234",
    "email": "maya.patel@example.com",
    "phone": "+15551234567",
    "phone_us": "(555) 123-4567",
    "token": TOKEN,
}


@pytest.fixture(autouse=True)
def _masking() -> None:
    create_app(Settings(secret_key="log-key"))  # the app's own setup installs the filter


def test_message_text_and_arguments_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("services.anything")
    with caplog.at_level(logging.INFO):
        log.info(
            "transfer from %s by %s (%s) with Authorization: Bearer %s",
            PERSONAL["account"],
            PERSONAL["email"],
            PERSONAL["phone"],
            TOKEN,
        )
        log.warning(f"card {PERSONAL['card']} of {PERSONAL['phone_us']}")
        log.info("GET /ws/chat?token=%s HTTP/1.1 %d", TOKEN, 101)
        log.info("account %d overdrawn", 100000004821)
        log.info("payload %s", {"email": PERSONAL["email"], "to": [PERSONAL["account"]]})
    logged = caplog.text + " ".join(r.getMessage() for r in caplog.records)
    for what, value in PERSONAL.items():
        assert value not in logged, what
    assert TOKEN.split(".")[0] not in logged and TOKEN.split(".")[1] not in logged
    assert "***4821" in logged and "***1234" in logged
    assert "Bearer ***" in logged and "token=***" in logged


def test_ordinary_log_lines_are_left_alone(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # uvicorn, once run in this process (the browser tests do), stops its loggers
    # propagating to the root, where caplog listens: listen on the access logger itself
    access_log = logging.getLogger("uvicorn.access")
    monkeypatch.setattr(access_log, "propagate", False)
    monkeypatch.setattr(access_log, "disabled", False)
    monkeypatch.setattr(access_log, "handlers", [*access_log.handlers, caplog.handler])
    with caplog.at_level(logging.INFO), caplog.at_level(logging.INFO, logger="uvicorn.access"):
        access_log.info(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", "/api/me/accounts", "1.1", 200
        )
        logging.getLogger("x").info("moved 1234.56 on 2026-03-02 in 12 ms")
    # a server thread of another test may log meanwhile: pick this test's two lines
    access = next(r for r in caplog.records if r.args and r.args[0] == "127.0.0.1:5000")
    plain = next(r for r in caplog.records if r.name == "x")
    assert access.args == ("127.0.0.1:5000", "GET", "/api/me/accounts", "1.1", 200)
    assert plain.getMessage() == "moved 1234.56 on 2026-03-02 in 12 ms"


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("acct 200000001234.", "acct ***1234."),
        ("mail a.b+c@bank.co.uk now", "mail ***@*** now"),
        ("call 555-123-4567", "call ***phone"),
        ("bearer abc.DEF-ghi", "bearer ***"),
    ],
)
def test_masking_rules(raw: str, masked: str) -> None:
    assert mask_personal_data(raw) == masked
