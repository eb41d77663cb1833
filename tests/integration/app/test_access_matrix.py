"""The access-control matrix: every route of the app x every role x whose records it names.

Routes come from ``app.routes`` (REST, websocket, pages, docs, static), so a route added without
an entry in ``RULES`` fails ``test_every_route_has_a_declared_rule``. Roles: no token, a forged
token, an expired token, customer A, customer B, an advisor. Each route that names a record
(path or query parameter) is called with A's and with B's ids. Customers reach only their own
records (someone else's look like none: 404, or 403 where the route is about people), advisors
reach any customer and every advisor access leaves an audit row, and no response to anyone but
an advisor ever carries the other customer's name, e-mail, phone, account numbers or balances.

``test_every_tool_refuses_another_customers_records`` does the same for every tool of
``tools.registry.all_tools()``: B's refs under A's runtime context, each write approved at the
gate, on SQLite and PostgreSQL: refused as not found (writes) or nothing of B's (reads), and the
database unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.types import Command
from sqlalchemy import Engine, select, text
from sqlmodel import SQLModel
from starlette.routing import Mount, WebSocketRoute

from agents.customer import customer_context
from agents.graph import compile_graph
from app.auth import Role, issue_token
from app.main import create_app
from services import handoffs
from services.notifications import Candidate, outbox
from services.notifications.policy import Contact
from services.settings import Settings
from services.synth.writer import seed_bank
from tests.support.bank_world import CASES, NOW, World, build_world, snapshot
from tests.support.scripted_model import ScriptedChatModel, call
from tools.bank import Bank
from tools.registry import all_tools
from tools.runtime import ChatContext

KEY = "matrix-key"
ADVISOR = 1
ROLES = ("anonymous", "forged", "expired", "customer_a", "customer_b", "advisor")
UNAUTHENTICATED = ("anonymous", "forged", "expired")


# --- the world: two customers with distinctive data, one advisor --------------------------------


@dataclass
class Who:
    """One customer's ids and the strings nobody else may ever see."""

    person: int
    username: str
    account: int
    case: int
    thread: str  # the client's thread id
    secrets: list[str]
    # live hand-offs held by the advisor (one to talk in, one to close, one to hand back), one
    # waiting to be claimed, a suggestion made in the first, and a fee to refund
    live: dict[str, int] = field(default_factory=dict)
    notification: int = 0  # one in their inbox

    @property
    def full_thread(self) -> str:
        """The checkpointer's id of their conversation."""
        return f"customer-{self.person}:{self.thread}"


IDENTITIES = {
    1: ("Aurelio", "Brightwater", "aurelio.bright@secret-a.example", "+15550104321", 12_345_67),
    2: ("Zephyrine", "Quillfeather", "zephyrine.quill@secret-b.example", "+15550209876", 98_765_43),
}


def _chat(app: FastAPI, thread_id: str, said: str) -> None:
    """Put a conversation into the app's checkpointer the way the chat graph does."""

    def reply(state: MessagesState) -> dict[str, Any]:
        return {"messages": [AIMessage(f"Noted: {said}")]}

    builder = StateGraph(MessagesState)
    builder.add_node("reply", reply)
    builder.add_edge(START, "reply")
    builder.add_edge("reply", END)
    graph = builder.compile(checkpointer=app.state.saver)
    graph.invoke({"messages": [HumanMessage(said)]}, {"configurable": {"thread_id": thread_id}})


