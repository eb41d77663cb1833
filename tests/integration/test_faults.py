"""Faults: Redis gone, PostgreSQL restarting, the server killed, an event consumer killed.

* Redis unreachable: the app starts on the in-process bus and caches, says so in a warning, and
  chats, REST and events keep working.
* PostgreSQL restarting: simulated by terminating this test's own backends (found by their
  ``application_name``, never anyone else's) before, during and at the commit of a write. A
  write cut off commits nothing; the retry with the same idempotency key commits it exactly
  once; the next request finds a live connection (pool pre-ping); a request cut off gets a
  clear 503, not a traceback.
* The server killed (SIGKILL) mid-conversation: a new process on the same folder continues the
  conversation from its checkpoint, and an approval given after the restart executes the write
  exactly once.
* An event consumer killed mid-stream on Redis Streams: another consumer claims what it held;
  every event is booked in the ledger exactly once.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import OperationalError
from websockets.sync.client import connect as ws_connect

from app.auth import Role, issue_token
from app.main import create_app
from bench.chat import bank_url, free_port, seed_users, start_server, stop_server
from services.db import create_schema, make_engine
from services.events import Event
from services.events.in_process import InProcessBus
from services.events.redis_streams import RedisStreamBus, connect
from services.features.live import LiveUpdates
from services.features.store import MemoryFeatureStore
from services.recommendations.recommender import LruVectorStore
from services.settings import Settings
from services.synth.writer import seed_bank
from tests.support import ROOT
from tests.support.servers import POSTGRES_URL, REDIS_URL, require_postgres, require_redis

KEY = "faults-test-key"
TERMINAL = {"RUN_FINISHED", "RUN_ERROR", "CONFIRMATION_REQUIRED"}


def _token(person: int) -> str:
    return issue_token(person_id=person, role=Role.customer, key=KEY)


def _fund(engine: Engine, person: int, minor: int = 100_000) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE account SET balance_minor = :m WHERE person_id = :p AND type = 'checking'"
            ),
            {"m": minor, "p": person},
        )


def _say(ws: Any, frame: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Send a frame on a websocket (sync client or TestClient); the reply text and last frame."""
    if hasattr(ws, "send_json"):
        ws.send_json(frame)
    else:
        ws.send(json.dumps(frame))
    parts = []
    while True:
        got = ws.receive_json() if hasattr(ws, "receive_json") else json.loads(ws.recv(60))
        if got["type"] == "TEXT_MESSAGE_CONTENT":
            parts.append(got["delta"])
        if got["type"] in TERMINAL:
            return "".join(parts), got


def _user(thread: str, text_: str) -> dict[str, Any]:
    return {"type": "USER_MESSAGE", "threadId": thread, "text": text_}


# --- Redis unreachable ----------------------------------------------------------------------


def test_without_redis_the_app_falls_back_to_in_process_engines_and_keeps_serving(
    tmp_path: Path, classifier_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    settings = Settings(
        var_dir=tmp_path,
        database_url=bank_url(tmp_path),
        secret_key=KEY,
        nlu_model=classifier_dir,
        event_bus="redis",
        redis_url=closed,
        cache_url=closed,
    )
    app = create_app(settings)
    with caplog.at_level(logging.WARNING), TestClient(app) as client:
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        for engine_name in ("event bus", "vector cache", "feature store"):
            assert any("unreachable" in w and f"in-process {engine_name}" in w for w in warnings), (
                engine_name,
                warnings,
            )
        assert isinstance(app.state.event_bus, InProcessBus)
        assert isinstance(app.state.feature_store, MemoryFeatureStore)
        assert isinstance(app.state.recommender.store, LruVectorStore)
        seed_bank(app.state.engine, customers=2, seed=9, as_of=date.today())
        auth = {"Authorization": f"Bearer {_token(1)}"}
        # REST: reads, decisions (the vector cache) and events (the bus and its consumer)
        assert client.get("/api/me/accounts", headers=auth).status_code == 200
        assert client.get("/api/me/recommendations", headers=auth).status_code == 200
        posted = {
            "id": f"fault-{uuid.uuid4().hex}",
            "type": "digital",
            "person_id": 1,
            "occurred_at": datetime.now(UTC).isoformat(),
            "data": {"kind": "app_open", "channel": "app"},
        }
        answer = client.post("/api/events", json={"events": [posted]}, headers=auth)
        assert answer.status_code == 202, answer.text
        deadline = time.monotonic() + 10
        booked = 0
        while not booked and time.monotonic() < deadline:
            with app.state.engine.connect() as conn:
                booked = conn.execute(
                    text("SELECT count(*) FROM digital_event WHERE source_ref = :r"),
                    {"r": f"event:{posted['id']}"},
                ).scalar_one()
            time.sleep(0.05)
        assert booked == 1
        # chat: a question and a second turn on the same thread
        with client.websocket_connect(f"/ws/chat?token={_token(1)}") as ws:
            assert ws.receive_json()["type"] == "STATE_SNAPSHOT"
            reply, last = _say(ws, _user("no-redis", "what's my balance?"))
            assert last["type"] == "RUN_FINISHED" and "balance" in reply.lower()
            reply, last = _say(ws, _user("no-redis", "show my recent transactions"))
            assert last["type"] == "RUN_FINISHED" and reply


# --- PostgreSQL restarting ------------------------------------------------------------------


def _terminate(admin: Engine, name: str) -> int:
    """End every backend of ``name`` (what a server restart does to them); how many."""
    with admin.connect() as conn:
        return len(
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND application_name = :name"
                ),
                {"name": name},
            ).all()
        )


