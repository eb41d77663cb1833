"""Notifications in the app: an event becomes a toast on the open chat and a line in the inbox."""

from __future__ import annotations

import time
import uuid
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

KEY = "notify-test-key"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, classifier_dir: Path) -> Iterator[TestClient]:
    var = tmp_path_factory.mktemp("notify")
    app = create_app(
        Settings(
            var_dir=var,
            database_url=f"sqlite:///{(var / 'bank.db').as_posix()}",
            secret_key=KEY,
            nlu_model=classifier_dir,
            notify_sweep_seconds=3600,
        )
    )
    with TestClient(app) as client:
        seed_bank(app.state.engine, customers=3, seed=5, as_of=date.today())
        yield client


def _me(person: int) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(person_id=person, role=Role.customer, key=KEY)}"}


def _bank() -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(person_id=1, role=Role.advisor, key=KEY)}"}


def _checking(client: TestClient, person: int) -> int:
    with client.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
        return int(
            conn.execute(
                text(
                    "SELECT id FROM account WHERE person_id = :p AND type = 'checking' "
                    "ORDER BY id LIMIT 1"
                ),
                {"p": person},
            ).scalar_one()
        )


def _charge(client: TestClient, person: int, dollars: int) -> str:
    event = {
        "id": f"test-{uuid.uuid4().hex}",
        "type": "transaction",
        "person_id": person,
        "occurred_at": datetime.now(UTC).isoformat(),
        "data": {
            "account_id": _checking(client, person),
            "amount_minor": -dollars * 100,
            "currency": "USD",
            "category": "shopping",
            "channel": "card",
            "merchant": "Hifi Store",
        },
    }
    posted = client.post("/api/events", json={"events": [event]}, headers=_bank())
    assert posted.status_code == 202, posted.text
    return str(event["id"])


def _inbox(client: TestClient, person: int, **params: Any) -> dict[str, Any]:
    got = client.get("/api/me/inbox", headers=_me(person), params=params)
    assert got.status_code == 200, got.text
    return dict(got.json())


def _until(fn: Any, seconds: float = 20.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = fn()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("not within the time allowed")


def test_settings_are_the_customers_own_and_a_bad_value_changes_nothing(
    client: TestClient,
) -> None:
    before = client.get("/api/me/notification-settings", headers=_me(2)).json()
    bad = client.patch(
        "/api/me/notification-settings",
        headers=_me(2),
        json={"large_purchase_over": "200.00", "timezone": "Mars/Olympus"},
    )
    assert bad.status_code == 422
    assert client.get("/api/me/notification-settings", headers=_me(2)).json() == before
    for body in (
        {"quiet_start": "25:00"},
        {"large_purchase_over": "-5"},
        {"channels": {"fax": True}},
    ):
        assert (
            client.patch("/api/me/notification-settings", headers=_me(2), json=body).status_code
            == 422
        )
    ok = client.patch(
        "/api/me/notification-settings",
        headers=_me(2),
        json={"large_purchase_over": "$1,500", "quiet_start": "22:30", "quiet_end": "07:00"},
    )
    assert ok.status_code == 200, ok.text
    got = ok.json()
    assert got["large_purchase_over"] == "1500.00"
    assert (got["quiet_start"], got["quiet_end"]) == ("22:30", "07:00")
    assert client.get("/api/me/notification-settings", headers=_me(3)).json() != got
    assert client.get("/api/me/notification-settings").status_code == 401


def test_a_large_charge_reaches_the_open_chat_as_a_toast_and_stays_in_the_inbox(
    client: TestClient,
) -> None:
    changed = client.patch(
        "/api/me/notification-settings",
        headers=_me(1),
        json={"large_purchase_over": "200.00", "quiet_start": None, "quiet_end": None},
    )
    assert changed.status_code == 200
    token = issue_token(person_id=1, role=Role.customer, key=KEY)
    with client.websocket_connect(f"/ws/chat?token={token}") as ws:
        ws.receive_json()  # the snapshot
        _charge(client, 1, 640)
        while True:
            frame = ws.receive_json()
            if frame.get("name") == "notification":
                break
    toast = frame["value"]
    assert toast["kind"] == "large_transaction" and "$640" in toast["body"]
    inbox = _until(lambda: _inbox(client, 1)["items"])
    assert inbox[0]["id"] == toast["id"] and inbox[0]["read_at"] is None
    assert _inbox(client, 1)["unread"] >= 1
    # another customer's answer to it is a 404, and changes nothing
    other = client.post(
        f"/api/me/inbox/{toast['id']}/feedback", headers=_me(2), json={"response": "dismissed"}
    )
    assert other.status_code == 404
    assert all(i["id"] != toast["id"] for i in _inbox(client, 2)["items"])
    # "not helpful": kept with it, taught to the offer log, and that kind rests
    said = client.post(
        f"/api/me/inbox/{toast['id']}/feedback", headers=_me(1), json={"response": "not_helpful"}
    )
    assert said.status_code == 200 and said.json()["feedback"] == "not_helpful"
    with client.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
        learned = conn.execute(
            text(
                "SELECT response FROM offer_event WHERE person_id = 1 "
                "AND offer_code = 'review_transaction' ORDER BY id DESC LIMIT 1"
            )
        ).scalar_one()
    assert learned == "declined"
    _charge(client, 1, 900)
    _until(
        lambda: (
            client.app.state.engine.connect()  # type: ignore[attr-defined]
            .execute(text("SELECT count(*) FROM notification WHERE person_id = 1"))
            .scalar_one()
            >= 2
        )
    )
    with client.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
        rested = conn.execute(
            text(
                "SELECT d.state, d.reason FROM notification_delivery d JOIN notification n "
                "ON n.id = d.notification_id WHERE n.person_id = 1 AND d.channel = 'in_app' "
                "ORDER BY d.id DESC LIMIT 1"
            )
        ).first()
    assert rested is not None and rested.state == "skipped" and "not_helpful" in rested.reason
    assert _inbox(client, 1, unread=True)["unread"] == _inbox(client, 1)["unread"]