def _dress(app: FastAPI, person: int) -> Who:
    first, last, email, phone, balance = IDENTITIES[person]
    engine = app.state.engine
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE person SET first_name = :f, last_name = :l, full_name = :n, email = :e, "
                "phone = :p WHERE id = :id"
            ),
            {"f": first, "l": last, "n": f"{first} {last}", "e": email, "p": phone, "id": person},
        )
        accounts = conn.execute(
            text("SELECT id, number FROM account WHERE person_id = :p ORDER BY id"), {"p": person}
        ).all()
        secrets = [first, last, email, phone, phone[2:]]
        for n, (account_id, number) in enumerate(accounts):
            minor = balance + n * 100_00
            conn.execute(
                text("UPDATE account SET balance_minor = :b WHERE id = :id"),
                {"b": minor, "id": account_id},
            )
            secrets += [number, f"{minor / 100:.2f}", f"{minor / 100:,.2f}"]
        conn.execute(
            text(
                "INSERT INTO ledger_entry (account_id, person_id, booked_at, amount_minor, "
                "currency, merchant, category, channel, description, balance_after_minor) "
                "VALUES (:a, :p, :t, -4200, 'USD', :m, 'shopping', 'card', :m, :b)"
            ),
            {
                "a": accounts[0][0],
                "p": person,
                "t": (datetime.now(UTC) - timedelta(days=1)).replace(tzinfo=None),
                "m": f"{last} Orchids",
                "b": balance,
            },
        )
        case = conn.execute(
            text(
                "INSERT INTO handoff_case (person_id, reason, summary, status, opened_at) "
                "VALUES (:p, 'dispute help', :s, 'open', :t) RETURNING id"
            ),
            {
                "p": person,
                "s": f"{first} {last} asked about a dispute",
                "t": datetime.now(UTC).replace(tzinfo=None).isoformat(" "),
            },
        ).scalar_one()
        username = conn.execute(
            text("SELECT username FROM credential WHERE person_id = :p"), {"p": person}
        ).scalar_one()
        live = _live(conn, person, accounts[0][0], balance)
        notification = _notification(conn, person, last)
        secrets.append(f"{(balance - 35_00) / 100:,.2f}")
    thread = f"thread-of-{person}"
    _chat(app, f"customer-{person}:{thread}", f"I am {first} {last}, account {accounts[0][1]}")
    return Who(person, username, accounts[0][0], case, thread, secrets, live, notification)


def _notification(conn: Any, person: int, last: str) -> int:
    """A notification in the customer's inbox that names them."""
    candidate = Candidate(
        person, "large_transaction", f"matrix:{person}", "Large transaction", f"{last} paid", "t"
    )
    rows = outbox.record(conn, candidate, Contact(person_id=person), datetime.now(UTC))
    return int(rows[0]["notification_id"])


def _live(conn: Any, person: int, account: int, balance: int) -> dict[str, int]:
    """The customer's live hand-offs, a suggestion and a fee (see ``Who.live``)."""
    now = datetime.now(UTC)
    live = {}
    for name in ("held", "closing", "returning", "waiting"):
        row = handoffs.enqueue(
            conn, person_id=person, thread=f"live-{name}-{person}", reason="talk", now=now
        )
        if name != "waiting":
            handoffs.claim(conn, row["id"], advisor_id=ADVISOR, now=now)
        live[name] = row["id"]
    [live["suggestion"]] = handoffs.suggested(conn, live["held"], [("draft", "Hi")], now)
    conn.execute(
        text("UPDATE account SET balance_minor = :b WHERE id = :a"),
        {"b": balance - 35_00, "a": account},
    )
    live["fee"] = conn.execute(
        text(
            "INSERT INTO ledger_entry (account_id, person_id, booked_at, amount_minor, currency, "
            "category, channel, description, balance_after_minor) VALUES (:a, :p, :t, -3500, "
            "'USD', 'fees', 'fee', 'OVERDRAFT FEE', :b) RETURNING id"
        ),
        {"a": account, "p": person, "t": now.replace(tzinfo=None), "b": balance - 35_00},
    ).scalar_one()
    return live


