"""``/ws/chat``: signed in, AG-UI frames, confirmations, coded errors, threads per customer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.auth import Role, issue_token
from app.main import create_app
from services.settings import Settings
from services.synth.writer import seed_bank

KEY = "ws-test-key"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, classifier_dir: Path) -> Iterator[TestClient]:
    var = tmp_path_factory.mktemp("ws")
    settings = Settings(
        var_dir=var,
        database_url=f"sqlite:///{(var / 'bank.db').as_posix()}",
        secret_key=KEY,
        nlu_model=classifier_dir,
    )
    app = create_app(settings)
    with TestClient(app) as client:
        seed_bank(app.state.engine, customers=4, seed=9, as_of=date.today())
        with app.state.engine.begin() as conn:  # customer 1 has money to move
            conn.execute(
                text(
                    "UPDATE account SET balance_minor = 100000 "
                    "WHERE person_id = 1 AND type = 'checking'"
                )
            )
        yield client


def _token(person: int, role: Role = Role.customer) -> str:
    return issue_token(person_id=person, role=role, key=KEY)


def _opened(ws: Any) -> dict[str, Any]:
    """The chat's first frame: the snapshot saying the customer's context is read."""
    frame = ws.receive_json()
    assert frame["type"] == "STATE_SNAPSHOT", frame
    return dict(frame["snapshot"])


def _until(ws, last: set[str]) -> list[dict[str, Any]]:
    frames = []
    while True:
        frame = ws.receive_json()
        frames.append(frame)
        if frame["type"] in last:
            return frames


def _text(frames: list[dict[str, Any]]) -> str:
    return "".join(f["delta"] for f in frames if f["type"] == "TEXT_MESSAGE_CONTENT")


def test_a_question_streams_text_between_run_events(client: TestClient) -> None:
    with client.websocket_connect(f"/ws/chat?token={_token(1)}") as ws:
        _opened(ws)
        ws.send_json({"type": "USER_MESSAGE", "threadId": "a", "text": "what's my balance"})
        frames = _until(ws, {"RUN_FINISHED", "RUN_ERROR"})
    kinds = [f["type"] for f in frames]
    assert kinds[0] == "RUN_STARTED" and kinds[-1] == "RUN_FINISHED"
    assert {"TOOL_CALL_START", "TOOL_CALL_ARGS", "TOOL_CALL_END", "TOOL_CALL_RESULT"} <= set(kinds)
    assert "TEXT_MESSAGE_START" in kinds and "TEXT_MESSAGE_END" in kinds
    assert "balances" in _text(frames)
    assert frames[0]["threadId"] == "a" and frames[0]["runId"] == frames[-1]["runId"]


def _expected_cards(client: TestClient, card: str, person: int) -> set[str]:
    """What the bank itself finds for ``person`` now: insight messages, or offer titles."""
    from services.insights.detectors import insights_for

    state = client.app.state  # type: ignore[attr-defined]
    now = datetime.now(UTC)
    if card == "insight_cards":
        with state.engine.connect() as conn:
            return {i.message for i in insights_for(conn, person_id=person, now=now)}
    found = state.recommender.decide(person, now=now, level="predictive", k=3, channel="chat_line")
    return {r.title for r in found}


@pytest.mark.parametrize(
    ("text", "card"),
    [("any offers for me?", "recommendation_cards"), ("anything unusual?", "insight_cards")],
)
def test_recommendations_and_insights_come_as_card_frames(
    client: TestClient, text: str, card: str
) -> None:
    # the bank is seeded as of today: someone among its customers has cards to show now
    person, expected = next(
        ((p, found) for p in range(1, 5) if (found := _expected_cards(client, card, p))),
        (0, set()),
    )
    assert person, f"no seeded customer has {card} today"
    with client.websocket_connect(f"/ws/chat?token={_token(person)}") as ws:
        _opened(ws)
        ws.send_json({"type": "USER_MESSAGE", "threadId": f"cards-{card}", "text": text})
        frames = _until(ws, {"RUN_FINISHED", "RUN_ERROR"})
    [found] = [f for f in frames if f["type"] == "CUSTOM" and f["name"] == card]
    assert found["threadId"] == f"cards-{card}"
    assert isinstance(found["value"], list) and found["value"], found
    key = "message" if card == "insight_cards" else "title"
    assert {item[key] for item in found["value"]} <= expected, (found["value"], expected)


def test_a_transfer_waits_for_confirmation_then_runs(client: TestClient) -> None:
    with client.websocket_connect(f"/ws/chat?token={_token(1)}") as ws:
        _opened(ws)
        ws.send_json(
            {"type": "USER_MESSAGE", "threadId": "t", "text": "move 20 from checking to savings"}
        )
        frames = _until(ws, {"CONFIRMATION_REQUIRED", "RUN_FINISHED", "RUN_ERROR"})
        ask = frames[-1]
        assert ask["type"] == "CONFIRMATION_REQUIRED" and "$20.00" in ask["text"]
        assert ask["calls"][0]["name"] == "transfer"
        ws.send_json({"type": "USER_MESSAGE", "threadId": "t", "text": "hello"})
        assert _until(ws, {"RUN_ERROR"})[-1]["code"] == "confirmation_pending"
        ws.send_json({"type": "CONFIRM", "threadId": "t", "approve": True})
        done = _until(ws, {"RUN_FINISHED", "RUN_ERROR"})
    assert done[-1]["type"] == "RUN_FINISHED" and "Moved $20.00" in _text(done)


def test_reconnecting_continues_the_thread(client: TestClient) -> None:
    with client.websocket_connect(f"/ws/chat?token={_token(1)}") as ws:
        _opened(ws)
        ws.send_json({"type": "USER_MESSAGE", "threadId": "r", "text": "I want to move some money"})
        assert "How much" in _text(_until(ws, {"RUN_FINISHED"}))
    with client.websocket_connect(f"/ws/chat?token={_token(1)}") as ws:
        _opened(ws)
        ws.send_json({"type": "USER_MESSAGE", "threadId": "r", "text": "250 dollars"})
        assert "come from" in _text(_until(ws, {"RUN_FINISHED"}))


def test_the_same_thread_id_is_another_conversation_for_another_customer(
    client: TestClient,
) -> None:
    with client.websocket_connect(f"/ws/chat?token={_token(1)}") as ws:
        _opened(ws)
        ws.send_json(
            {
                "type": "USER_MESSAGE",
                "threadId": "shared",
                "text": "move 20 from checking to savings",
            }
        )
        assert (
            _until(ws, {"CONFIRMATION_REQUIRED", "RUN_FINISHED"})[-1]["type"]
            == "CONFIRMATION_REQUIRED"
        )
    with client.websocket_connect(f"/ws/chat?token={_token(2)}") as ws:
        _opened(ws)
        ws.send_json({"type": "CONFIRM", "threadId": "shared", "approve": True})
        assert _until(ws, {"RUN_ERROR"})[-1]["code"] == "nothing_to_confirm"


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "bad_frame"),
        ('{"type": "USER_MESSAGE", "threadId": "x"}', "bad_frame"),
        ('{"type": "DANCE", "threadId": "x"}', "unknown_frame"),
        (
            '{"type": "USER_MESSAGE", "threadId": "x", "text": "' + "a" * 2500 + '"}',
            "message_too_long",
        ),
        (
            '{"type": "USER_MESSAGE", "threadId": "x", "text": "' + "a" * 9000 + '"}',
            "frame_too_large",
        ),
        ('{"type": "CONFIRM", "threadId": "nothing", "approve": true}', "nothing_to_confirm"),
    ],
)
def test_bad_frames_get_a_run_error_with_a_code(client: TestClient, frame: str, code: str) -> None:
    with client.websocket_connect(f"/ws/chat?token={_token(1)}") as ws:
        _opened(ws)
        ws.send_text(frame)
        error = _until(ws, {"RUN_ERROR"})[-1]
        assert error["code"] == code and error["message"]
        ws.send_json({"type": "USER_MESSAGE", "threadId": "ok", "text": "hi"})
        assert _until(ws, {"RUN_FINISHED"})[-1]["type"] == "RUN_FINISHED"  # still usable


@pytest.mark.parametrize("token", ["", "garbage", "x.y"])
def test_a_bad_token_is_refused(client: TestClient, token: str) -> None:
    with client.websocket_connect(f"/ws/chat?token={token}") as ws:
        frame = ws.receive_json()
    assert frame == {"type": "RUN_ERROR", "code": "unauthorized", "message": frame["message"]}


def test_advisors_do_not_chat_as_customers(client: TestClient) -> None:
    with client.websocket_connect(f"/ws/chat?token={_token(1, Role.advisor)}") as ws:
        assert ws.receive_json()["code"] == "unauthorized"


def test_too_many_frames_are_rate_limited(client: TestClient) -> None:
    with client.websocket_connect(f"/ws/chat?token={_token(1)}") as ws:
        _opened(ws)
        codes = []
        for _ in range(22):
            ws.send_text("{}")
            codes.append(_until(ws, {"RUN_ERROR"})[-1]["code"])
    assert codes[:20] == ["bad_frame"] * 20 and codes[20:] == ["rate_limited"] * 2


def test_a_database_outage_is_a_clear_error_and_the_connection_survives(
    client: TestClient,
) -> None:
    from sqlalchemy.exc import OperationalError

    from app.api.chat import _build_once

    real = _build_once(client.app)

    class Down:
        graph = real.graph

        def run(self, *args: Any, **kwargs: Any) -> Any:
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    try:
        with client.websocket_connect(f"/ws/chat?token={_token(1)}") as ws:
            _opened(ws)
            client.app.state.assistant = Down()
            ws.send_json({"type": "USER_MESSAGE", "threadId": "outage", "text": "balance"})
            error = _until(ws, {"RUN_ERROR", "RUN_FINISHED"})[-1]
            assert error["code"] == "unavailable" and "nothing was changed" in error["message"]
            client.app.state.assistant = real
            ws.send_json({"type": "USER_MESSAGE", "threadId": "outage", "text": "balance"})
            assert _until(ws, {"RUN_ERROR", "RUN_FINISHED"})[-1]["type"] == "RUN_FINISHED"
    finally:
        client.app.state.assistant = real


def _kept(client: TestClient, person: int, unlike: Any = None) -> Any:
    """The context the chat keeps for ``person`` (other than ``unlike``), waiting up to 30 s."""
    import time

    contexts = client.app.state.assistant.bank.contexts  # type: ignore[attr-defined]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = contexts._kept.get(person)
        if found is not None and found is not unlike:
            return found
        time.sleep(0.02)
    return None


def test_opening_the_chat_prepares_the_customers_context(client: TestClient) -> None:
    with client.websocket_connect(f"/ws/chat?token={_token(1)}") as ws:  # build the assistant
        _opened(ws)
        ws.send_json({"type": "USER_MESSAGE", "threadId": "p0", "text": "hi"})
        _until(ws, {"RUN_FINISHED"})
    contexts = client.app.state.assistant.bank.contexts  # type: ignore[attr-defined]
    contexts.forget(3)
    with client.websocket_connect(f"/ws/chat?token={_token(3)}") as ws:
        snapshot = _opened(ws)
        kept = contexts._kept.get(3)  # read before customer 3 said a word
    assert snapshot["ready"] is True
    assert kept is not None and snapshot["firstName"] == kept[2].first_name


def test_an_approved_write_reads_the_context_again_before_the_next_message(
    client: TestClient,
) -> None:
    with client.websocket_connect(f"/ws/chat?token={_token(1)}") as ws:
        _opened(ws)
        ws.send_json(
            {"type": "USER_MESSAGE", "threadId": "pw", "text": "move 5 from checking to savings"}
        )
        assert _until(ws, {"CONFIRMATION_REQUIRED", "RUN_ERROR"})[-1]["type"] == (
            "CONFIRMATION_REQUIRED"
        )
        before = _kept(client, 1)  # kept when the request was read; resuming reads nothing
        ws.send_json({"type": "CONFIRM", "threadId": "pw", "approve": True})
        assert _until(ws, {"RUN_FINISHED", "RUN_ERROR"})[-1]["type"] == "RUN_FINISHED"
        after = _kept(client, 1, unlike=before)
    assert before is not None and after is not None
    assert after[0] != before[0]  # read at the new revision (the transfer's ledger entries)


def test_a_context_that_cannot_be_read_ahead_still_opens_the_chat(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    with client.websocket_connect(f"/ws/chat?token={_token(1)}") as ws:  # build the assistant
        _opened(ws)
    assistant = client.app.state.assistant  # type: ignore[attr-defined]

    def broken(person_id: int, now: Any = None) -> Any:
        raise RuntimeError("the insight store is down")

    monkeypatch.setattr(assistant, "prepare", broken)
    with client.websocket_connect(f"/ws/chat?token={_token(2)}") as ws:
        assert _opened(ws) == {"ready": False}  # no name: nothing was read
        ws.send_json({"type": "USER_MESSAGE", "threadId": "unready", "text": "balance"})
        assert _until(ws, {"RUN_FINISHED", "RUN_ERROR"})[-1]["type"] == "RUN_FINISHED"
