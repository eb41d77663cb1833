"""The `concierge` CLI against a temporary SQLite database, with a fake bank generator."""

import json
import sys
import types
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from app.cli import cli
from services.db import create_schema, make_engine
from services.models import BankMeta, Credential, Person
from services.settings import get_settings

runner = CliRunner()


def _person(name: str) -> Person:
    first, last = name.split()
    return Person(full_name=name, first_name=first, last_name=last, created_at=datetime.now(UTC))


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    url = f"sqlite:///{(tmp_path / 'bank.db').as_posix()}"
    monkeypatch.setenv("CONCIERGE_DATABASE_URL", url)
    monkeypatch.setenv("CONCIERGE_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CONCIERGE_DEMO_PASSWORD", "demo-pass")
    get_settings.cache_clear()
    engine = make_engine(url)
    create_schema(engine)
    yield engine
    engine.dispose()
    get_settings.cache_clear()


@pytest.fixture
def seeded(database: Engine) -> Engine:
    with Session(database) as session:
        session.add(_person("Old Customer"))
        session.add(BankMeta(key="completed", value="true"))
        session.commit()
    return database


class FakeGenerator:
    """Stands in for services.synth.writer: writes a few people and reports as the real one."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def seed_bank(
        self,
        engine: Engine,
        *,
        customers: int,
        seed: int,
        as_of: date,
        workers: int,
        progress: Callable[[int], None],
        password: str,
    ) -> types.SimpleNamespace:
        self.calls.append(
            {"customers": customers, "seed": seed, "as_of": as_of, "workers": workers}
        )
        with Session(engine) as session:
            for i in range(customers):
                person = _person(f"Demo Person{i}")
                session.add(person)
                session.flush()
                assert person.id is not None
                session.add(Credential(person_id=person.id, username=f"demo{i}", password_hash="x"))
                progress(1)
            session.add(BankMeta(key="completed", value="true"))
            session.commit()
        return types.SimpleNamespace(
            customers=customers,
            rows={"person": customers, "credential": customers},
            seconds=0.5,
            rows_per_second=customers * 4.0,
            as_of=as_of,
        )


@pytest.fixture
def generator(monkeypatch: pytest.MonkeyPatch) -> FakeGenerator:
    fake = FakeGenerator()
    module = types.ModuleType("services.synth.writer")
    module.seed_bank = fake.seed_bank  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "services.synth.writer", module)
    return fake


def _people(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(session.exec(select(Person.full_name).order_by(col(Person.id))).all())


def test_help_lists_subcommands() -> None:
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "seed" in result.stdout
    assert "serve" in result.stdout


def test_seed_refuses_a_seeded_database_without_replace(seeded: Engine) -> None:
    result = runner.invoke(cli, ["seed", "--customers", "3", "--seed", "1"])
    assert result.exit_code == 2
    assert "--replace" in result.stderr
    assert _people(seeded) == ["Old Customer"]


def test_seed_if_empty_skips_a_seeded_database(seeded: Engine, generator: FakeGenerator) -> None:
    result = runner.invoke(cli, ["seed", "--customers", "3", "--if-empty"])
    assert result.exit_code == 0
    assert "already seeded, skipping" in result.stdout
    assert generator.calls == []
    assert _people(seeded) == ["Old Customer"]


def test_seed_replace_wipes_and_reseeds(seeded: Engine, generator: FakeGenerator) -> None:
    result = runner.invoke(cli, ["seed", "--customers", "2", "--replace"])
    assert result.exit_code == 0, result.output
    assert _people(seeded) == ["Demo Person0", "Demo Person1"]


def test_seed_json_prints_one_object(database: Engine, generator: FakeGenerator) -> None:
    result = runner.invoke(
        cli,
        [
            "seed",
            "--customers",
            "4",
            "--seed",
            "9",
            "--as-of",
            "2026-03-02",
            "--workers",
            "3",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary == {
        "customers": 4,
        "rows": {"person": 4, "credential": 4},
        "total_rows": 8,
        "seconds": 0.5,
        "rows_per_second": 16.0,
        "as_of": "2026-03-02",
    }
    assert generator.calls == [{"customers": 4, "seed": 9, "as_of": date(2026, 3, 2), "workers": 3}]


def test_seed_defaults_and_demo_sign_in(database: Engine, generator: FakeGenerator) -> None:
    result = runner.invoke(cli, ["seed", "--customers", "5"])
    assert result.exit_code == 0, result.output
    assert generator.calls[0]["workers"] == 2
    assert generator.calls[0]["as_of"] == datetime.now(UTC).date()
    for username in ("demo0", "demo1", "demo2"):
        assert username in result.stdout
    assert "demo3" not in result.stdout
    assert "demo-pass" in result.stdout
    assert "rows/s" in result.stdout


def test_seed_rejects_a_bad_date(database: Engine) -> None:
    result = runner.invoke(cli, ["seed", "--as-of", "2026-13-01"])
    assert result.exit_code == 2
    assert "--as-of" in result.output


def test_seed_rejects_replace_with_if_empty(database: Engine) -> None:
    result = runner.invoke(cli, ["seed", "--replace", "--if-empty"])
    assert result.exit_code == 2


def test_seed_on_empty_database_needs_no_flag(database: Engine, generator: FakeGenerator) -> None:
    result = runner.invoke(cli, ["seed", "--customers", "1", "--json"])
    assert result.exit_code == 0, result.output
    with Session(database) as session:
        assert session.exec(select(func.count()).select_from(Person)).one() == 1


def test_missing_generator_wipes_nothing(seeded: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "services.synth.writer", None)  # makes the import fail
    result = runner.invoke(cli, ["seed", "--replace"])
    assert result.exit_code == 1
    assert "generator is not available" in result.stderr
    assert _people(seeded) == ["Old Customer"]


def test_seed_refuses_a_half_seeded_database_even_with_if_empty(database: Engine) -> None:
    with Session(database) as session:
        session.add(_person("Half Seeded"))
        session.commit()
    result = runner.invoke(cli, ["seed", "--customers", "3", "--if-empty"])
    assert result.exit_code == 2
    assert "did not finish" in result.stderr
    assert _people(database) == ["Half Seeded"]


def test_seed_with_the_real_generator(database: Engine) -> None:
    args = ["seed", "--customers", "6", "--seed", "3", "--as-of", "2026-11-28", "--json"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["customers"] == 6
    assert summary["rows"]["person"] == 6
    assert summary["rows"]["ledger_entry"] > 6 * 100
    assert summary["total_rows"] == sum(summary["rows"].values())
    assert len(_people(database)) == 6
    again = runner.invoke(cli, [*args[:-1], "--if-empty"])
    assert again.exit_code == 0
    assert "already seeded" in again.stdout


def test_replacing_the_bank_ends_old_sessions(seeded: Engine, generator: FakeGenerator) -> None:
    from app.auth import TokenError, issue_token, read_token

    token = issue_token(person_id=1, role="customer")
    assert read_token(token).person_id == 1
    result = runner.invoke(cli, ["seed", "--customers", "2", "--replace"])
    assert result.exit_code == 0, result.output
    get_settings.cache_clear()
    with pytest.raises(TokenError, match="bad signature"):
        read_token(token)


def test_an_outdated_database_is_named_and_replace_rebuilds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, generator: FakeGenerator
) -> None:
    url = f"sqlite:///{(tmp_path / 'old.db').as_posix()}"
    monkeypatch.setenv("CONCIERGE_DATABASE_URL", url)
    monkeypatch.setenv("CONCIERGE_VAR_DIR", str(tmp_path))
    get_settings.cache_clear()
    old = make_engine(url)
    with old.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE person (id INTEGER PRIMARY KEY, full_name TEXT)")
    old.dispose()
    refused = runner.invoke(cli, ["seed", "--customers", "2"])
    assert refused.exit_code == 1
    assert "older Concierge" in refused.stderr and "person:" in refused.stderr
    rebuilt = runner.invoke(cli, ["seed", "--customers", "2", "--replace"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert _people(make_engine(url)) == ["Demo Person0", "Demo Person1"]


def _sign_in_block(stdout: str) -> tuple[list[str], dict[str, str]]:
    """The demo usernames and the URLs from the block `concierge seed` ends with."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Demo customers"))
    usernames = []
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        usernames.append(line.strip())
    urls = {}
    for line in lines:
        label, _, url = line.strip().rpartition(" ")
        if url.startswith("http://"):
            urls[label.strip()] = url
    return usernames, urls