@pytest.fixture
def pg() -> Iterator[tuple[str, str, Engine]]:
    """A schema of its own and a unique application name: (schema, name, admin engine)."""
    require_postgres()
    schema, name = f"t_{uuid.uuid4().hex[:12]}", f"faults-{uuid.uuid4().hex[:8]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema, name, admin
    finally:
        _terminate(admin, name)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def pg_bank(pg: tuple[str, str, Engine]) -> Iterator[tuple[Engine, str, Engine]]:
    """A seeded bank in the schema, on an engine whose backends carry the application name."""
    schema, name, admin = pg
    engine = make_engine(
        POSTGRES_URL,
        connect_args={"options": f"-csearch_path={schema}", "application_name": name},
    )
    create_schema(engine)
    seed_bank(engine, customers=2, seed=9, as_of=date.today())
    _fund(engine, 1)
    yield engine, name, admin
    engine.dispose()


def _money(engine: Engine, person: int) -> tuple[int, int, int]:
    """(sum of the person's deposit balances, their ledger rows, write requests)."""
    with engine.connect() as conn:
        total = conn.execute(
            text(
                "SELECT sum(balance_minor) FROM account "
                "WHERE person_id = :p AND type IN ('checking', 'savings')"
            ),
            {"p": person},
        ).scalar_one()
        rows = conn.execute(
            text("SELECT count(*) FROM ledger_entry WHERE person_id = :p"), {"p": person}
        ).scalar_one()
        requests = conn.execute(
            text("SELECT count(*) FROM write_request WHERE person_id = :p"), {"p": person}
        ).scalar_one()
    return int(total), int(rows), int(requests)


def _accounts(engine: Engine, person: int) -> tuple[int, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT type, min(id) FROM account WHERE person_id = :p GROUP BY type"),
            {"p": person},
        ).all()
    ids = {str(kind): int(found) for kind, found in rows}
    return ids["checking"], ids["savings"]


def _transfer(engine: Engine, key: str, source: int, target: int) -> Any:
    from services.banking.transfers import transfer

    with engine.begin() as conn:
        return transfer(
            conn,
            person_id=1,
            from_account_id=source,
            to_account_id=target,
            amount_minor=25_000,
            currency="USD",
            idempotency_key=key,
            now=datetime.now(UTC),
        )


