"""``/ws/chat`` under hostile frames: every one gets a coded ``RUN_ERROR`` and the chat goes on.

Malformed and non-object JSON, wrong types, deep nesting, oversized frames, unicode junk, binary
frames and floods beyond the rate limit: each is answered with ``RUN_ERROR`` carrying a
``code`` and a message (never a traceback, never an ``internal`` error), and afterwards the same
connection still answers a normal question. ``tests/integration/app/api/test_ws_chat.py`` holds the
everyday errors (missing text, unknown type, the basic rate limit); these are the nasty ones.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession

import app.api.chat as chat
from app.auth import Role, issue_token
from app.main import create_app
from services.settings import Settings
from services.synth.writer import seed_bank

KEY = "ws-hostile-key"
CODES = {"bad_frame", "unknown_frame", "frame_too_large", "message_too_long", "rate_limited"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, classifier_dir: Path) -> Iterator[TestClient]:
    var = tmp_path_factory.mktemp("ws-hostile")
    settings = Settings(
        var_dir=var,
        database_url=f"sqlite:///{(var / 'bank.db').as_posix()}",
        secret_key=KEY,
        nlu_model=classifier_dir,
    )
    app = create_app(settings)
    with TestClient(app) as client:
        seed_bank(app.state.engine, customers=2, seed=4, as_of=date.today(), workers=1)
        yield client


@contextmanager
def _connect(client: TestClient) -> Iterator[WebSocketTestSession]:
    token = issue_token(person_id=1, role=Role.customer, key=KEY)
    with client.websocket_connect(f"/ws/chat?token={token}") as ws:
        assert ws.receive_json()["type"] == "STATE_SNAPSHOT"  # the chat is open
        yield ws


def _until(ws: WebSocketTestSession, last: set[str]) -> list[dict[str, Any]]:
    frames = []
    while True:
        frame = ws.receive_json()
        frames.append(frame)
        if frame["type"] in last:
            return frames


def _refused(ws: WebSocketTestSession) -> dict[str, Any]:
    frames = _until(ws, {"RUN_ERROR", "RUN_FINISHED"})
    error = frames[-1]
    assert error["type"] == "RUN_ERROR", frames
    assert error["code"] in CODES, error  # a precise code: never "internal"
    assert isinstance(error["message"], str) and error["message"]
    assert "Traceback" not in error["message"]
    # Refused before any run started: nothing was said to the assistant.
    assert [f["type"] for f in frames] == ["RUN_ERROR"], frames
    return error


def _still_answers(ws: WebSocketTestSession) -> None:
    ws.send_json({"type": "USER_MESSAGE", "threadId": "after", "text": "what's my balance"})
    frames = _until(ws, {"RUN_FINISHED", "RUN_ERROR"})
    assert frames[-1]["type"] == "RUN_FINISHED", frames
    reply = "".join(f["delta"] for f in frames if f["type"] == "TEXT_MESSAGE_CONTENT")
    assert "balance" in reply.lower()


HOSTILE = {
    # malformed JSON
    "truncated": ('{"type": "USER_MESSAGE", "threadId": "x", "text": "hi"', "bad_frame"),
    "single quotes": ("{'type': 'USER_MESSAGE'}", "bad_frame"),
    "trailing comma": ('{"type": "USER_MESSAGE", "threadId": "x", "text": "hi",}', "bad_frame"),
    "empty": ("", "bad_frame"),
    "whitespace": (" \n\t ", "bad_frame"),
    "deep nesting": ("[" * 3_900 + "]" * 3_900, "bad_frame"),
    "deep object": ('{"a":' * 1_300 + "1" + "}" * 1_300, "bad_frame"),
    # JSON, but not an object
    "array": ('[{"type": "USER_MESSAGE", "threadId": "x", "text": "hi"}]', "bad_frame"),
    "string": ('"USER_MESSAGE"', "bad_frame"),
    "number": ("42", "bad_frame"),
    "null": ("null", "bad_frame"),
    "true": ("true", "bad_frame"),
    "NaN": ("NaN", "bad_frame"),
    # wrong types
    "thread as number": ('{"type": "USER_MESSAGE", "threadId": 7, "text": "hi"}', "bad_frame"),
    "thread as object": ('{"type": "USER_MESSAGE", "threadId": {}, "text": "hi"}', "bad_frame"),
    "thread too long": (json.dumps({"type": "USER_MESSAGE", "threadId": "t" * 101}), "bad_frame"),
    "text as list": ('{"type": "USER_MESSAGE", "threadId": "x", "text": ["hi"]}', "bad_frame"),
    "text as NaN": ('{"type": "USER_MESSAGE", "threadId": "x", "text": NaN}', "bad_frame"),
    "text blank": ('{"type": "USER_MESSAGE", "threadId": "x", "text": " \\n "}', "bad_frame"),
    "type as list": ('{"type": ["USER_MESSAGE"], "threadId": "x", "text": "hi"}', "unknown_frame"),
    "type missing": ('{"threadId": "x", "text": "hi"}', "unknown_frame"),
    "approve as text": ('{"type": "CONFIRM", "threadId": "x", "approve": "yes"}', "bad_frame"),
    "approve as 1": ('{"type": "CONFIRM", "threadId": "x", "approve": 1}', "bad_frame"),
    # oversized
    "over the frame limit": (
        json.dumps({"type": "USER_MESSAGE", "threadId": "x", "text": "a" * chat.MAX_FRAME_BYTES}),
        "frame_too_large",
    ),
    "a megabyte": ("x" * 1_000_000, "frame_too_large"),
    "wide characters": (  # under the limit in characters, over it in bytes
        json.dumps(
            {"type": "USER_MESSAGE", "threadId": "x", "text": "\U0001f4b8" * 1_999},
            ensure_ascii=False,
        ),
        "frame_too_large",
    ),
    "escaped text too long": (
        json.dumps({"type": "USER_MESSAGE", "threadId": "x", "text": "\u00e9" * 1_400}),
        "frame_too_large",
    ),
    # unicode junk
    "lone surrogate": ('{"type": "USER_MESSAGE", "threadId": "x", "text": "\\ud800"}', "bad_frame"),
    "surrogate thread": (
        '{"type": "USER_MESSAGE", "threadId": "\\udfff", "text": "hi"}',
        "bad_frame",
    ),
    "NUL in text": ('{"type": "USER_MESSAGE", "threadId": "x", "text": "hi\\u0000"}', "bad_frame"),
    "NUL in thread": ('{"type": "USER_MESSAGE", "threadId": "\\u0000", "text": "hi"}', "bad_frame"),
    "BOM then JSON": ('\ufeff{"type": "USER_MESSAGE", "threadId": "x", "text": "hi"}', "bad_frame"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_frame_gets_a_coded_error_and_the_chat_goes_on(
    client: TestClient, name: str
) -> None:
    frame, code = HOSTILE[name]
    with _connect(client) as ws:
        ws.send_text(frame)
        assert _refused(ws)["code"] == code
        _still_answers(ws)


@pytest.mark.parametrize(
    "text",
    [
        "\u202e\u0645\u0631\u062d\u0628\u0627 $50 \u200b\u200d to \U0001f600\U0001f600",
        "Z\u0351\u0352\u0357\u0358\u035b\u0350 a\u0300\u0301\u0302\u0303 l\u0310\u0311go",
        "\u00bd of \u0663\u0660\u0660 \u20ac from \ufdfd \U0001d7cf\U0001d7ce\U0001d7ce",
        "\x1b[31mred\x1b[0m \x07 \x7f <script>alert(1)</script> {{7*7}} ${jndi:x}",
    ],
)
def test_unicode_junk_in_a_message_is_answered_not_crashed(client: TestClient, text: str) -> None:
    # Valid frames whose words are junk: the assistant answers (or asks), it never fails.
    with _connect(client) as ws:
        ws.send_json({"type": "USER_MESSAGE", "threadId": "junk", "text": text})
        frames = _until(ws, {"RUN_FINISHED", "RUN_ERROR", "CONFIRMATION_REQUIRED"})
        assert frames[-1]["type"] != "RUN_ERROR", frames[-1]
        if frames[-1]["type"] == "CONFIRMATION_REQUIRED":
            ws.send_json({"type": "CONFIRM", "threadId": "junk", "approve": False})
            _until(ws, {"RUN_FINISHED", "RUN_ERROR"})
        _still_answers(ws)


@pytest.mark.parametrize(
    "payload", [b"\x00\x01\x02", b'{"type": "USER_MESSAGE", "threadId": "x", "text": "hi"}', b""]
)
def test_a_binary_frame_gets_a_coded_error_and_the_chat_goes_on(
    client: TestClient, payload: bytes
) -> None:
    with _connect(client) as ws:
        ws.send_bytes(payload)
        assert _refused(ws)["code"] == "bad_frame"
        _still_answers(ws)


class _Clock:
    """The clock the chat's rate limit reads, moved by the test: a busy host cannot move it."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def monotonic(self) -> float:
        return self.now

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def test_a_flood_is_rate_limited_and_the_chat_recovers(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _Clock()
    monkeypatch.setattr(chat, "time", clock)
    monkeypatch.setattr(chat, "RATE", (5, 1.0))
    with _connect(client) as ws:
        for _ in range(200):  # far beyond the limit, all within one instant of the clock
            ws.send_text('{"type": "USER_MESSAGE", "threadId": "x", "text": 1}')
        codes = [_refused(ws)["code"] for _ in range(200)]
        assert codes[:5] == ["bad_frame"] * 5 and set(codes[5:]) == {"rate_limited"}
        clock.now += 1.1  # the window has passed
        _still_answers(ws)


def test_a_flood_of_hostile_frames_of_every_kind_leaves_the_chat_usable(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chat, "RATE", (10_000, 10.0))
    with _connect(client) as ws:
        for frame, _ in HOSTILE.values():
            ws.send_text(frame)
        for _ in range(3):
            ws.send_bytes(b"\xff\xfe")
        codes = [_refused(ws)["code"] for _ in range(len(HOSTILE) + 3)]
        assert codes == [code for _, code in HOSTILE.values()] + ["bad_frame"] * 3
        _still_answers(ws)
