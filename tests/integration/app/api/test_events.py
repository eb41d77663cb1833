"""``POST /api/events``: all-or-nothing batches, who may post what, and what an event changes."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.auth import Role, issue_token
from app.main import create_app
from services.events import Event, EventBus
from services.settings import Settings
from services.synth.writer import seed_bank

KEY = "events-key"


class SpyBus:
    """The app's bus, recording every publish."""

    def __init__(self, inner: EventBus) -> None:
        self.inner = inner
        self.published: list[Event] = []

    def publish_many(self, events: Iterable[Event]) -> int:
        batch = list(events)
        self.published += batch
        return self.inner.publish_many(batch)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    var: Path = tmp_path_factory.mktemp("api-events")
    settings = Settings(
        var_dir=var, database_url=f"sqlite:///{(var / 'bank.db').as_posix()}", secret_key=KEY
    )
    app = create_app(settings)
    with TestClient(app):
        seed_bank(app.state.engine, customers=6, seed=8, as_of=date.today(), workers=1)
        yield app


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture
def bus(app: FastAPI, client: TestClient) -> Iterator[SpyBus]:
    spy = SpyBus(app.state.event_bus)
    app.state.event_bus = spy
    yield spy
    app.state.event_bus = spy.inner


def _auth(person: int, role: Role = Role.customer) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(person_id=person, role=role, key=KEY)}"}


def _rows(app: FastAPI, sql: str, **params: object) -> list[tuple]:
    with app.state.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


def _checking(app: FastAPI, person: int) -> tuple[int, int]:
    [(account, balance)] = _rows(
        app,
        "SELECT id, balance_minor FROM account WHERE person_id = :p AND type = 'checking' "
        "ORDER BY id LIMIT 1",
        p=person,
    )
    return account, balance


def _digital(person: int, **data: Any) -> dict[str, Any]:
    return {
        "id": f"test-{uuid.uuid4().hex}",
        "type": "digital",
        "person_id": person,
        "occurred_at": datetime.now(UTC).isoformat(),
        "data": {"kind": "page_view", "channel": "app", "page": "/cards", **data},
    }


def _purchase(person: int, account: int, amount_minor: int, merchant: str) -> dict[str, Any]:
    return {
        "id": f"test-{uuid.uuid4().hex}",
        "type": "transaction",
        "person_id": person,
        "occurred_at": datetime.now(UTC).isoformat(),
        "data": {
            "account_id": account,
            "amount_minor": amount_minor,
            "currency": "USD",
            "category": "shopping",
            "channel": "card",
            "merchant": merchant,
        },
    }