@pytest.mark.postgres
@pytest.mark.parametrize("when", ["after the first leg", "at commit"])
def test_a_write_cut_off_by_a_database_restart_commits_nothing_then_once_on_retry(
    pg_bank: tuple[Engine, str, Engine], when: str
) -> None:
    engine, name, admin = pg_bank
    source, target = _accounts(engine, 1)
    total, rows, requests = _money(engine, 1)
    armed = [True]

    def cut(*_args: Any) -> None:
        if armed[0]:
            armed[0] = False
            assert _terminate(admin, name) >= 1

    if when == "at commit":
        event.listen(engine, "commit", cut)  # runs just before the DBAPI commit
    else:

        def after_debit(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
            if statement.lstrip().upper().startswith("INSERT INTO LEDGER_ENTRY"):
                cut()

        event.listen(engine, "after_cursor_execute", after_debit)
    with pytest.raises(OperationalError):
        _transfer(engine, "restart-1", source, target)
    assert not armed[0]
    # nothing of the write survived: no debit without its credit, no claimed key
    assert _money(engine, 1) == (total, rows, requests)
    # the retry, with the same idempotency key, gets a live connection and commits once
    done = _transfer(engine, "restart-1", source, target)
    assert not done.replayed
    assert _money(engine, 1) == (total, rows + 2, requests + 1)
    with engine.connect() as conn:
        legs = conn.execute(
            text("SELECT amount_minor FROM ledger_entry WHERE source_ref LIKE :r"),
            {"r": f"concierge:{done.reference}:%"},
        ).all()
    assert sorted(leg[0] for leg in legs) == [-25_000, 25_000]
    again = _transfer(engine, "restart-1", source, target)
    assert again.replayed and again.reference == done.reference
    assert _money(engine, 1) == (total, rows + 2, requests + 1)


@pytest.fixture
def pg_app(pg: tuple[str, str, Engine], tmp_path: Path) -> Iterator[tuple[TestClient, str, Engine]]:
    """The app on the PostgreSQL schema, its backends named for termination."""
    schema, name, admin = pg
    options = f"-csearch_path%3D{schema}"
    url = f"{POSTGRES_URL}?application_name={name}&options={options}"
    settings = Settings(var_dir=tmp_path, database_url=url, secret_key=KEY)
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        seed_bank(app.state.engine, customers=2, seed=9, as_of=date.today())
        yield client, name, admin


@pytest.mark.postgres
def test_requests_after_and_during_a_database_restart(
    pg_app: tuple[TestClient, str, Engine],
) -> None:
    client, name, admin = pg_app
    auth = {"Authorization": f"Bearer {_token(1)}"}
    assert client.get("/api/me/accounts", headers=auth).status_code == 200
    # Between requests: the pooled connection died with the server; pre-ping replaces it.
    assert _terminate(admin, name) >= 1
    answer = client.get("/api/me/accounts", headers=auth)
    assert answer.status_code == 200, answer.text
    # During a request: the client is told, clearly, and no traceback leaves the server.
    engine = client.app.state.engine  # type: ignore[attr-defined]
    armed = [True]

    def cut(*_args: Any) -> None:
        if armed[0]:
            armed[0] = False
            _terminate(admin, name)

    event.listen(engine, "before_cursor_execute", cut)
    try:
        answer = client.get("/api/me/accounts", headers=auth)
    finally:
        event.remove(engine, "before_cursor_execute", cut)
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "1"
    body = answer.json()
    assert body["code"] == "database_unavailable"
    assert "try again" in body["detail"] and "Traceback" not in answer.text
    assert client.get("/api/me/accounts", headers=auth).status_code == 200


# --- the server killed mid-conversation -----------------------------------------------------


@pytest.fixture
def served(tmp_path: Path, classifier_dir: Path) -> Iterator[Any]:
    """Start (and restart) the app in a child process on one folder; stopped afterwards."""
    seed_users(tmp_path, 2, nlu_model=classifier_dir, seed=9)
    engine = make_engine(bank_url(tmp_path))
    _fund(engine, 1)
    engine.dispose()
    running: list[subprocess.Popen[bytes]] = []

    def start() -> str:
        port = free_port()
        env = {"CONCIERGE_SECRET_KEY": KEY}
        running.append(start_server(tmp_path, nlu_model=classifier_dir, port=port, env=env))
        return f"ws://127.0.0.1:{port}/ws/chat?token={_token(1)}"

    def kill() -> None:
        server = running[-1]
        os.kill(server.pid, signal.SIGKILL)  # no shutdown, no flush: the process just ends
        assert server.wait(10) == -signal.SIGKILL

    start.kill = kill  # type: ignore[attr-defined]
    start.var = tmp_path  # type: ignore[attr-defined]
    yield start
    for server in running:
        if server.poll() is None:
            stop_server(server)


def test_a_conversation_resumes_after_the_server_is_killed(served: Any) -> None:
    with ws_connect(served()) as ws:
        asked, last = _say(ws, _user("resume", "I want to move some money"))
    assert last["type"] == "RUN_FINISHED" and "how much" in asked.lower()
    served.kill()
    with ws_connect(served()) as ws:
        asked, last = _say(ws, _user("resume", "250 dollars"))
    # the amount was taken as the answer to the open question: the task goes on
    assert last["type"] == "RUN_FINISHED"
    assert "which account should the money come from" in asked.lower(), asked


def _transfers(var: Path) -> tuple[int, int]:
    engine = make_engine(bank_url(var))
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT count(*) FROM ledger_entry WHERE source_ref LIKE 'concierge:%'")
        ).scalar_one()
        requests = conn.execute(
            text("SELECT count(*) FROM write_request WHERE kind = 'transfer'")
        ).scalar_one()
    engine.dispose()
    return int(rows), int(requests)


