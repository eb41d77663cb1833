"""A live hand-off across two server processes sharing one database and one Redis.

Two ``concierge serve`` processes run on the same bank (one SQLite file, or a PostgreSQL schema of
its own) with the live hub on Redis pub/sub. The customer chats on process A; the advisor works on
process B, over REST and ``/ws/advisor``. Each side must hear the other across the processes:
the queue, an exactly-once claim (one advisor clicking on each process at once), the advisor's
message, the customer's reply, and the hand back, after which the assistant answers again.

``concierge bench handoff`` runs the same flow for many customers and advisors at once; here it
runs with a handful and must lose nothing, deliver nothing twice and claim each conversation
exactly once.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from typer.testing import CliRunner
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from bench.chat import Schema, bank_url, free_port, start_server, stop_server
from bench.cli import register
from bench.handoff import ADVISOR_PASSWORD, build_bank
from services.settings import Settings
from tests.support.servers import POSTGRES_URL, REDIS_URL, require_postgres, require_redis

WAIT_S = 60.0  # a bound for a hung server, not a speed expectation
LIVE = "/api/advisor/live"
Frame = dict[str, Any]


@dataclass
class Side:
    """One websocket and every frame it received, so a frame delivered twice shows."""

    ws: ClientConnection
    frames: list[Frame] = field(default_factory=list)

    def until(self, done: Callable[[Frame], bool]) -> list[Frame]:
        """Frames up to and including the first one ``done`` accepts."""
        got: list[Frame] = []
        deadline = time.monotonic() + WAIT_S
        while True:
            frame = json.loads(self.ws.recv(max(0.1, deadline - time.monotonic())))
            self.frames.append(frame)
            got.append(frame)
            if done(frame):
                return got

    def send(self, frame: Frame) -> None:
        self.ws.send(json.dumps(frame))


def _status(status: str) -> Callable[[Frame], bool]:
    return lambda f: f.get("name") == "handoff" and f["value"].get("status") == status


def _custom(name: str) -> Callable[[Frame], bool]:
    return lambda f: f["type"] == "CUSTOM" and f.get("name") == name


def _kind(*kinds: str) -> Callable[[Frame], bool]:
    return lambda f: f["type"] in kinds


@dataclass
class Served:
    """Two server processes on one bank: where each listens and who can sign in."""

    a: str
    b: str
    customers: list[str]
    advisors: list[str]
    password: str


@pytest.fixture(params=["sqlite", "postgres"])
def served(
    request: pytest.FixtureRequest, tmp_path: Path, classifier_dir: Path
) -> Iterator[Served]:
    """Processes A and B on one bank and one Redis; stopped (and the schema dropped) after."""
    require_redis()
    schema = None
    if request.param == "postgres":
        request.applymarker(pytest.mark.postgres)
        require_postgres()
        schema = Schema(POSTGRES_URL)
    url = schema.url if schema else bank_url(tmp_path)
    running: list[Any] = []
    try:
        users, desks = build_bank(url, tmp_path, 2, 2, nlu_model=classifier_dir, seed=9)
        env = {
            "CONCIERGE_DATABASE_URL": url,
            "CONCIERGE_REDIS_URL": REDIS_URL,
            "CONCIERGE_ADVISOR_HOURS": "always",
            "CONCIERGE_SECRET_KEY": "two-processes-test-key",
        }
        ports = [free_port(), free_port()]

        def serve(port: int) -> None:
            running.append(start_server(tmp_path, nlu_model=classifier_dir, port=port, env=env))

        with ThreadPoolExecutor(2) as pool:
            list(pool.map(serve, ports))
        a, b = (f"http://127.0.0.1:{p}" for p in ports)
        yield Served(a, b, users, desks, Settings(var_dir=tmp_path).demo_password)
    finally:
        for server in running:
            stop_server(server)
        if schema is not None:
            schema.drop()


def _token(base: str, username: str, password: str) -> str:
    signed = httpx.post(
        f"{base}/api/auth/token", json={"username": username, "password": password}, timeout=30
    )
    signed.raise_for_status()
    return str(signed.json()["access_token"])


def _ws(base: str, path: str, token: str) -> ClientConnection:
    return ws_connect(base.replace("http://", "ws://") + f"{path}?token={token}")


@pytest.mark.redis
@pytest.mark.slow
def test_a_customer_on_one_process_and_an_advisor_on_another_hear_each_other(
    served: Served,
) -> None:
    customer = _token(served.a, served.customers[0], served.password)
    advisors = [_token(served.b, desk, ADVISOR_PASSWORD) for desk in served.advisors]
    b = httpx.Client(base_url=served.b, timeout=30)
    with _ws(served.a, "/ws/chat", customer) as chat_ws:
        chat = Side(chat_ws)
        assert chat.until(lambda f: True)[0]["type"] == "STATE_SNAPSHOT"
        chat.send({"type": "USER_MESSAGE", "threadId": "t", "text": "I want to talk to a person"})
        offered = chat.until(_kind("CONFIRMATION_REQUIRED", "RUN_FINISHED", "RUN_ERROR"))[-1]
        assert (
            offered["type"] == "CONFIRMATION_REQUIRED" and offered["calls"][0]["name"] == "handoff"
        )
        chat.send({"type": "CONFIRM", "threadId": "t", "approve": True})
        waiting = chat.until(_status("waiting"))[-1]["value"]
        handoff = waiting["handoffId"]
        assert waiting["position"] == 1

        # process B's queue shows the conversation the customer joined on process A
        headers = [{"Authorization": f"Bearer {t}"} for t in advisors]
        queue = b.get(f"{LIVE}/queue", headers=headers[0]).json()
        assert [q["id"] for q in queue] == [handoff]

        # two advisors click at once, one on each process: exactly one of them wins
        def claim(where: tuple[str, dict[str, str]]) -> int:
            base, auth = where
            return httpx.post(f"{base}{LIVE}/{handoff}/claim", headers=auth, timeout=30).status_code

        with ThreadPoolExecutor(2) as pool:
            codes = list(pool.map(claim, [(served.b, headers[0]), (served.a, headers[1])]))
        assert sorted(codes) == [200, 409]
        holder = headers[codes.index(200)]
        token = advisors[codes.index(200)]
        joined = chat.until(_status("active"))[-1]["value"]
        assert joined["advisor"].startswith("Desk ")
        assert b.get(f"{LIVE}/queue", headers=holder).json() == []

        with _ws(served.b, "/ws/advisor", token) as console_ws:
            console = Side(console_ws)
            assert console.until(_kind("QUEUE"))[-1]["items"] == []
            console.send({"type": "WATCH", "handoffId": handoff, "after": 0})
            console.until(lambda f: f["type"] == "LINE" and f["line"]["kind"] == "joined")

            # the advisor on B speaks; the customer on A hears it
            said = b.post(
                f"{LIVE}/{handoff}/messages", headers=holder, json={"text": "Hi, Desk here."}
            )
            assert said.status_code == 200, said.text
            heard = chat.until(_custom("advisor_message"))[-1]["value"]
            assert (heard["id"], heard["text"]) == (said.json()["id"], "Hi, Desk here.")

            # the customer on A answers; the advisor on B hears it on the socket and in the record
            chat.send({"type": "USER_MESSAGE", "threadId": "t", "text": "It's about my card"})
            echo = chat.until(_custom("handoff_line"))
            assert not any(f["type"] == "RUN_STARTED" for f in echo)  # not the assistant's
            line = console.until(
                lambda f: f["type"] == "LINE" and f["line"]["author"] == "customer"
            )
            assert line[-1]["line"]["id"] == echo[-1]["value"]["id"]
            assert line[-1]["line"]["text"] == "It's about my card"
            seen = b.get(f"{LIVE}/{handoff}", headers=holder).json()
            assert [x["text"] for x in seen["lines"] if x["author"] == "customer"] == [
                "It's about my card"
            ]
            assert seen["status"] == "active"

            # hand back on B reaches A, and the assistant answers the customer again
            assert b.post(f"{LIVE}/{handoff}/return", headers=holder).status_code == 200
            chat.until(_status("returned"))
            chat.send({"type": "USER_MESSAGE", "threadId": "t", "text": "what's my balance"})
            again = chat.until(_kind("RUN_FINISHED", "RUN_ERROR"))
            assert again[0]["type"] == "RUN_STARTED" and again[-1]["type"] == "RUN_FINISHED"
            lines = [f["line"]["id"] for f in console.frames if f["type"] == "LINE"]
    b.close()

    # every line reached each side once
    delivered = Counter(f["value"]["id"] for f in chat.frames if f.get("name") == "advisor_message")
    assert delivered == Counter({said.json()["id"]: 1})
    assert len(lines) == len(set(lines))
    assert [f["value"]["status"] for f in chat.frames if f.get("name") == "handoff"].count(
        "returned"
    ) == 1


def _cli() -> typer.Typer:
    cli = typer.Typer()

    @cli.callback()
    def root() -> None:
        """Test CLI."""

    register(cli)
    return cli


@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_bench_handoff_loses_nothing_and_claims_each_conversation_once(
    database: str, classifier_dir: Path, request: pytest.FixtureRequest
) -> None:
    require_redis()
    args = ["bench", "handoff", "--customers", "4", "--advisors", "2", "--turns"]
    args += ["--redis-url", REDIS_URL, "--nlu-model", str(classifier_dir), "--json"]
    if database == "postgresql":
        request.applymarker(pytest.mark.postgres)
        require_postgres()
        args += ["--database-url", POSTGRES_URL]
    result = CliRunner().invoke(_cli(), args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["errors"] == 0, out["error_samples"]
    assert (out["customers"], out["advisors"], out["servers"]) == (4, 2, 2)
    assert out["database"] == database and out["hub"] == "redis"
    assert out["claims"] == 4 and out["claim_conflicts_won_twice"] == 0
    assert out["advisor_messages"] == out["customer_messages"] == 4 * 3
    assert out["messages"] == 24
    assert out["lost"] == 0 and out["duplicated"] == 0 and out["misrouted"] == 0
    assert out["handed_back"] == 4
    assert out["stored_advisor_messages"] == out["stored_customer_messages"] == 12
    assert out["delivery_ms_p50"] <= out["delivery_ms_p95"]
    assert out["claim_to_first_message_ms_p95"] > 0 and out["seconds"] > 0