def _until(check: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_a_customer_posts_their_own_app_events(
    client: TestClient, app: FastAPI, bus: SpyBus
) -> None:
    events = [_digital(1), _digital(1, kind="login")]
    response = client.post("/api/events", json={"events": events}, headers=_auth(1))
    assert response.status_code == 202
    assert response.json() == {"accepted": 2}
    assert [e.id for e in bus.published] == [e["id"] for e in events]
    refs = [f"event:{e['id']}" for e in events]

    def booked() -> bool:
        rows = _rows(app, "SELECT person_id, source_ref FROM digital_event WHERE person_id = 1")
        return set(refs) <= {ref for _, ref in rows}

    assert _until(booked), "the live consumer never booked the events"
    assert app.state.feature_store.features(1) is not None


def test_a_customer_cannot_post_about_someone_else(
    client: TestClient, app: FastAPI, bus: SpyBus
) -> None:
    events = [_digital(1), _digital(2)]
    response = client.post("/api/events", json={"events": events}, headers=_auth(1))
    assert response.status_code == 403
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", "events", 1]
    assert bus.published == []


def test_a_customer_cannot_book_transactions(client: TestClient, app: FastAPI, bus: SpyBus) -> None:
    account, _ = _checking(app, 1)
    response = client.post(
        "/api/events",
        json={"events": [_purchase(1, account, 10_000_00, "Free Money")]},
        headers=_auth(1),
    )
    assert response.status_code == 403
    assert bus.published == []


def test_one_invalid_event_refuses_the_whole_batch(
    client: TestClient, app: FastAPI, bus: SpyBus
) -> None:
    account, balance = _checking(app, 2)
    good = _purchase(2, account, -1_00, "Corner Shop")
    bad = _purchase(2, account, -1_00, "Corner Shop")
    bad["data"]["amount_minor"] = "1.50"  # money is never a float or text
    response = client.post(
        "/api/events", json={"events": [good, bad]}, headers=_auth(2, Role.advisor)
    )
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert errors and all(e["loc"][:3] == ["body", "events", 1] for e in errors)
    assert bus.published == []
    time.sleep(0.3)  # were anything published, the consumer would have booked it by now
    assert _checking(app, 2)[1] == balance
    assert not _rows(
        app, "SELECT id FROM ledger_entry WHERE source_ref = :r", r=f"event:{good['id']}"
    )


@pytest.mark.parametrize(
    "change",
    [
        lambda e: e.update(type="mystery"),
        lambda e: e.update(occurred_at="2026-01-01T00:00:00"),  # no time zone
        lambda e: e["data"].update(kind="teleport"),
        lambda e: e.pop("person_id"),
        lambda e: e.update(extra=True),
    ],
)
def test_malformed_events_are_422(client: TestClient, bus: SpyBus, change: Any) -> None:
    event = _digital(3)
    change(event)
    response = client.post(
        "/api/events", json={"events": [_digital(3), event]}, headers=_auth(3, Role.advisor)
    )
    assert response.status_code == 422
    assert all(e["loc"][2] == 1 for e in response.json()["detail"])
    assert bus.published == []


@pytest.mark.parametrize("size", [0, 501])
def test_batch_size_is_1_to_500(client: TestClient, bus: SpyBus, size: int) -> None:
    events = [_digital(3) for _ in range(size)]
    response = client.post("/api/events", json={"events": events}, headers=_auth(3, Role.advisor))
    assert response.status_code == 422
    assert bus.published == []


def test_an_account_that_is_not_the_persons_is_refused(
    client: TestClient, app: FastAPI, bus: SpyBus
) -> None:
    theirs, _ = _checking(app, 4)
    events = [_purchase(3, theirs, -5_00, "Somewhere"), _digital(99_999)]
    response = client.post("/api/events", json={"events": events}, headers=_auth(1, Role.advisor))
    assert response.status_code == 422
    assert [e["loc"][2] for e in response.json()["detail"]] == [0, 1]
    assert bus.published == []


def test_events_need_a_token(client: TestClient, bus: SpyBus) -> None:
    assert client.post("/api/events", json={"events": [_digital(1)]}).status_code == 401
    assert bus.published == []


def test_a_posted_transaction_shows_on_the_dashboard_once(
    client: TestClient, app: FastAPI, bus: SpyBus
) -> None:
    person = 5
    account, balance = _checking(app, person)
    before = client.get("/api/me/dashboard", headers=_auth(person)).json()
    event = _purchase(person, account, -123_45, "Harbor Outfitters")
    for _ in range(2):  # a re-sent event is applied once
        response = client.post(
            "/api/events", json={"events": [event]}, headers=_auth(1, Role.advisor)
        )
        assert response.status_code == 202

    def shown() -> dict[str, Any] | None:
        body = client.get("/api/me/dashboard", headers=_auth(person)).json()
        newest = body["recent_transactions"][0]
        return body if newest["merchant"] == "Harbor Outfitters" else None

    after = _until(shown)
    assert after, "the dashboard never showed the posted transaction"
    _until(lambda: app.state.live_updates.applied >= 2)
    newest = after["recent_transactions"][0]
    assert (newest["amount"], newest["account_id"], newest["category"]) == (
        "-123.45",
        account,
        "shopping",
    )
    spent = Decimal(after["spending"]["total"]) - Decimal(before["spending"]["total"])
    assert spent == Decimal("123.45")
    shopping = {c["category"]: Decimal(c["amount"]) for c in after["spending"]["by_category"]}
    assert shopping["shopping"] >= Decimal("123.45")
    balances = {a["id"]: a["balance"] for a in after["accounts"]}
    assert Decimal(balances[account]) == (Decimal(balance) - 12345) / 100
    assert _checking(app, person)[1] == balance - 123_45, "booked twice"
    rows = _rows(
        app, "SELECT count(*) FROM ledger_entry WHERE source_ref = :r", r=f"event:{event['id']}"
    )
    assert rows == [(1,)]
    audit = _rows(
        app,
        "SELECT actor, outcome FROM audit_log WHERE action = 'post_events' "
        "ORDER BY id DESC LIMIT 1",
    )
    assert audit == [("advisor:1", "success")]


def test_a_customers_preference_event_updates_their_contact_settings(
    client: TestClient, app: FastAPI, bus: SpyBus
) -> None:
    event = {
        "id": f"test-{uuid.uuid4().hex}",
        "type": "profile",
        "person_id": 6,
        "occurred_at": datetime.now(UTC).isoformat(),
        "data": {"field": "push", "value": False},
    }
    response = client.post("/api/events", json={"events": [event]}, headers=_auth(6))
    assert response.status_code == 202

    def push_off() -> bool:
        rows = _rows(app, "SELECT push FROM contact_preference WHERE person_id = 6")
        return rows == [(0,)] or rows == [(False,)]

    assert _until(push_off), "the preference was never stored"
