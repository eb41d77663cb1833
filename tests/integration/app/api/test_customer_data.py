"""The customer's REST data (/api/me) on a small seeded bank: paging, filters, offers, auth."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.auth import Role, issue_token
from app.main import create_app
from services.settings import DEMO_ADVISOR, Settings
from services.synth.writer import seed_bank

KEY = "customer-data-key"
AMOUNT = re.compile(r"^-?\d+(\.\d+)?$")
ME_ROUTES = [
    "/api/me/profile",
    "/api/me/accounts",
    "/api/me/transactions",
    "/api/me/dashboard",
    "/api/me/insights",
    "/api/me/notifications",
    "/api/me/recommendations",
    "/api/me/goals",
]
ADVISOR_ROUTES = [
    "/api/advisor/customers?q=smith",
    "/api/advisor/customers/1/summary",
    "/api/advisor/customers/1/conversations",
    "/api/advisor/cases",
    "/api/advisor/cases/1",
    "/api/advisor/conversations/customer-1:x/transcript",
]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    var: Path = tmp_path_factory.mktemp("api-me")
    settings = Settings(
        var_dir=var, database_url=f"sqlite:///{(var / 'bank.db').as_posix()}", secret_key=KEY
    )
    app = create_app(settings)
    with TestClient(app):
        seed_bank(app.state.engine, customers=6, seed=5, as_of=date.today(), workers=1)
        yield app


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def _auth(person: int, role: Role = Role.customer) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(person_id=person, role=role, key=KEY)}"}


def _rows(app: FastAPI, sql: str, **params: object) -> list[tuple]:
    with app.state.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


def _walk(client: TestClient, person: int, **params: object) -> list[dict]:
    items: list[dict] = []
    cursor = None
    for _ in range(500):
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = client.get("/api/me/transactions", params=query, headers=_auth(person))
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("paging never ended")


# --- sign-in -----------------------------------------------------------------------------------


def test_advisor_signs_in_with_the_seeded_demo_password(client: TestClient, app: FastAPI) -> None:
    response = client.post(
        "/api/auth/token",
        json={"username": DEMO_ADVISOR, "password": "concierge-advisor"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["role"] == "advisor" and body["customer_id"] is None
    assert isinstance(body["advisor_id"], int)
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert client.get("/api/advisor/cases", headers=headers).status_code == 200
    assert client.get("/api/me/profile", headers=headers).status_code == 403
    actors = _rows(app, "SELECT actor FROM audit_log WHERE action = 'sign_in'")
    assert (f"advisor:{body['advisor_id']}",) in actors


def test_customer_sign_in_names_the_customer_and_no_advisor(
    client: TestClient, app: FastAPI
) -> None:
    [(username,)] = _rows(app, "SELECT username FROM credential WHERE person_id = 2")
    body = client.post(
        "/api/auth/token", json={"username": username, "password": "concierge-demo"}
    ).json()
    assert (body["role"], body["customer_id"], body["advisor_id"]) == ("customer", 2, None)


def test_wrong_advisor_password_looks_like_an_unknown_user(client: TestClient) -> None:
    wrong = client.post("/api/auth/token", json={"username": DEMO_ADVISOR, "password": "nope"})
    unknown = client.post("/api/auth/token", json={"username": "ghost@x", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


# --- transactions --------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [7, 200])
def test_pages_cover_every_transaction_once_newest_first(
    client: TestClient, app: FastAPI, limit: int
) -> None:
    items = _walk(client, 1, limit=limit)
    ids = [i["id"] for i in items]
    assert len(ids) == len(set(ids)), "a transaction was shown twice"
    expected = {r[0] for r in _rows(app, "SELECT id FROM ledger_entry WHERE person_id = 1")}
    assert set(ids) == expected, "a transaction was skipped or someone else's shown"
    keys = [(i["booked_at"], i["id"]) for i in items]
    assert keys == sorted(keys, reverse=True)


def test_one_row_pages_of_a_filtered_statement_match_one_big_page(client: TestClient) -> None:
    merchant = next(i["merchant"] for i in _walk(client, 2, limit=200) if i["merchant"])
    whole = client.get(
        "/api/me/transactions", params={"merchant": merchant, "limit": 200}, headers=_auth(2)
    ).json()
    assert whole["next_cursor"] is None and len(whole["items"]) >= 2
    assert _walk(client, 2, merchant=merchant, limit=1) == whole["items"]


def test_transaction_shape_has_amounts_as_decimal_strings(client: TestClient) -> None:
    page = client.get("/api/me/transactions", params={"limit": 5}, headers=_auth(1)).json()
    assert len(page["items"]) == 5 and page["next_cursor"]
    for item in page["items"]:
        assert set(item) == {
            "id",
            "account_id",
            "booked_at",
            "amount",
            "currency",
            "merchant",
            "category",
            "description",
        }
        assert isinstance(item["amount"], str) and AMOUNT.match(item["amount"])


def test_filters_narrow_the_statement(client: TestClient, app: FastAPI) -> None:
    everything = _walk(client, 1, limit=200)
    category = everything[0]["category"]
    assert {i["category"] for i in _walk(client, 1, category=category)} == {category}
    sized = _walk(client, 1, min_amount="20", max_amount="100.00", limit=50)
    assert sized and all(Decimal(20) <= abs(Decimal(i["amount"])) <= 100 for i in sized)
    day = everything[len(everything) // 2]["booked_at"][:10]
    dated = _walk(client, 1, since=day, until=day)
    assert dated and all(i["booked_at"].startswith(day) for i in dated)
    merchant = next(i["merchant"] for i in everything if i["merchant"])
    by_merchant = _walk(client, 1, merchant=merchant.upper())
    assert by_merchant and {i["merchant"] for i in by_merchant} == {merchant}
    found = _walk(client, 1, q=merchant[:4].lower())
    assert {i["id"] for i in by_merchant} <= {i["id"] for i in found}
    accounts = {a for (a,) in _rows(app, "SELECT id FROM account WHERE person_id = 1")}
    chosen = everything[0]["account_id"]
    assert chosen in accounts
    only = _walk(client, 1, account_id=chosen)
    assert only and {i["account_id"] for i in only} == {chosen}
    [(number,)] = _rows(app, "SELECT number FROM account WHERE id = :i", i=chosen)
    assert [i["id"] for i in _walk(client, 1, account=number[-4:])] == [i["id"] for i in only]


def test_someone_elses_account_is_not_found_in_any_filter(client: TestClient, app: FastAPI) -> None:
    [(theirs,), *_] = _rows(app, "SELECT id FROM account WHERE person_id = 2 ORDER BY id")
    for params in ({"account_id": theirs}, {"account": str(theirs)}, {"account_id": 999_999}):
        response = client.get("/api/me/transactions", params=params, headers=_auth(1))
        assert response.status_code == 404, params
        assert response.json() == {"detail": "account not found"}


def test_a_forged_cursor_is_refused(client: TestClient) -> None:
    for bad in ("not-a-cursor", "WyJ4Iiwx", "W10"):
        response = client.get("/api/me/transactions", params={"cursor": bad}, headers=_auth(1))
        assert response.status_code == 400, bad


@pytest.mark.parametrize("limit", [0, 201])
def test_page_size_is_bounded(client: TestClient, limit: int) -> None:
    response = client.get("/api/me/transactions", params={"limit": limit}, headers=_auth(1))
    assert response.status_code == 422


# --- dashboard, insights, offers, goals ---------------------------------------------------------


def test_dashboard_is_the_signed_in_customers(client: TestClient, app: FastAPI) -> None:
    response = client.get("/api/me/dashboard", headers=_auth(3))
    assert response.status_code == 200, response.text
    body = response.json()
    [(first, last)] = _rows(app, "SELECT first_name, last_name FROM person WHERE id = 3")
    assert body["first_name"] == first
    mine = {a for (a,) in _rows(app, "SELECT id FROM account WHERE person_id = 3")}
    assert {a["id"] for a in body["accounts"]} == mine
    assert len(body["recent_transactions"]) == 5
    assert {t["account_id"] for t in body["recent_transactions"]} <= mine
    newest = client.get("/api/me/transactions", params={"limit": 5}, headers=_auth(3)).json()
    assert body["recent_transactions"] == newest["items"]
    spending = body["spending"]
    assert spending["period"] == "this month" and AMOUNT.match(spending["total"])
    assert sum(Decimal(c["amount"]) for c in spending["by_category"]) == Decimal(spending["total"])
    for key in ("upcoming_bills", "insights", "recommendations", "goals", "widgets"):
        assert isinstance(body[key], list), key
    for widget in body["widgets"]:
        assert {"kind", "score", "reasons", "data"} <= set(widget)
        assert not any(k.endswith("_minor") for k in widget["data"])
    scores = [w["score"] for w in body["widgets"]]
    assert scores == sorted(scores, reverse=True)


def test_insights_and_notifications_carry_codes_and_messages(client: TestClient) -> None:
    seen = 0
    for person in range(1, 7):
        insights = client.get("/api/me/insights", headers=_auth(person)).json()
        notes = client.get("/api/me/notifications", headers=_auth(person)).json()
        for item in insights:
            assert {"code", "title", "message", "severity", "evidence"} <= set(item)
            assert item["severity"] in {"info", "warning", "critical"}
        assert {n["code"] for n in notes} <= {i["code"] for i in insights}
        assert all(n["channel"] in {"push", "in_app_card"} and "reasons" not in n for n in notes)
        seen += len(insights)
    assert seen > 0


def test_goals_are_the_customers_own_with_progress(client: TestClient, app: FastAPI) -> None:
    for person in range(1, 7):
        goals = client.get("/api/me/goals", headers=_auth(person)).json()
        stored = _rows(app, "SELECT id FROM savings_goal WHERE person_id = :p", p=person)
        assert {g["id"] for g in goals} == {r[0] for r in stored}
        for g in goals:
            assert AMOUNT.match(g["target"]) and 0 <= g["progress"] <= 1


def _with_offers(client: TestClient) -> tuple[int, list[dict]]:
    for person in range(1, 7):
        offers = client.get("/api/me/recommendations", headers=_auth(person)).json()
        if offers:
            return person, offers
    raise AssertionError("nobody in the bank has a recommendation")


def test_recommendations_have_reasons_and_a_response_lands_in_the_learning_loop(
    client: TestClient, app: FastAPI
) -> None:
    person, offers = _with_offers(client)
    for offer in offers:
        assert {"offer", "title", "body", "why", "because"} <= set(offer)
        assert offer["why"].startswith("Because ") and "reasons" not in offer
    code = offers[0]["offer"]
    before = _rows(
        app,
        "SELECT count(*) FROM offer_event WHERE person_id = :p AND offer_code = :c "
        "AND response = 'declined'",
        p=person,
        c=code,
    )[0][0]
    response = client.post(
        f"/api/me/recommendations/{code}/response",
        json={"response": "declined"},
        headers=_auth(person),
    )
    assert response.status_code == 200, response.text
    assert response.json()["recorded_as"] == "declined"
    [(who, logged)] = _rows(
        app,
        "SELECT person_id, response FROM offer_event WHERE id = :i",
        i=response.json()["offer_event_id"],
    )
    assert (who, logged) == (person, "declined")
    after = _rows(
        app,
        "SELECT count(*) FROM offer_event WHERE person_id = :p AND offer_code = :c "
        "AND response = 'declined'",
        p=person,
        c=code,
    )[0][0]
    assert after == before + 1
    again = client.get("/api/me/recommendations", headers=_auth(person)).json()
    assert code not in {o["offer"] for o in again}, "a declined offer must cool down"


def test_a_snooze_is_logged_as_a_dismissal(client: TestClient, app: FastAPI) -> None:
    person, offers = _with_offers(client)
    code = offers[0]["offer"]
    response = client.post(
        f"/api/me/recommendations/{code}/response",
        json={"response": "snoozed"},
        headers=_auth(person),
    )
    assert response.json()["recorded_as"] == "dismissed"
    again = client.get("/api/me/recommendations", headers=_auth(person)).json()
    assert code not in {o["offer"] for o in again}


def test_responses_are_checked(client: TestClient) -> None:
    bad = client.post(
        "/api/me/recommendations/no_such_offer/response",
        json={"response": "accepted"},
        headers=_auth(1),
    )
    assert bad.status_code == 404
    odd = client.post(
        "/api/me/recommendations/savings_boost/response",
        json={"response": "maybe"},
        headers=_auth(1),
    )
    assert odd.status_code == 422


# --- the 401/403 matrix --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ME_ROUTES)
def test_customer_routes_need_a_customer_token(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 401
    assert client.get(path, headers={"Authorization": "Bearer forged.token"}).status_code == 401
    assert client.get(path, headers=_auth(1, Role.advisor)).status_code == 403
    assert client.get(path, headers=_auth(1)).status_code == 200


@pytest.mark.parametrize("path", ADVISOR_ROUTES)
def test_advisor_routes_refuse_customers_and_audit_it(
    client: TestClient, app: FastAPI, path: str
) -> None:
    assert client.get(path).status_code == 401
    response = client.get(path, headers=_auth(4))
    assert response.status_code == 403
    denied = _rows(
        app,
        "SELECT actor, outcome, origin FROM audit_log WHERE action = 'advisor_access' "
        "ORDER BY id DESC LIMIT 1",
    )
    assert denied == [("customer:4", "denied", "testclient")]


def test_a_response_post_needs_a_customer(client: TestClient) -> None:
    path = "/api/me/recommendations/savings_boost/response"
    assert client.post(path, json={"response": "clicked"}).status_code == 401
    assert (
        client.post(path, json={"response": "clicked"}, headers=_auth(1, Role.advisor)).status_code
        == 403
    )


def test_no_customer_route_leaks_another_customers_records(
    client: TestClient, app: FastAPI
) -> None:
    theirs = {str(n) for (n,) in _rows(app, "SELECT number FROM account WHERE person_id = 2")}
    [(email,)] = _rows(app, "SELECT email FROM person WHERE id = 2")
    for path in ME_ROUTES:
        body = client.get(path, headers=_auth(1)).text
        assert email not in body, path
        assert not any(f'"number":"{n}"' in body for n in theirs), path


def test_an_offer_that_gives_a_choice_is_accepted_by_choosing_one(
    client: TestClient, app: FastAPI
) -> None:
    url = "/api/me/recommendations/cd_renewal/response"
    events = "SELECT count(*) FROM offer_event WHERE person_id = 1 AND offer_code = 'cd_renewal'"
    before = _rows(app, events)[0][0]
    for wrong in (
        {"response": "accepted", "option": "buy_a_boat"},  # not one of its choices
        {"response": "declined", "option": "renew"},  # a choice is an acceptance
    ):
        refused = client.post(url, json=wrong, headers=_auth(1))
        assert refused.status_code == 422, refused.text
        assert "buy_a_boat" not in refused.text
    assert _rows(app, events)[0][0] == before, "a refused answer changes nothing"
    chosen = client.post(
        url, json={"response": "accepted", "option": "move_to_savings"}, headers=_auth(1)
    )
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["option"] == "move_to_savings"
    row = chosen.json()["offer_event_id"]
    assert _rows(app, "SELECT response FROM offer_event WHERE id = :i", i=row) == [("accepted",)]
    [(actor, detail)] = _rows(
        app,
        "SELECT actor, detail FROM audit_log WHERE action = 'offer_choice' AND resource_id = :r",
        r=str(row),
    )
    assert (actor, detail) == ("customer:1", "cd_renewal:move_to_savings")
    # an offer without choices takes none
    single = client.post(
        "/api/me/recommendations/savings_rule/response",
        json={"response": "accepted", "option": "renew"},
        headers=_auth(1),
    )
    assert single.status_code == 422 and "none" in single.json()["detail"]


def test_no_customer_answer_carries_a_code_a_verdict_or_a_second_money_format(
    client: TestClient,
) -> None:
    from services.wording import json_findings

    for person in range(1, 7):
        for route in ("/api/me/dashboard", "/api/me/insights", "/api/me/recommendations"):
            answer = client.get(route, headers=_auth(person))
            assert answer.status_code == 200
            assert json_findings(answer.json()) == [], (person, route)
    dashboard = client.get("/api/me/dashboard", headers=_auth(1)).json()
    assert dashboard["locale"] == "en-US"


def test_a_business_owners_costs_are_shown_apart_from_their_spending(
    client: TestClient, app: FastAPI
) -> None:
    owners = _rows(
        app,
        "SELECT DISTINCT person_id FROM account WHERE type = 'business_checking' ORDER BY 1",
    )
    assert owners, "the seeded bank has a business owner"
    shown = []
    for person in range(1, 7):
        spending = client.get("/api/me/dashboard", headers=_auth(person)).json()["spending"]
        personal = {c["category"] for c in spending["by_category"]}
        assert not personal & {"payroll", "suppliers", "transfer", "transfer_out", "income"}
        costs = spending["business_outgoings"]
        if (person,) not in owners:
            assert costs is None, person
        elif costs is not None:
            assert float(costs["total"]) > 0 and costs["by_category"]
            shown.append(person)
    assert shown, "a business owner's costs this month are shown apart"
