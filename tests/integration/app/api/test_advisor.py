"""``/api/advisor`` on a small seeded bank: search, summaries, cases, transcripts, audit; and
the operational endpoints ``/metrics`` and ``/ready``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.graph import END, START, MessagesState, StateGraph
from sqlalchemy import text

from app.auth import Role, issue_token
from app.main import create_app
from services.settings import Settings
from services.synth.writer import seed_bank

KEY = "advisor-key"
ADVISOR = 1


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    var: Path = tmp_path_factory.mktemp("api-advisor")
    settings = Settings(
        var_dir=var, database_url=f"sqlite:///{(var / 'bank.db').as_posix()}", secret_key=KEY
    )
    app = create_app(settings)
    with TestClient(app):
        seed_bank(app.state.engine, customers=6, seed=13, as_of=date.today(), workers=1)
        now = datetime.now(UTC)
        with app.state.engine.begin() as conn:
            for person, reason, state, hours in (
                (2, "dispute help", "open", 3),
                (3, "complaint", "closed", 2),
                (4, "mortgage question", "open", 1),
            ):
                conn.execute(
                    text(
                        "INSERT INTO handoff_case (person_id, reason, summary, status, opened_at) "
                        "VALUES (:p, :r, :s, :st, :t)"
                    ),
                    {
                        "p": person,
                        "r": reason,
                        "s": f"Customer {person}: {reason}",
                        "st": state,
                        "t": (now - timedelta(hours=hours)).replace(tzinfo=None).isoformat(" "),
                    },
                )
        yield app


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def _advisor() -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(person_id=ADVISOR, role=Role.advisor, key=KEY)}"}


def _customer(person: int) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(person_id=person, role=Role.customer, key=KEY)}"}


def _rows(app: FastAPI, sql: str, **params: object) -> list[tuple]:
    with app.state.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


def _last_audit(app: FastAPI) -> tuple:
    [row] = _rows(
        app,
        "SELECT actor, action, resource, resource_id, outcome, origin, occurred_at "
        "FROM audit_log ORDER BY id DESC LIMIT 1",
    )
    return row


def _chat(app: FastAPI, thread_id: str, question: str) -> None:
    """Put a conversation into the app's checkpointer the way the chat graph does."""

    def reply(state: MessagesState) -> dict[str, Any]:
        return {
            "messages": [
                AIMessage("", tool_calls=[{"name": "get_accounts", "args": {}, "id": "c1"}]),
                ToolMessage('{"accounts": []}', tool_call_id="c1", name="get_accounts"),
                AIMessage("Your balances are all healthy."),
            ]
        }

    builder = StateGraph(MessagesState)
    builder.add_node("reply", reply)
    builder.add_edge(START, "reply")
    builder.add_edge("reply", END)
    graph = builder.compile(checkpointer=app.state.saver)
    graph.invoke({"messages": [HumanMessage(question)]}, {"configurable": {"thread_id": thread_id}})


# --- search ------------------------------------------------------------------------------------


def test_search_finds_customers_by_name_email_phone_and_last4(
    client: TestClient, app: FastAPI
) -> None:
    [(name, email, phone)] = _rows(app, "SELECT full_name, email, phone FROM person WHERE id = 3")
    [(number,), *_] = _rows(app, "SELECT number FROM account WHERE person_id = 3 ORDER BY id")
    spaced = f"({phone[2:5]}) {phone[5:8]}-{phone[8:]}"
    for q in (name.split()[1].lower(), name, email.upper(), spaced, number[-4:]):
        response = client.get("/api/advisor/customers", params={"q": q}, headers=_advisor())
        assert response.status_code == 200, q
        found = response.json()
        assert 3 in {c["id"] for c in found}, q
        assert len(found) <= 20
    match = next(c for c in found if c["id"] == 3)
    assert number[-4:] in match["accounts_last4"]
    actor, action, *_ = _last_audit(app)
    assert (actor, action) == (f"advisor:{ADVISOR}", "search_customers")