@dataclass
class Matrix:
    """The running app, the two customers, and their tokens by role."""

    app: FastAPI
    client: TestClient
    a: Who
    b: Who

    def token(self, role: str) -> str | None:
        """The bearer token a role presents (None: none at all)."""
        if role == "anonymous":
            return None
        if role == "forged":
            return issue_token(person_id=self.b.person, role=Role.customer, key="not-the-key")
        if role == "expired":
            return issue_token(
                person_id=self.a.person, role=Role.customer, key=KEY, ttl=timedelta(seconds=-1)
            )
        if role == "advisor":
            return issue_token(person_id=ADVISOR, role=Role.advisor, key=KEY)
        person = self.a.person if role == "customer_a" else self.b.person
        return issue_token(person_id=person, role=Role.customer, key=KEY)

    def customer(self, role: str) -> Who | None:
        """The customer a role is, if any."""
        return {"customer_a": self.a, "customer_b": self.b}.get(role)


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory, classifier_dir: Path) -> Iterator[Matrix]:
    var = tmp_path_factory.mktemp("matrix")
    settings = Settings(
        var_dir=var,
        database_url=f"sqlite:///{(var / 'bank.db').as_posix()}",
        secret_key=KEY,
        nlu_model=classifier_dir,
    )
    app = create_app(settings)
    with TestClient(app) as client:
        seed_bank(app.state.engine, customers=4, seed=21, as_of=date.today(), workers=1)
        yield Matrix(app, client, _dress(app, 1), _dress(app, 2))


# --- the rules: what each route lets each role do -----------------------------------------------


@dataclass(frozen=True)
class Probe:
    """One request, built for the records of ``Who`` (or of nobody)."""

    method: str
    path: str
    params: dict[str, Any] | None = None
    body: Any = None


@dataclass(frozen=True)
class Rule:
    """Who may use a route and what it does with someone else's records.

    ``access``: ``public`` (anyone), ``customer`` (customer tokens only), ``advisor`` (advisor
    tokens only, audited), ``principal`` (customer or advisor), ``sign_in``, ``websocket``.
    ``probes`` build the requests for a target customer; ``names_record`` says whether they
    name that customer's records (then each is tried with A's and B's); ``foreign`` is the status
    a customer gets for the other customer's records.
    """

    access: str
    probes: Callable[[Who], list[Probe]]
    names_record: bool = False
    foreign: int = 404
    ok: int = 200


def _get(path: str, **params: Any) -> Callable[[Who], list[Probe]]:
    return lambda who: [Probe("GET", path, params or None)]


def _digital(who: Who) -> list[Probe]:
    event = {
        "id": f"matrix-{who.person}-{datetime.now(UTC).timestamp()}",
        "type": "digital",
        "person_id": who.person,
        "occurred_at": datetime.now(UTC).isoformat(),
        "data": {"kind": "app_open", "channel": "app"},
    }
    return [Probe("POST", "/api/events", body={"events": [event]})]


def _live_probe(
    method: str, which: str, rest: str = "", body: Any = None
) -> Callable[[Who], list[Probe]]:
    """A request on one of the customer's live hand-offs (``Who.live``)."""
    return lambda who: [Probe(method, f"/api/advisor/live/{who.live[which]}{rest}", body=body)]


