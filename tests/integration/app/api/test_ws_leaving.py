"""A customer who closes the chat while the answer is being sent: one log line, no traceback.

The app runs under uvicorn on a real socket (the test client never fails a send), with a
stand-in assistant whose turn is held until the client has closed its websocket, so the answer
is always sent to a connection that is gone.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from langchain_core.messages import AIMessage
from websockets.sync.client import connect as ws_connect

from app.api import chat
from app.auth import Role, issue_token
from app.main import create_app
from services.settings import Settings

KEY = "leaving-test-key"
WAIT_S = 60.0  # a bound for a hung server, not a speed expectation


class StandIn:
    """An assistant that knows its customer's first name and nothing else."""

    def prepare(self, person_id: int) -> Any:
        return SimpleNamespace(first_name="Maya")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    settings = Settings(
        var_dir=tmp_path,
        database_url=f"sqlite:///{(tmp_path / 'bank.db').as_posix()}",
        secret_key=KEY,
        warm_start=False,
    )
    found = create_app(settings)
    found.state.assistant = StandIn()
    return found


@pytest.fixture
def server(app: FastAPI) -> Iterator[uvicorn.Server]:
    # log_config=None: uvicorn's own loggers propagate, so caplog sees any traceback it logs
    config = uvicorn.Config(app, host="127.0.0.1", port=_free_port(), log_config=None)
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, name="leaving-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT_S
    while not running.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the app did not start"
        time.sleep(0.05)
    yield running
    running.should_exit = True
    thread.join(WAIT_S)


def _until_the_chat_returned(server: uvicorn.Server) -> None:
    # the connection's task (the chat route) is discarded once it has returned or raised
    deadline = time.monotonic() + WAIT_S
    while server.server_state.tasks or server.server_state.connections:
        assert time.monotonic() < deadline, "the chat route kept running after the client left"
        time.sleep(0.05)


def test_a_client_leaving_mid_answer_is_logged_as_one_line(
    server: uvicorn.Server, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    answering, left = threading.Event(), threading.Event()

    def held_turn(assistant: Any, person_id: int, frame: dict[str, Any]) -> Any:
        answering.set()
        left.wait(WAIT_S)  # answer only once the client has gone
        return 0, {"messages": [AIMessage("Your balance is fine.", id="reply-1")]}

    monkeypatch.setattr(chat, "_turn", held_turn)
    token = issue_token(person_id=1, role=Role.customer, key=KEY)
    url = f"ws://127.0.0.1:{server.config.port}/ws/chat?token={token}"
    caplog.set_level(logging.INFO)
    with ws_connect(url) as ws:
        assert json.loads(ws.recv(WAIT_S))["type"] == "STATE_SNAPSHOT"
        ws.send(json.dumps({"type": "USER_MESSAGE", "threadId": "t-leaving", "text": "hi"}))
        assert json.loads(ws.recv(WAIT_S))["type"] == "RUN_STARTED"
        assert answering.wait(WAIT_S)
    left.set()  # the websocket is closed: now the server sends the answer
    _until_the_chat_returned(server)

    assert [r for r in caplog.records if r.exc_info] == []
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    leaving = [r.getMessage() for r in caplog.records if "mid-answer" in r.getMessage()]
    assert leaving == ["client left mid-answer (conversation t-leaving)"]
