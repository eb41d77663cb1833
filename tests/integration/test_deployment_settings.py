"""The app as docker-compose.yml configures it, run against this machine's PostgreSQL and Redis.

The compose file's app environment is taken as written, with only the servers moved to this
machine: ``postgres`` → the test PostgreSQL (a database of our own, dropped afterwards), ``redis``
→ the test Redis on spare database numbers. No Chroma server runs here, so
``CONCIERGE_CHROMA_URL`` is left unset and the embedded Chroma stands in (the URL itself is
checked in tests/unit/test_deployment.py).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import yaml
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from services.settings import Settings, get_settings
from tests.support import ROOT
from tests.support.servers import POSTGRES_URL, REDIS_URL, require_postgres, require_redis

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

PREFIX = "CONCIERGE_"
# Spare Redis databases: conftest's REDIS_URL uses /15, other suites their own.
EVENTS_DB, CACHE_DB = 14, 13
_INTERPOLATION = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


def _interpolate(value: str) -> str:
    # compose's ${VAR:-default} and ${VAR:?required}, as with nothing exported
    def one(match: re.Match[str]) -> str:
        name, op, arg = match.groups()
        return arg if op in (":-", "-") else f"compose-test-{name.lower()}-{uuid.uuid4().hex}"

    return _INTERPOLATION.sub(one, value).replace("$$", "$")


def compose_app_env() -> dict[str, str]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    env = compose["services"]["app"]["environment"]
    return {str(key): _interpolate(str(value)) for key, value in env.items()}


def _with_server(url: str, server: str, path: str) -> str:
    """``url`` with its host (and credentials) swapped for ``server``'s and a new path."""
    here = urlsplit(server)
    return urlunsplit((urlsplit(url).scheme, here.netloc, path, "", ""))


def local_env(database: str, var_dir: Path) -> dict[str, str]:
    """The compose app environment, pointed at this machine's servers."""
    env = compose_app_env()
    env[PREFIX + "DATABASE_URL"] = _with_server(
        env[PREFIX + "DATABASE_URL"], POSTGRES_URL, f"/{database}"
    )
    env[PREFIX + "REDIS_URL"] = _with_server(env[PREFIX + "REDIS_URL"], REDIS_URL, f"/{EVENTS_DB}")
    env[PREFIX + "CACHE_URL"] = _with_server(env[PREFIX + "CACHE_URL"], REDIS_URL, f"/{CACHE_DB}")
    del env[PREFIX + "CHROMA_URL"]  # no Chroma server here: the embedded one under var/
    env[PREFIX + "VAR_DIR"] = str(var_dir)  # the container's /app/var is not writable here
    return env


@pytest.fixture
def compose_database() -> Iterator[str]:
    """A database of its own on the test PostgreSQL, as the compose `postgres` service gives."""
    require_postgres()
    import psycopg

    name = f"concierge_compose_{uuid.uuid4().hex[:10]}"
    admin = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def settings(
    compose_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """Settings read from the compose environment, exactly as the container reads them."""
    require_redis()
    for key in [key for key in os.environ if key.startswith(PREFIX)]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)  # no developer's .env file leaks in
    for key, value in local_env(compose_database, tmp_path / "var").items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def test_compose_settings_reach_this_machines_servers(settings: Settings) -> None:
    import redis

    from app.bootstrap import event_bus as make_event_bus

    assert settings.database_url and settings.database_url.startswith("postgresql+psycopg://")
    assert settings.event_bus == "redis"
    assert settings.secret_key  # the operator's, not one generated into var/
    assert settings.chroma_url is None
    for url in (settings.redis_url, settings.cache_url):
        assert url
        client = redis.Redis.from_url(url, socket_timeout=3)
        try:
            assert client.ping()
        finally:
            client.close()
    bus = make_event_bus(settings)
    try:
        assert type(bus).__name__ == "RedisStreamBus"
    finally:
        bus.close()


def test_the_compose_app_seeds_signs_in_and_serves(settings: Settings) -> None:
    from fastapi.testclient import TestClient

    from app.bootstrap import open_engine
    from app.cli import cli
    from app.main import create_app
    from services.models import Person

    # the `seed` service's command, on a small bank
    args = ["seed", "--customers", "4", "--seed", "7", "--as-of", "2026-11-28", "--if-empty"]
    seeded = CliRunner().invoke(cli, args)
    assert seeded.exit_code == 0, seeded.output
    again = CliRunner().invoke(cli, args)  # a restarted stack keeps its bank
    assert again.exit_code == 0, again.output
    assert "already seeded" in again.stdout

    engine = open_engine(settings)
    try:
        with Session(engine) as session:
            emails = session.exec(select(Person.email).order_by(col(Person.id))).all()
    finally:
        engine.dispose()
    assert len(emails) == 4
    username = str(emails[0]).lower()
    assert username in seeded.stdout  # the sign-in block names real customers

    # the warm start (on in the compose file) is the warm-start tests' subject, not this one's
    with TestClient(create_app(settings.model_copy(update={"warm_start": False}))) as client:
        assert client.get("/health").status_code == 200
        assert client.get("/ready").json() == {"status": "ok", "database": "ok"}
        reply = client.post(
            "/api/auth/token", json={"username": username, "password": settings.demo_password}
        )
        assert reply.status_code == 200, reply.text
        token = reply.json()["access_token"]
        accounts = client.get("/api/me/accounts", headers={"authorization": f"Bearer {token}"})
        assert accounts.status_code == 200, accounts.text
        assert accounts.json()
    # the configured key signs sessions: nothing was generated into var/
    assert not (settings.var_dir / "secret.key").exists()