def test_search_needs_a_query_and_treats_wildcards_literally(client: TestClient) -> None:
    assert client.get("/api/advisor/customers", headers=_advisor()).status_code == 422
    response = client.get("/api/advisor/customers", params={"q": "%"}, headers=_advisor())
    assert response.json() == []


# --- summary -----------------------------------------------------------------------------------


def test_summary_has_facts_with_their_sources_and_is_audited(
    client: TestClient, app: FastAPI
) -> None:
    _chat(app, "customer-2:summary", "why was I charged twice? this is ridiculous")
    response = client.get("/api/advisor/customers/2/summary", headers=_advisor())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["customer_id"] == 2
    assert "person:2" in body["sources"]
    accounts = {f"account:{a}" for (a,) in _rows(app, "SELECT id FROM account WHERE person_id = 2")}
    assert accounts <= set(body["sources"])
    assert any(f["source"].startswith("conversation:customer-2:summary") for f in body["facts"])
    assert all(f["source"] and f["text"] for f in body["facts"])
    assert all(f"[{f['source']}]" in body["text"] for f in body["facts"])
    actor, action, resource, rid, outcome, origin, when = _last_audit(app)
    assert (actor, action, resource, rid, outcome, origin) == (
        f"advisor:{ADVISOR}",
        "view_summary",
        "customer",
        "2",
        "success",
        "testclient",
    )
    assert when is not None


def test_summary_opens_with_a_brief_that_claims_no_handoff_that_did_not_run(
    client: TestClient, app: FastAPI
) -> None:
    _chat(app, "customer-3:fraud", "I didn't make these charges and I want to talk to a person")
    response = client.get("/api/advisor/customers/3/summary", headers=_advisor())
    assert response.status_code == 200, response.text
    body = response.json()
    brief = " ".join(body["brief"])
    assert "charges they do not recognise" in brief
    assert "asked for a person; no advisor has joined yet" in brief
    assert "possible fraud" in brief
    assert body["mood"]["label"] in ("negative", "distressed")
    assert "fraud" in body["mood"]["flags"] and body["mood"]["cues"]
    assert body["text"].startswith("Brief: " + body["brief"][0])
    facts = [f["text"] for f in body["facts"]]
    assert "Assistant used get_accounts" in facts and "Assistant used handoff" not in facts


def test_summary_of_nobody_is_404_and_audited_as_failure(client: TestClient, app: FastAPI) -> None:
    response = client.get("/api/advisor/customers/9999/summary", headers=_advisor())
    assert response.status_code == 404
    assert _last_audit(app)[1:5] == ("view_summary", "customer", "9999", "failure")


# --- cases -------------------------------------------------------------------------------------


def test_open_cases_newest_first(client: TestClient, app: FastAPI) -> None:
    response = client.get("/api/advisor/cases", headers=_advisor())
    assert response.status_code == 200
    cases = response.json()
    assert [c["customer_id"] for c in cases] == [4, 2]
    assert cases[0]["reason"] == "mortgage question" and cases[0]["customer_name"]
    one = client.get(f"/api/advisor/cases/{cases[1]['id']}", headers=_advisor())
    assert one.status_code == 200 and one.json() == cases[1]
    assert _last_audit(app)[1:5] == ("view_case", "handoff_case", str(cases[1]["id"]), "success")
    assert client.get("/api/advisor/cases/4242", headers=_advisor()).status_code == 404


# --- conversations ----------------------------------------------------------------------------


