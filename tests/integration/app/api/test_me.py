"""The REST delivery layer on a fresh SQLite bank with two hand-made customers."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlmodel import Session, col, select

from app.auth import Role, issue_token
from app.main import create_app
from services.credentials import hash_password
from services.models import Account, AuditLog, Credential, Person
from services.settings import Settings

KEY = "test"


@dataclass
class Customer:
    id: int
    name: str
    username: str
    password: str
    account_ids: set[int]
    account_numbers: set[str]


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{(tmp_path / 'bank.db').as_posix()}",
        var_dir=tmp_path,
        secret_key=KEY,
    )


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def _add_customer(
    session: Session, *, name: str, username: str, password: str, accounts: list[dict]
) -> Customer:
    first, last = name.split()
    person = Person(
        full_name=name,
        first_name=first,
        last_name=last,
        email=f"{username}@x.test",
        created_at=datetime.now(UTC),  # the model's naive default is refused by this SQLModel
    )
    session.add(person)
    session.flush()
    assert person.id is not None
    session.add(
        Credential(person_id=person.id, username=username, password_hash=hash_password(password))
    )
    rows = [Account(person_id=person.id, opened_on=date(2020, 1, 1), **spec) for spec in accounts]
    session.add_all(rows)
    session.commit()
    return Customer(
        id=person.id,
        name=name,
        username=username,
        password=password,
        account_ids={a.id for a in rows if a.id is not None},
        account_numbers={a.number for a in rows},
    )


@pytest.fixture
def bank(app: FastAPI, client: TestClient) -> dict[str, Customer]:
    with Session(app.state.engine) as session:
        maya = _add_customer(
            session,
            name="Maya Patel",
            username="maya",
            password="maya-secret",
            accounts=[
                {"type": "checking", "name": "Everyday", "number": "111", "balance_minor": 123450},
                {"type": "savings", "name": "Rainy Day", "number": "112", "balance_minor": 5},
                {
                    "type": "credit_card",
                    "name": "Visa",
                    "number": "113",
                    "balance_minor": -98765,
                    "credit_limit_minor": 500000,
                },
            ],
        )
        tom = _add_customer(
            session,
            name="Tom Baker",
            username="tom",
            password="tom-secret",
            accounts=[
                {"type": "checking", "name": "Tom Main", "number": "221", "balance_minor": 0},
                {
                    "type": "savings",
                    "name": "Yen Pot",
                    "number": "222",
                    "currency": "JPY",
                    "balance_minor": 1234,
                },
            ],
        )
    return {"maya": maya, "tom": tom}


def _sign_in(client: TestClient, customer: Customer) -> str:
    response = client.post(
        "/api/auth/token", json={"username": customer.username, "password": customer.password}
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_app_is_built_without_touching_the_database(settings: Settings, tmp_path) -> None:
    app = create_app(settings)
    assert app.title == "Concierge"
    assert not (tmp_path / "bank.db").exists()
    with TestClient(app):
        assert (tmp_path / "bank.db").exists()


def test_health(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_when_database_answers(client: TestClient) -> None:
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_not_ready_when_database_is_unreachable(
    app: FastAPI, client: TestClient, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = create_engine(f"sqlite:///{(tmp_path / 'missing' / 'dir' / 'x.db').as_posix()}")
    monkeypatch.setattr(app.state, "engine", broken)
    response = client.get("/ready")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    broken.dispose()


def test_openapi_docs_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "Concierge"
    assert "/api/me/accounts" in spec["paths"]


def test_sign_in_returns_a_bearer_token(client: TestClient, bank: dict[str, Customer]) -> None:
    response = client.post("/api/auth/token", json={"username": "maya", "password": "maya-secret"})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 60 * 60
    assert body["customer_id"] == bank["maya"].id
    assert body["access_token"]


def test_bad_password_and_unknown_user_get_the_same_401(
    client: TestClient, bank: dict[str, Customer]
) -> None:
    wrong = client.post("/api/auth/token", json={"username": "maya", "password": "nope"})
    unknown = client.post("/api/auth/token", json={"username": "nobody", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "invalid username or password"}


def test_sign_ins_are_audited(app: FastAPI, client: TestClient, bank: dict[str, Customer]) -> None:
    _sign_in(client, bank["maya"])
    client.post("/api/auth/token", json={"username": "maya", "password": "nope"})
    with Session(app.state.engine) as session:
        entries = session.exec(select(AuditLog).order_by(col(AuditLog.id))).all()
    assert [(e.action, e.outcome) for e in entries] == [
        ("sign_in", "success"),
        ("sign_in", "failure"),
    ]
    assert entries[0].actor == f"customer:{bank['maya'].id}"
    assert all("maya-secret" not in (e.detail or "") + e.actor for e in entries)


def test_profile_is_the_signed_in_customers(client: TestClient, bank: dict[str, Customer]) -> None:
    token = _sign_in(client, bank["maya"])
    response = client.get("/api/me/profile", headers=_auth(token))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == bank["maya"].id
    assert body["full_name"] == "Maya Patel"
    assert "password_hash" not in body


def test_accounts_are_only_the_customers_own_with_exact_balances(
    client: TestClient, bank: dict[str, Customer]
) -> None:
    token = _sign_in(client, bank["maya"])
    response = client.get("/api/me/accounts", headers=_auth(token))
    assert response.status_code == 200
    accounts = response.json()
    assert {a["id"] for a in accounts} == bank["maya"].account_ids
    by_name = {a["name"]: a for a in accounts}
    assert by_name["Everyday"]["balance"] == "1234.50"
    assert by_name["Rainy Day"]["balance"] == "0.05"
    assert by_name["Visa"]["balance"] == "-987.65"
    assert by_name["Visa"]["credit_limit"] == "5000.00"
    assert by_name["Everyday"]["credit_limit"] is None
    assert by_name["Everyday"]["overdraft_limit"] == "0.00"
    for account in accounts:
        assert isinstance(account["balance"], str)


def test_balances_follow_the_currency_exponent(
    client: TestClient, bank: dict[str, Customer]
) -> None:
    token = _sign_in(client, bank["tom"])
    by_name = {a["name"]: a for a in client.get("/api/me/accounts", headers=_auth(token)).json()}
    assert by_name["Tom Main"]["balance"] == "0.00"
    assert by_name["Yen Pot"]["balance"] == "1234"


def test_one_customers_token_never_yields_anothers_data(
    client: TestClient, bank: dict[str, Customer]
) -> None:
    maya, tom = bank["maya"], bank["tom"]
    for me, other in ((maya, tom), (tom, maya)):
        headers = _auth(_sign_in(client, me))
        profile = client.get("/api/me/profile", headers=headers)
        accounts = client.get("/api/me/accounts", headers=headers)
        assert profile.json()["id"] == me.id
        assert {a["id"] for a in accounts.json()} == me.account_ids
        text = profile.text + accounts.text
        assert f"{other.username}@x.test" not in text
        assert other.name not in text
        assert not any(f'"number":"{n}"' in text for n in other.account_numbers)


def test_no_route_takes_a_person_id(app: FastAPI) -> None:
    for route in app.routes:
        path = getattr(route, "path", "")
        for name in ("person_id", "customer_id", "{id}"):
            assert name not in path, path


@pytest.mark.parametrize("path", ["/api/me/profile", "/api/me/accounts"])
def test_no_token_is_401(client: TestClient, bank: dict[str, Customer], path: str) -> None:
    response = client.get(path)
    assert response.status_code == 401
    assert response.json() == {"detail": "missing bearer token"}
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_non_bearer_scheme_is_401(client: TestClient, bank: dict[str, Customer]) -> None:
    response = client.get("/api/me/profile", headers={"Authorization": "Basic bWF5YTp4"})
    assert response.status_code == 401


def test_tampered_token_is_401(client: TestClient, bank: dict[str, Customer]) -> None:
    token = _sign_in(client, bank["maya"])
    forged = issue_token(person_id=bank["tom"].id, role=Role.customer, key="not-the-key")
    spliced = forged.split(".")[0] + "." + token.split(".")[1]
    for bad in (forged, spliced, token + "x", "garbage"):
        response = client.get("/api/me/profile", headers=_auth(bad))
        assert response.status_code == 401, bad
        assert response.json()["detail"].startswith("invalid token")


def test_expired_token_is_401(client: TestClient, bank: dict[str, Customer]) -> None:
    token = issue_token(
        person_id=bank["maya"].id, role=Role.customer, key=KEY, ttl=timedelta(minutes=-1)
    )
    response = client.get("/api/me/accounts", headers=_auth(token))
    assert response.status_code == 401
    assert response.json() == {"detail": "invalid token: token expired"}


def test_advisor_token_is_not_a_customer(client: TestClient, bank: dict[str, Customer]) -> None:
    token = issue_token(person_id=bank["maya"].id, role=Role.advisor, key=KEY)
    assert client.get("/api/me/profile", headers=_auth(token)).status_code == 403


def test_valid_token_for_someone_not_on_file_is_404(client: TestClient) -> None:
    token = issue_token(person_id=999, role=Role.customer, key=KEY)
    assert client.get("/api/me/profile", headers=_auth(token)).status_code == 404
    assert client.get("/api/me/accounts", headers=_auth(token)).json() == []


def test_the_profile_never_returns_national_id_data() -> None:
    from services.models import PersonPublic

    assert not {"national_id_hash", "national_id_last4"} & set(PersonPublic.model_fields)
    assert "segment" not in PersonPublic.model_fields  # the bank's conclusion, not the customer's