def test_seed_block_names_the_url_and_a_username_that_signs_in(
    database: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from app.main import create_app
    from services.settings import DEMO_ADVISOR

    monkeypatch.setenv("CONCIERGE_HOST", "0.0.0.0")  # as in the container: shown as this machine
    monkeypatch.setenv("CONCIERGE_PORT", "8123")
    monkeypatch.setenv("CONCIERGE_DEMO_ADVISOR_PASSWORD", "advisor-pass")
    get_settings.cache_clear()
    args = ["seed", "--customers", "3", "--seed", "5", "--as-of", "2026-11-28"]
    first = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    # a later `make run` keeps the bank and still says where to go and who can sign in
    again = runner.invoke(cli, [*args, "--if-empty"])
    assert again.exit_code == 0, again.output
    assert "already seeded, skipping" in again.stdout
    for result in (first, again):
        usernames, urls = _sign_in_block(result.stdout)
        assert len(usernames) == 3
        assert urls == {
            "customer page": "http://127.0.0.1:8123/",
            "advisor console": "http://127.0.0.1:8123/advisor",
            "API docs": "http://127.0.0.1:8123/docs",
        }
        assert "password: demo-pass" in result.stdout
        assert f"Demo advisor: {DEMO_ADVISOR} (password: advisor-pass)" in result.stdout
    assert _sign_in_block(again.stdout)[0] == _sign_in_block(first.stdout)[0]

    usernames, _ = _sign_in_block(first.stdout)
    with TestClient(create_app(get_settings())) as client:
        for username in usernames:
            reply = client.post(
                "/api/auth/token", json={"username": username, "password": "demo-pass"}
            )
            assert reply.status_code == 200, (username, reply.text)
        token = reply.json()["access_token"]
        accounts = client.get("/api/me/accounts", headers={"authorization": f"Bearer {token}"})
        assert accounts.status_code == 200
        assert accounts.json()