def test_advisor_reads_a_customers_conversation(client: TestClient, app: FastAPI) -> None:
    _chat(app, "customer-5:t1", "what's my balance")
    _chat(app, "customer-6:t9", "someone else's question")
    response = client.get("/api/advisor/customers/5/conversations", headers=_advisor())
    assert response.status_code == 200
    [thread] = response.json()
    assert thread["thread_id"] == "customer-5:t1" and thread["thread"] == "t1"
    assert thread["messages"] == 4 and thread["last_activity"]
    assert _last_audit(app)[1:5] == ("list_conversations", "customer", "5", "success")

    response = client.get("/api/advisor/conversations/customer-5:t1/transcript", headers=_advisor())
    assert response.status_code == 200
    body = response.json()
    assert body["customer_id"] == 5
    lines = body["lines"]
    assert [line["role"] for line in lines] == ["customer", "assistant", "tool", "assistant"]
    assert lines[0]["text"] == "what's my balance"
    assert lines[1]["tool_calls"] == ["get_accounts"]
    assert lines[3]["text"] == "Your balances are all healthy."
    assert _last_audit(app)[1:5] == (
        "view_transcript",
        "conversation",
        "customer-5:t1",
        "success",
    )


@pytest.mark.parametrize(
    "path",
    [
        "/api/advisor/conversations/customer-5:t1/transcript?customer=6",
        "/api/advisor/conversations/customer-5:nope/transcript",
        "/api/advisor/conversations/not-a-thread/transcript",
    ],
)
def test_a_transcript_that_is_not_that_customers_is_404(
    client: TestClient, app: FastAPI, path: str
) -> None:
    _chat(app, "customer-5:t1", "what's my balance")
    assert client.get(path, headers=_advisor()).status_code == 404
    assert _last_audit(app)[4] == "failure"


def test_conversations_of_nobody_is_404(client: TestClient) -> None:
    response = client.get("/api/advisor/customers/9999/conversations", headers=_advisor())
    assert response.status_code == 404


# --- operations --------------------------------------------------------------------------------


def test_metrics_count_requests_by_route_template_and_chat_errors(client: TestClient) -> None:
    client.get("/api/advisor/cases/4242", headers=_advisor())
    client.get("/api/me/profile", headers=_customer(1))
    with client.websocket_connect(
        f"/ws/chat?token={issue_token(person_id=1, role=Role.customer, key=KEY)}"
    ) as ws:
        assert ws.receive_json()["type"] == "STATE_SNAPSHOT"
        ws.send_text("not json")
        assert ws.receive_json()["code"] == "bad_frame"
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    body = response.text
    assert (
        'concierge_http_requests_total{method="GET",route="/api/advisor/cases/{case}",'
        'status="404"}' in body
    )
    assert 'route="/api/me/profile",status="200"' in body
    assert "concierge_http_request_duration_seconds_bucket{" in body
    assert "/4242" not in body, "raw paths must not become labels"
    assert "concierge_chat_turns_total" in body
    assert 'concierge_chat_errors_total{code="bad_frame"} 1.0' in body


def test_ready_and_health(client: TestClient) -> None:
    ready = client.get("/ready")
    assert ready.status_code == 200 and ready.json() == {"status": "ok", "database": "ok"}
    health = client.get("/health")
    assert health.status_code == 200 and health.json() == {"status": "ok"}


def test_openapi_documents_every_route_with_a_response_model(client: TestClient) -> None:
    import importlib
    import pkgutil

    from fastapi.routing import APIRoute

    import app.api

    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    routers = [
        importlib.import_module(f"app.api.{m.name}").__dict__.get("router")
        for m in pkgutil.iter_modules(app.api.__path__)
    ]
    routes = [
        r
        for router in routers
        if router is not None
        for r in router.routes
        if isinstance(r, APIRoute) and r.path.startswith("/api/")
    ]
    # every REST route of every router, not a list kept by hand, and nothing documented twice
    assert {r.path for r in routes} == {p for p in paths if p.startswith("/api/")}
    assert len(routes) >= 17
    for route in routes:
        assert route.path in paths, route.path
        for method in route.methods:
            operation = paths[route.path][method.lower()]
            ok = next((v for k, v in operation["responses"].items() if k.startswith("2")), None)
            assert ok, (method, route.path)
            if "content" in ok:  # a 204 has no body to describe
                assert "$ref" in str(ok["content"]["application/json"]["schema"]), route.path
