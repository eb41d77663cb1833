"""A person in the same chat: queue, one claim, advisor messages and proposals, hand back."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.auth import Role, issue_token
from app.main import create_app
from services import handoffs
from services.settings import Settings
from services.synth.writer import seed_bank

KEY = "live-test-key"


def _app(var: Path, classifier_dir: Path, **settings: Any) -> Any:
    return create_app(
        Settings(
            var_dir=var,
            database_url=f"sqlite:///{(var / 'bank.db').as_posix()}",
            secret_key=KEY,
            nlu_model=classifier_dir,
            **settings,
        )
    )


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, classifier_dir: Path) -> Iterator[TestClient]:
    app = _app(tmp_path_factory.mktemp("live"), classifier_dir)
    with TestClient(app) as client:
        seed_bank(app.state.engine, customers=4, seed=9, as_of=date.today())
        with app.state.engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE account SET balance_minor = 100000 "
                    "WHERE person_id = 1 AND type = 'checking'"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO advisor (username, display_name, password_hash) "
                    "VALUES ('second@bank.example', 'Sam Second', 'x')"
                )
            )
        yield client


def _customer(person: int) -> str:
    return issue_token(person_id=person, role=Role.customer, key=KEY)


def _advisor(advisor: int) -> dict[str, str]:
    token = issue_token(person_id=advisor, role=Role.advisor, key=KEY)
    return {"Authorization": f"Bearer {token}"}


def _until(ws: Any, done: Any) -> list[dict[str, Any]]:
    frames = []
    while True:
        frame = ws.receive_json()
        frames.append(frame)
        if done(frame):
            return frames


def _custom(name: str, **value: Any) -> Any:
    def done(frame: dict[str, Any]) -> bool:
        found = frame.get("value") or {}
        is_dict = isinstance(found, dict)
        return (
            frame.get("type") == "CUSTOM"
            and frame.get("name") == name
            and is_dict
            and all(found.get(k) == v for k, v in value.items())
        )

    return done


def _kind(*kinds: str) -> Any:
    return lambda frame: frame["type"] in kinds


def _ask_for_a_person(ws: Any, thread: str) -> dict[str, Any]:
    ws.receive_json()  # the snapshot
    ws.send_json({"type": "USER_MESSAGE", "threadId": thread, "text": "I want to talk to a person"})
    asked = _until(ws, _kind("CONFIRMATION_REQUIRED", "RUN_FINISHED"))
    assert asked[-1]["type"] == "CONFIRMATION_REQUIRED", asked
    assert asked[-1]["calls"][0]["name"] == "handoff"
    ws.send_json({"type": "CONFIRM", "threadId": thread, "approve": True})
    frames = _until(ws, _custom("handoff", status="waiting"))
    return dict(frames[-1]["value"])


def _checking(client: TestClient, person: int) -> tuple[int, int]:
    with client.app.state.engine.begin() as conn:  # type: ignore[attr-defined]
        rows = conn.execute(
            text("SELECT id, balance_minor FROM account WHERE person_id = :p ORDER BY id"),
            {"p": person},
        ).all()
    return rows[0][0], rows[0][1]


def test_the_whole_hand_off_from_queue_to_hand_back(client: TestClient) -> None:
    with client.websocket_connect(f"/ws/chat?token={_customer(1)}") as ws:
        waiting = _ask_for_a_person(ws, "t1")
        assert waiting["position"] == 1 and waiting["waitSeconds"] > 0
        assert "queue" in waiting["text"]

        queue = client.get("/api/advisor/live/queue", headers=_advisor(1)).json()
        assert [q["customer_id"] for q in queue] == [1]
        handoff = queue[0]["id"]

        # while waiting the assistant still answers
        ws.send_json({"type": "USER_MESSAGE", "threadId": "t1", "text": "what's my balance"})
        answered = _until(ws, _kind("RUN_FINISHED", "RUN_ERROR"))
        assert answered[-1]["type"] == "RUN_FINISHED"

        # two advisors click at once: exactly one gets it
        with ThreadPoolExecutor(2) as pool:
            claims = list(
                pool.map(
                    lambda a: (
                        client.post(
                            f"/api/advisor/live/{handoff}/claim", headers=_advisor(a)
                        ).status_code
                    ),
                    [1, 2],
                )
            )
        assert sorted(claims) == [200, 409]
        holder = 1 if claims[0] == 200 else 2
        joined = _until(ws, _custom("handoff", status="active"))[-1]["value"]
        assert joined["advisor"] in ("Sam Second", "Alex Advisor") or joined["advisor"]
        assert client.get("/api/advisor/live/queue", headers=_advisor(1)).json() == []

        # the advisor's words reach the customer; the customer's go to the advisor, not the bot
        said = client.post(
            f"/api/advisor/live/{handoff}/messages",
            headers=_advisor(holder),
            json={"text": "Hi, I'm here to help."},
        )
        assert said.status_code == 200
        heard = _until(ws, _custom("advisor_message"))[-1]["value"]
        assert heard["text"] == "Hi, I'm here to help."
        other = 2 if holder == 1 else 1
        refused = client.post(
            f"/api/advisor/live/{handoff}/messages", headers=_advisor(other), json={"text": "hi"}
        )
        assert refused.status_code == 409
        # a line stored just before the customer speaks, its announcement not yet heard: it
        # still reaches the customer, before the echo of their own words
        with client.app.state.engine.begin() as conn:  # type: ignore[attr-defined]
            handoffs.said(conn, handoff, author="advisor", text="One moment.", advisor_id=holder)
        ws.send_json(
            {"type": "USER_MESSAGE", "threadId": "t1", "text": "please move 50 to savings"}
        )
        echoed = _until(ws, _custom("handoff_line"))
        assert not any(f["type"] == "RUN_STARTED" for f in echoed)
        early = [f["value"]["text"] for f in echoed if f.get("name") == "advisor_message"]
        assert early == ["One moment."]
        seen = client.get(f"/api/advisor/live/{handoff}", headers=_advisor(holder)).json()
        assert [ln["text"] for ln in seen["lines"] if ln["author"] == "customer"] == [
            "please move 50 to savings"
        ]
        assert any(t["role"] == "customer" for t in seen["transcript"])
        summary = client.get("/api/advisor/customers/1/summary", headers=_advisor(holder)).json()
        recent = [f["text"] for f in summary["facts"] if f["section"] == "Recent conversation"]
        assert any(t.endswith("(advisor) said: Hi, I'm here to help.") for t in recent), recent
        assert "Asked: please move 50 to savings" in recent

        # the advisor proposes; nothing moves until the customer approves the exact card
        with client.app.state.engine.begin() as conn:  # type: ignore[attr-defined]
            accounts = conn.execute(
                text("SELECT id, type FROM account WHERE person_id = 1 ORDER BY id")
            ).all()
        source = next(a for a, t in accounts if t == "checking")
        target = next(a for a, t in accounts if a != source and t in ("savings", "checking"))
        before = dict(
            (a, b)
            for a, b in client.app.state.engine.connect()  # type: ignore[attr-defined]
            .execute(text("SELECT id, balance_minor FROM account WHERE person_id = 1"))
            .all()
        )
        proposed = client.post(
            f"/api/advisor/live/{handoff}/propose",
            headers=_advisor(holder),
            json={
                "tool": "transfer",
                "args": {
                    "from_account": f"acc-{source}",
                    "to_account": f"acc-{target}",
                    "amount": "50.00",
                },
            },
        )
        assert proposed.status_code == 200, proposed.text
        card = _until(ws, _kind("CONFIRMATION_REQUIRED"))[-1]
        assert card["proposedBy"] == "advisor" and card["calls"][0]["args"]["amount"] == "50.00"
        unchanged = _checking(client, 1)
        assert unchanged[1] == before[unchanged[0]]
        ws.send_json({"type": "CONFIRM", "threadId": "t1", "approve": True})
        _until(ws, _kind("RUN_FINISHED", "RUN_ERROR"))
        with client.app.state.engine.begin() as conn:  # type: ignore[attr-defined]
            after = dict(
                conn.execute(
                    text("SELECT id, balance_minor FROM account WHERE person_id = 1")
                ).all()
            )
        assert after[source] == before[source] - 5000
        assert after[target] == before[target] + 5000

        # an advisor cannot propose anything but the customer's writes
        bad = client.post(
            f"/api/advisor/live/{handoff}/propose",
            headers=_advisor(holder),
            json={"tool": "get_accounts", "args": {}},
        )
        assert bad.status_code == 422

        # assist: articles, the next best action and a draft, each recorded; one marked used
        helped = client.get(f"/api/advisor/live/{handoff}/assist", headers=_advisor(holder))
        assert helped.status_code == 200
        help_ = helped.json()
        assert help_["draft"]["text"]
        used = client.post(
            f"/api/advisor/live/{handoff}/assist/{help_['draft']['suggestion']}/used",
            headers=_advisor(holder),
        )
        assert used.status_code == 200

        # an advisor-only action: a fee refunded once, told to the customer, audited
        with client.app.state.engine.begin() as conn:  # type: ignore[attr-defined]
            fee = conn.execute(
                text(
                    "INSERT INTO ledger_entry (account_id, person_id, booked_at, amount_minor, "
                    "currency, category, channel, description, balance_after_minor) "
                    "SELECT id, person_id, CURRENT_TIMESTAMP, -3500, currency, 'fees', 'fee', "
                    "'OVERDRAFT FEE', balance_minor - 3500 FROM account WHERE id = :a "
                    "RETURNING id"
                ),
                {"a": source},
            ).scalar_one()
            conn.execute(
                text("UPDATE account SET balance_minor = balance_minor - 3500 WHERE id = :a"),
                {"a": source},
            )
        fees = client.get(f"/api/advisor/live/{handoff}/fees", headers=_advisor(holder)).json()
        assert fee in [f["transaction"] for f in fees if not f["refunded"]]
        refund = client.post(
            f"/api/advisor/live/{handoff}/refund-fee",
            headers=_advisor(holder),
            json={"transaction": fee},
        )
        assert refund.status_code == 200 and "$35.00" in refund.json()["summary"]
        results = _until(
            ws, lambda f: f.get("name") == "handoff_line" and "Refund" in f["value"]["text"]
        )
        assert results[-1]["value"]["kind"] == "result"
        again = client.post(  # asked again: the same refund, not a second one
            f"/api/advisor/live/{handoff}/refund-fee",
            headers=_advisor(holder),
            json={"transaction": fee},
        )
        assert again.status_code == 200
        with client.app.state.engine.begin() as conn:  # type: ignore[attr-defined]
            credits = conn.execute(
                text("SELECT count(*) FROM ledger_entry WHERE category = 'fee_refund'")
            ).scalar_one()
        assert credits == 1
        with client.app.state.engine.begin() as conn:  # type: ignore[attr-defined]
            actors = (
                conn.execute(text("SELECT actor FROM audit_log WHERE action = 'fee_refund'"))
                .scalars()
                .all()
            )
        assert actors == [f"advisor:{holder}"]

        # hand back: the customer sees it and the assistant answers again
        back = client.post(f"/api/advisor/live/{handoff}/return", headers=_advisor(holder))
        assert back.status_code == 200
        _until(ws, _custom("handoff", status="returned"))
        ws.send_json({"type": "USER_MESSAGE", "threadId": "t1", "text": "what's my balance"})
        again = _until(ws, _kind("RUN_FINISHED", "RUN_ERROR"))
        assert again[0]["type"] == "RUN_STARTED" and again[-1]["type"] == "RUN_FINISHED"

    stats = client.get("/api/advisor/live/stats", headers=_advisor(1)).json()
    assert stats["handed_off"] >= 1 and stats["assist_used"] >= 1
    assert 0 <= stats["containment"] < 1 and stats["wait_seconds_p50"] is not None
    scraped = client.get("/metrics").text
    assert f"concierge_containment {stats['containment']}" in scraped
    assert 'concierge_assist_suggestions{used="true"} 1.0' in scraped
    assert 'concierge_handoff_wait_seconds{quantile="0.95"}' in scraped


def test_a_reload_resumes_the_waiting_conversation(client: TestClient) -> None:
    with client.websocket_connect(f"/ws/chat?token={_customer(2)}") as ws:
        _ask_for_a_person(ws, "r1")
    with client.websocket_connect(f"/ws/chat?token={_customer(2)}") as ws:
        ws.receive_json()
        ws.send_json({"type": "RESUME", "threadId": "r1", "after": 0})
        state = _until(ws, _custom("handoff", status="waiting"))[-1]["value"]
        assert state["position"] >= 1
        ws.send_json({"type": "LEAVE_MESSAGE", "threadId": "r1", "text": "call me tomorrow"})
        left = _until(ws, _custom("handoff", status="left"))[-1]["value"]
        assert "message" in left["text"]
    queue = client.get("/api/advisor/live/queue", headers=_advisor(1)).json()
    assert 2 not in [q["customer_id"] for q in queue]


def test_customers_never_reach_the_advisors_routes(client: TestClient) -> None:
    headers = {"Authorization": f"Bearer {_customer(1)}"}
    assert client.get("/api/advisor/live/queue", headers=headers).status_code == 403
    assert client.post("/api/advisor/live/1/claim", headers=headers).status_code == 403
    with client.websocket_connect(f"/ws/advisor?token={_customer(1)}") as ws:
        assert ws.receive_json()["code"] == "unauthorized"


def test_outside_advisor_hours_the_customer_is_told_and_the_case_stays(
    tmp_path: Path, classifier_dir: Path
) -> None:
    app = _app(tmp_path, classifier_dir, advisor_hours="sat 00:00-00:01", bank_timezone="UTC")
    with TestClient(app) as client:
        seed_bank(app.state.engine, customers=2, seed=9, as_of=date.today())
        with client.websocket_connect(f"/ws/chat?token={_customer(1)}") as ws:
            ws.receive_json()
            ws.send_json({"type": "USER_MESSAGE", "threadId": "h", "text": "talk to a human"})
            _until(ws, _kind("CONFIRMATION_REQUIRED"))
            ws.send_json({"type": "CONFIRM", "threadId": "h", "approve": True})
            told = _until(ws, _custom("handoff", status="closed_hours"))[-1]["value"]
        assert "Sat" in told["hours"] and told["case"] is not None
        assert client.get("/api/advisor/live/queue", headers=_advisor(1)).json() == []