def test_an_approval_after_the_server_is_killed_executes_exactly_once(served: Any) -> None:
    before = _transfers(served.var)
    with ws_connect(served()) as ws:
        _, last = _say(ws, _user("approve", "move 250 dollars from checking to savings"))
    assert last["type"] == "CONFIRMATION_REQUIRED", last
    assert last["calls"][0]["args"]["amount"] == "250.00"
    served.kill()
    assert _transfers(served.var) == before  # asked, not done
    with ws_connect(served()) as ws:
        reply, last = _say(ws, {"type": "CONFIRM", "threadId": "approve", "approve": True})
        assert last["type"] == "RUN_FINISHED", last
        assert "250.00" in reply
        _, again = _say(ws, {"type": "CONFIRM", "threadId": "approve", "approve": True})
        assert again["type"] == "RUN_ERROR" and again["code"] == "nothing_to_confirm"
    assert _transfers(served.var) == (before[0] + 2, before[1] + 1)  # one debit, one credit


# --- an event consumer killed mid-stream ----------------------------------------------------

DOOMED_CONSUMER = """
import os, sys
from services.events.redis_streams import RedisStreamBus, connect
from services.db import make_engine
from services.features.store import MemoryFeatureStore
from services.features.live import LiveUpdates
url, stream, database, limit = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
bus = RedisStreamBus(connect(url), stream=stream)
live = LiveUpdates(bus, make_engine(database), MemoryFeatureStore(), consumer="doomed")
done = 0
def handle(events):
    global done
    for event in events:  # one by one, so the death lands inside a batch
        live.handle([event])
        done += 1
        if done == limit:
            os._exit(3)  # booked, not acknowledged; the rest of the batch read, not booked
while True:
    bus.consume("live", "doomed", handle, count=20, block_ms=50)
"""


@pytest.mark.redis
def test_an_event_consumer_killed_mid_stream_loses_nothing_and_books_nothing_twice(
    tmp_path: Path,
) -> None:
    require_redis()
    engine = make_engine(bank_url(tmp_path))
    create_schema(engine)
    seed_bank(engine, customers=2, seed=9, as_of=date.today())
    with engine.connect() as conn:
        account, start = conn.execute(
            text("SELECT id, balance_minor FROM account WHERE person_id = 1 AND type = 'checking'")
        ).one()
    now = datetime.now(UTC)
    events = [
        Event(
            id=f"fault-{i}",
            type="transaction",
            person_id=1,
            occurred_at=now - timedelta(minutes=100 - i),
            data={
                "account_id": account,
                "amount_minor": -(100 + i),
                "currency": "USD",
                "category": "dining",
                "channel": "card",
                "merchant": f"Cafe {i}",
            },
        )
        for i in range(60)
    ]
    client = connect(REDIS_URL)
    bus = RedisStreamBus(client, stream=f"test:faults:{uuid.uuid4().hex[:12]}:events")
    try:
        bus.publish_many(events)
        bus.publish_many(events[:10])  # the producer retried: ten events come twice
        child = subprocess.run(
            [sys.executable, "-c", DOOMED_CONSUMER, REDIS_URL, bus.stream, bank_url(tmp_path)]
            + ["25"],
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=120,
            check=False,
        )
        assert child.returncode == 3
        assert bus.pending("live") == 20  # the second batch: 5 booked, 15 only read
        time.sleep(0.1)
        heir = RedisStreamBus(client, stream=bus.stream, claim_idle_ms=50)
        live = LiveUpdates(heir, engine, MemoryFeatureStore(), consumer="heir", block_ms=20)
        live.start()
        deadline = time.monotonic() + 30
        while (heir.pending("live") or live.applied < 50) and time.monotonic() < deadline:
            time.sleep(0.05)
        live.stop()
        assert heir.pending("live") == 0
        # every event on the stream was handed out, so a new poll finds nothing left
        assert heir.consume("live", "heir", live.handle, block_ms=10) == 0
        # a re-delivered event is recognised as booked, not failed and dead-lettered
        assert client.xlen(bus.dead_stream) == 0
    finally:
        bus.delete()
        client.close()
    with engine.connect() as conn:
        booked = conn.execute(
            text(
                "SELECT source_ref, count(*) FROM ledger_entry WHERE source_ref LIKE 'event:%' "
                "GROUP BY source_ref"
            )
        ).all()
        balance = conn.execute(
            text("SELECT balance_minor FROM account WHERE id = :a"), {"a": account}
        ).scalar_one()
    engine.dispose()
    assert sorted(ref for ref, _ in booked) == sorted(f"event:{e.id}" for e in events)
    assert {count for _, count in booked} == {1}
    assert balance == start + sum(e.data["amount_minor"] for e in events)