RULES: dict[tuple[str, str], Rule] = {
    ("GET", "/openapi.json"): Rule("public", _get("/openapi.json")),
    ("GET", "/docs"): Rule("public", _get("/docs")),
    ("GET", "/docs/oauth2-redirect"): Rule("public", _get("/docs/oauth2-redirect")),
    ("GET", "/redoc"): Rule("public", _get("/redoc")),
    ("GET", "/health"): Rule("public", _get("/health")),
    ("GET", "/ready"): Rule("public", _get("/ready")),
    ("GET", "/metrics"): Rule("public", _get("/metrics")),
    ("GET", "/"): Rule("public", _get("/")),
    ("GET", "/advisor"): Rule("public", _get("/advisor")),
    ("GET", "/static"): Rule("public", _get("/static/js/chat.js")),
    ("POST", "/api/auth/token"): Rule(
        "sign_in",
        lambda who: [
            Probe("POST", "/api/auth/token", body={"username": who.username, "password": "x"})
        ],
        names_record=True,
    ),
    ("GET", "/api/me/profile"): Rule("customer", _get("/api/me/profile")),
    ("GET", "/api/me/accounts"): Rule("customer", _get("/api/me/accounts")),
    ("GET", "/api/me/goals"): Rule("customer", _get("/api/me/goals")),
    ("GET", "/api/me/transactions"): Rule(
        "customer",
        lambda who: [
            Probe("GET", "/api/me/transactions", {"account_id": who.account}),
            Probe("GET", "/api/me/transactions", {"account": str(who.account)}),
        ],
        names_record=True,
    ),
    ("GET", "/api/me/dashboard"): Rule("customer", _get("/api/me/dashboard")),
    ("GET", "/api/me/insights"): Rule("customer", _get("/api/me/insights")),
    ("GET", "/api/me/notifications"): Rule("customer", _get("/api/me/notifications")),
    ("GET", "/api/me/inbox"): Rule("customer", _get("/api/me/inbox")),
    ("POST", "/api/me/inbox/{notification}/feedback"): Rule(
        "customer",
        lambda who: [
            Probe(
                "POST",
                f"/api/me/inbox/{who.notification}/feedback",
                body={"response": "opened"},
            )
        ],
        names_record=True,
    ),
    ("GET", "/api/me/notification-settings"): Rule(
        "customer", _get("/api/me/notification-settings")
    ),
    ("PATCH", "/api/me/notification-settings"): Rule(
        "customer",
        lambda who: [
            Probe("PATCH", "/api/me/notification-settings", body={"large_purchase_over": "300"})
        ],
    ),
    ("GET", "/api/me/recommendations"): Rule("customer", _get("/api/me/recommendations")),
    # Offer codes are the catalogue's, not a customer's: the answer is always the caller's own.
    ("POST", "/api/me/recommendations/{offer}/response"): Rule(
        "customer",
        lambda who: [
            Probe(
                "POST",
                "/api/me/recommendations/high_yield_savings/response",
                body={"response": "clicked"},
            )
        ],
    ),
    ("POST", "/api/events"): Rule("principal", _digital, names_record=True, foreign=403, ok=202),
    ("GET", "/api/advisor/customers"): Rule(
        "advisor", lambda who: [Probe("GET", "/api/advisor/customers", {"q": who.secrets[1]})]
    ),
    ("GET", "/api/advisor/customers/{customer}/summary"): Rule(
        "advisor",
        lambda who: [Probe("GET", f"/api/advisor/customers/{who.person}/summary")],
        names_record=True,
    ),
    ("GET", "/api/advisor/customers/{customer}/conversations"): Rule(
        "advisor",
        lambda who: [Probe("GET", f"/api/advisor/customers/{who.person}/conversations")],
        names_record=True,
    ),
    ("GET", "/api/advisor/conversations/{thread}/transcript"): Rule(
        "advisor",
        lambda who: [
            Probe("GET", f"/api/advisor/conversations/{who.full_thread}/transcript"),
            Probe(
                "GET",
                f"/api/advisor/conversations/{who.full_thread}/transcript",
                {"customer": who.person},
            ),
        ],
        names_record=True,
    ),
    ("GET", "/api/advisor/cases"): Rule("advisor", _get("/api/advisor/cases")),
    ("GET", "/api/advisor/cases/{case}"): Rule(
        "advisor",
        lambda who: [Probe("GET", f"/api/advisor/cases/{who.case}")],
        names_record=True,
    ),
    ("GET", "/api/advisor/live/queue"): Rule("advisor", _get("/api/advisor/live/queue")),
    ("GET", "/api/advisor/live/stats"): Rule("advisor", _get("/api/advisor/live/stats")),
    ("GET", "/api/advisor/live/{handoff}"): Rule("advisor", _live_probe("GET", "held")),
    ("GET", "/api/advisor/live/{handoff}/assist"): Rule(
        "advisor", _live_probe("GET", "held", "/assist")
    ),
    ("GET", "/api/advisor/live/{handoff}/fees"): Rule(
        "advisor", _live_probe("GET", "held", "/fees")
    ),
    ("POST", "/api/advisor/live/{handoff}/assist/{suggestion}/used"): Rule(
        "advisor",
        lambda who: [
            Probe(
                "POST", f"/api/advisor/live/{who.live['held']}/assist/{who.live['suggestion']}/used"
            )
        ],
    ),
    ("POST", "/api/advisor/live/{handoff}/claim"): Rule(
        "advisor", _live_probe("POST", "waiting", "/claim")
    ),
    ("POST", "/api/advisor/live/{handoff}/close"): Rule(
        "advisor", _live_probe("POST", "closing", "/close", {"outcome": "resolved"})
    ),
    ("POST", "/api/advisor/live/{handoff}/return"): Rule(
        "advisor", _live_probe("POST", "returning", "/return")
    ),
    ("POST", "/api/advisor/live/{handoff}/messages"): Rule(
        "advisor", _live_probe("POST", "held", "/messages", {"text": "Hello"})
    ),
    ("POST", "/api/advisor/live/{handoff}/propose"): Rule(
        "advisor",
        lambda who: _live_probe(
            "POST",
            "held",
            "/propose",
            {
                "tool": "transfer",
                "args": {
                    "from_account": f"acc-{who.account}",
                    "to_account": f"acc-{who.account}",
                    "amount": "1.00",
                },
            },
        )(who),
    ),
    ("POST", "/api/advisor/live/{handoff}/refund-fee"): Rule(
        "advisor",
        lambda who: _live_probe("POST", "held", "/refund-fee", {"transaction": who.live["fee"]})(
            who
        ),
    ),
    ("WS", "/ws/chat"): Rule("websocket", lambda who: [], names_record=True),
    ("WS", "/ws/advisor"): Rule("websocket", lambda who: []),
}


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) the app serves, flattened through included routers."""
    try:
        from fastapi.routing import iter_route_contexts

        flat = [(c.original_route, c.path) for c in iter_route_contexts(app.routes)]
    except ImportError:  # FastAPI before included-router contexts
        flat = [(r, getattr(r, "path", "")) for r in app.routes]
    found = set()
    for route, path in flat:
        if isinstance(route, WebSocketRoute) or type(route).__name__ == "APIWebSocketRoute":
            found.add(("WS", path))
        elif isinstance(route, Mount):
            found.add(("GET", path))
        else:
            methods = set(getattr(route, "methods", None) or ()) - {"HEAD", "OPTIONS"}
            found |= {(m, path) for m in methods}
    return found


def _cases() -> list[tuple[str, str, str, str]]:
    out = []
    for (method, path), rule in sorted(RULES.items()):
        targets = ("a", "b") if rule.names_record else ("-",)
        out += [(method, path, role, t) for role in ROLES for t in targets]
    return out


CASES_ = _cases()
# Printed with -s, and visible in every test id below: route x role x whose records.
print(f"access matrix: {len(RULES)} routes x {len(ROLES)} roles -> {len(CASES_)} cases")  # noqa: T201


def test_every_route_has_a_declared_rule() -> None:
    app = create_app(Settings(secret_key=KEY))
    served = app_routes(app)
    assert served == set(RULES), (
        f"routes without a rule: {sorted(served - set(RULES))}; "
        f"rules without a route: {sorted(set(RULES) - served)}"
    )


# --- the matrix ---------------------------------------------------------------------------------


def _audits(m: Matrix) -> list[tuple[Any, ...]]:
    with m.app.state.engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text(
                    "SELECT id, actor, action, resource, resource_id, outcome, origin "
                    "FROM audit_log ORDER BY id"
                )
            )
        ]


def _expected(rule: Rule, role: str, caller: Who | None, target: Who | None) -> int:
    if rule.access == "public":
        return 200
    if rule.access == "sign_in":
        return 401  # a wrong password, whoever asks
    if role in UNAUTHENTICATED:
        return 401
    if rule.access == "advisor":
        return rule.ok if role == "advisor" else 403
    if rule.access == "customer" and role == "advisor":
        return 403
    if rule.access == "principal" and role == "advisor":
        return rule.ok
    if target is not None and caller is not None and target.person != caller.person:
        return rule.foreign
    return rule.ok


def _leaks(m: Matrix, role: str, body: str) -> list[str]:
    caller = m.customer(role)
    if role == "advisor":
        return []
    others = [w for w in (m.a, m.b) if caller is None or w.person != caller.person]
    return [s for w in others for s in w.secrets if s in body]


@pytest.mark.parametrize(
    ("method", "path", "role", "target"),
    [c for c in CASES_ if c[0] != "WS"],
    ids=["{} {} as {} on {}'s".format(*c) for c in CASES_ if c[0] != "WS"],
)
def test_access(matrix: Matrix, method: str, path: str, role: str, target: str) -> None:
    rule = RULES[(method, path)]
    who = {"a": matrix.a, "b": matrix.b}.get(target)
    caller = matrix.customer(role)
    token = matrix.token(role)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    expected = _expected(rule, role, caller, who)
    for probe in rule.probes(who or caller or matrix.a):
        before = _audits(matrix)
        response = matrix.client.request(
            probe.method, probe.path, params=probe.params, json=probe.body, headers=headers
        )
        assert response.status_code == expected, (probe, response.text[:300])
        assert not _leaks(matrix, role, response.text), (probe, _leaks(matrix, role, response.text))
        new = _audits(matrix)[len(before) :]
        if rule.access == "advisor" and role == "advisor":
            # every advisor access leaves a row: who, what, which record, outcome, origin
            [row] = new
            assert row[1] == f"advisor:{ADVISOR}" and row[5] == "success" and row[6], row
            if who is not None and rule.names_record:
                assert row[4] in {str(who.person), who.full_thread, str(who.case)}, row
        elif rule.access == "advisor" and caller is not None:
            [row] = new
            assert row[1] == f"customer:{caller.person}" and row[5] == "denied", row


def _ws_frames(ws: Any) -> list[dict[str, Any]]:
    frames = []
    while True:
        frame = ws.receive_json()
        frames.append(frame)
        if frame["type"] in {"RUN_FINISHED", "RUN_ERROR", "CONFIRMATION_REQUIRED"}:
            return frames


@pytest.mark.parametrize(
    ("role", "target"),
    [(c[2], c[3]) for c in CASES_ if c[:2] == ("WS", "/ws/chat")],
    ids=["WS /ws/chat as {} on {}'s".format(*c[2:]) for c in CASES_ if c[:2] == ("WS", "/ws/chat")],
)
def test_websocket_access(matrix: Matrix, role: str, target: str) -> None:
    who = {"a": matrix.a, "b": matrix.b}[target]
    caller = matrix.customer(role)
    token = matrix.token(role) or ""
    saver = matrix.app.state.saver
    before = saver.get_tuple({"configurable": {"thread_id": who.full_thread}})
    with matrix.client.websocket_connect(f"/ws/chat?token={token}") as ws:
        if caller is None:  # no customer: refused before any frame is read
            frame = ws.receive_json()
            assert frame["type"] == "RUN_ERROR" and frame["code"] == "unauthorized"
            return
        assert ws.receive_json()["type"] == "STATE_SNAPSHOT"  # the caller's own context
        # The other customer's thread id opens a thread of the caller's own, never theirs.
        ws.send_json(
            {"type": "USER_MESSAGE", "threadId": who.thread, "text": "what did I say before?"}
        )
        frames = _ws_frames(ws)
    body = json.dumps(frames)
    assert frames[-1]["type"] == "RUN_FINISHED", frames[-1]
    assert not _leaks(matrix, role, body)
    after = saver.get_tuple({"configurable": {"thread_id": who.full_thread}})
    if who.person != caller.person:
        assert after.checkpoint["id"] == before.checkpoint["id"]  # their thread untouched


@pytest.mark.parametrize("role", ROLES)
def test_only_advisors_hear_the_live_queue(matrix: Matrix, role: str) -> None:
    token = matrix.token(role) or ""
    with matrix.client.websocket_connect(f"/ws/advisor?token={token}") as ws:
        frame = ws.receive_json()
    if role == "advisor":
        assert frame["type"] == "QUEUE"
        assert matrix.b.live["waiting"] in [item["id"] for item in frame["items"]]
    else:
        assert frame == {"type": "ERROR", "code": "unauthorized", "message": frame["message"]}


def test_the_matrix_covers_every_route_role_and_owner() -> None:
    routes_with_records = sum(r.names_record for r in RULES.values())
    assert len(CASES_) == len(ROLES) * (len(RULES) + routes_with_records)


# --- tools: B's refs under A's runtime context ----------------------------------------------------


def _args_for_reads(engine: Engine, world: World) -> dict[str, dict[str, Any]]:
    with engine.connect() as conn:
        merchant = conn.execute(
            text("SELECT merchant FROM ledger_entry WHERE person_id = :p LIMIT 1"),
            {"p": world.b.person},
        ).scalar_one()
    return {
        "get_profile_summary": {},
        "get_cards": {},
        "get_scheduled": {},
        "explain_recommendation": {"code": "high_yield_savings"},
        "get_accounts": {},
        "search_transactions": {"merchant": merchant},
        "spending_summary": {"category": "dining"},
        "income_summary": {"start": "2000-01-01", "end": "2030-01-01"},
        "upcoming_bills": {"days": 60},
        "get_goals": {},
        "get_insights": {},
        "get_recommendations": {},
        "search_knowledge": {"query": "Ben Ortiz"},
    }


B_SECRETS = ("Ben", "Ortiz", "800000001000", "800000002000", "Ana Ruiz", "Cafe Ben", "Boat")


def _drive(engine: Engine, world: World, name: str, args: dict[str, Any]) -> list[ToolMessage]:
    graph = compile_graph(
        model=ScriptedChatModel(messages=iter([call(name, args), AIMessage("ok")])),
        tools=all_tools(),
        customer_context=customer_context,
        checkpointer=InMemorySaver(),
    )
    run = ChatContext(person_id=world.a.person, bank=Bank(engine), now=NOW)
    config = {"configurable": {"thread_id": "t"}}
    out = graph.invoke({"messages": [("user", "go")]}, config, context=run)
    if "__interrupt__" in out:  # a write: approve exactly this call, the worst case
        out = graph.invoke(Command(resume={"approve": True}), config, context=run)
    return [m for m in out["messages"] if isinstance(m, ToolMessage)]


def test_every_tool_refuses_another_customers_records(engine: Engine) -> None:
    world = build_world(engine)
    writes = {**CASES, "unfreeze_card": lambda c: {"card": f"card-{c.debit}"}}
    reads = _args_for_reads(engine, world)
    names = {t.name for t in all_tools()}
    assert names == set(writes) | set(reads), "every tool needs a case here"
    refused = 0
    for name in sorted(names):
        args = writes[name](world.b) if name in writes else reads[name]
        takes_refs = any(isinstance(v, str) and v[:4] in REFS for v in args.values())
        before, b_rows = snapshot(engine), _rows_of(engine, world.b.person)
        [result] = _drive(engine, world, name, args)
        content = str(result.content)
        assert not [s for s in B_SECRETS if s in content], (name, content[:300])
        if takes_refs:
            refused += 1
            data = json.loads(content)
            assert data["status"] == "refused" and "couldn't find" in data["reason"], (name, data)
            assert snapshot(engine) == before, name
        elif name in writes:  # no refs to misuse: it acts on A only, B's rows are as they were
            assert _rows_of(engine, world.b.person) == b_rows, name
        else:
            assert snapshot(engine) == before, name
    assert refused >= 9


REFS = {"acc-", "paye", "card", "sche", "txn-", "goal"}


def _rows_of(engine: Engine, person: int) -> dict[str, list[tuple[str, ...]]]:
    """Every row that belongs to ``person``: all tables with a ``person_id`` column."""
    out = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if "person_id" in table.c and table.name not in {"audit_log", "write_request"}:
                rows = conn.execute(select(table).where(table.c.person_id == person))
                out[table.name] = sorted(tuple(map(str, r)) for r in rows)
    return out
