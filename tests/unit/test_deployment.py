"""docker-compose.yml and the Dockerfile agree with each other, with pyproject and with Settings.

There is no Docker engine in CI, so these read the files: a renamed setting, a service without a
healthcheck, a URL naming a host nobody declared or a port mismatch fails here first.
"""

from __future__ import annotations

import os
import re
import shlex
import tomllib
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from services.settings import Settings
from tests.support import ROOT

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
DOCKERFILE = (ROOT / "Dockerfile").read_text()
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())

PREFIX = str(Settings.model_config.get("env_prefix", ""))
# Settings whose embedded default (SQLite, in-process cache and bus, embedded Chroma, a key
# generated into one replica's var/) does not hold when many replicas share the servers.
AT_SCALE = {
    "database_url": "postgres",
    "redis_url": "redis",
    "cache_url": "redis",
    "chroma_url": "chroma",
}
BACKING_SERVICES = ("postgres", "redis", "chroma")
_INTERPOLATION = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


def interpolate(value: str) -> str:
    """Resolve compose's ``${VAR:-default}`` / ``${VAR:?message}`` as an unset shell would."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.groups()
        if op in (":-", "-"):
            return arg
        if op in (":?", "?"):
            return f"required-{name.lower()}"
        raise AssertionError(f"${{{name}}} has no default and is not marked required")

    return _INTERPOLATION.sub(one, value).replace("$$", "$")


def services() -> dict[str, Any]:
    return dict(COMPOSE["services"])


def environment(service: str) -> dict[str, str]:
    env = services()[service].get("environment", {})
    if isinstance(env, list):  # the `- KEY=value` spelling
        env = dict(item.split("=", 1) for item in env)
    return {str(key): str(value) for key, value in env.items()}


def app_env() -> dict[str, str]:
    return {key: interpolate(value) for key, value in environment("app").items()}


def setting_name(variable: str) -> str:
    assert variable.startswith(PREFIX), f"{variable} lacks the {PREFIX} prefix"
    return variable[len(PREFIX) :].lower()


def dockerfile_instructions(keyword: str) -> list[str]:
    joined = DOCKERFILE.replace("\\\n", " ")
    return [
        line.strip()[len(keyword) :].strip()
        for line in joined.splitlines()
        if line.strip().upper().startswith(keyword + " ")
    ]


def dockerfile_cmd() -> list[str]:
    (cmd,) = dockerfile_instructions("CMD")
    return yaml.safe_load(cmd) if cmd.startswith("[") else shlex.split(cmd)


def test_the_settings_prefix_is_the_documented_one() -> None:
    assert PREFIX == "CONCIERGE_"
    assert set(AT_SCALE) | {"event_bus", "secret_key", "host", "port"} <= set(Settings.model_fields)


@pytest.mark.parametrize("name", BACKING_SERVICES)
def test_backing_service_is_declared_with_a_healthcheck(name: str) -> None:
    service = services()[name]
    check = service.get("healthcheck", {})
    assert check.get("test"), f"{name} has no healthcheck"
    assert not check.get("disable", False)


def test_healthchecks_ask_each_server_the_right_question() -> None:
    def probe(name: str) -> str:
        test = services()[name]["healthcheck"]["test"]
        return " ".join(test) if isinstance(test, list) else str(test)

    assert "pg_isready" in probe("postgres")
    assert "redis-cli" in probe("redis") and "ping" in probe("redis")
    import chromadb

    # chromadb 1.x servers answer /api/v2 only (v1 is gone); the image matches the client.
    client_major = int(chromadb.__version__.split(".")[0])
    image = services()["chroma"]["image"]
    assert image.startswith("chromadb/chroma:")
    assert int(image.split(":", 1)[1].split(".")[0]) == client_major
    assert ("/api/v2/heartbeat" if client_major >= 1 else "/api/v1/heartbeat") in probe("chroma")


@pytest.mark.parametrize("name", BACKING_SERVICES)
def test_app_waits_for_the_service_to_be_healthy(name: str) -> None:
    depends = services()["app"]["depends_on"]
    assert isinstance(depends, dict), "depends_on must name conditions, not just services"
    assert depends[name]["condition"] == "service_healthy"


def test_app_waits_for_the_seed_to_finish() -> None:
    seed = services()["seed"]
    command = seed["command"]
    argv = command if isinstance(command, list) else shlex.split(command)
    assert argv[:2] == ["concierge", "seed"]
    assert "--if-empty" in argv, "a restart must not fail on (or wipe) the existing bank"
    assert services()["app"]["depends_on"]["seed"]["condition"] == (
        "service_completed_successfully"
    )
    assert seed["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert (
        environment("seed")["CONCIERGE_DATABASE_URL"]
        == (environment("app")["CONCIERGE_DATABASE_URL"])
    )


def test_every_app_variable_is_a_setting() -> None:
    fields = set(Settings.model_fields)
    unknown = {key for key in environment("app") if setting_name(key) not in fields}
    assert not unknown, f"not read by services.settings.Settings: {sorted(unknown)}"


def test_the_app_environment_makes_valid_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [key for key in os.environ if key.startswith(PREFIX)]:
        monkeypatch.delenv(key)
    for key, value in app_env().items():
        monkeypatch.setenv(key, value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.event_bus == "redis"
    assert settings.host == "0.0.0.0"
    assert settings.secret_key


@pytest.mark.parametrize("field", [*AT_SCALE, "event_bus", "secret_key"])
def test_every_setting_without_a_scalable_default_is_provided(field: str) -> None:
    assert field in Settings.model_fields, f"Settings has no {field!r} any more"
    env = environment("app")
    variable = PREFIX + field.upper()
    assert variable in env, f"{variable} must be set on the app"
    assert env[variable].strip()


def test_the_secret_key_is_required_not_shipped() -> None:
    raw = environment("app")[PREFIX + "SECRET_KEY"]
    assert re.fullmatch(r"\$\{\w+:\?[^}]+\}", raw), "the key must come from the operator"


def test_the_event_bus_is_redis_streams() -> None:
    assert app_env()[PREFIX + "EVENT_BUS"] == "redis"


@pytest.mark.parametrize(("field", "service"), sorted(AT_SCALE.items()))
def test_urls_name_the_declared_service(field: str, service: str) -> None:
    url = urlsplit(app_env()[PREFIX + field.upper()])
    assert url.hostname == service
    assert service in services()
    assert service in services()["app"]["depends_on"]


def test_every_url_on_the_app_names_a_declared_service() -> None:
    for key, value in app_env().items():
        url = urlsplit(value)
        if url.scheme and url.netloc:
            assert url.hostname in services(), f"{key} points at undeclared {url.hostname}"


def test_urls_use_the_services_container_ports() -> None:
    env = app_env()
    database = urlsplit(env[PREFIX + "DATABASE_URL"])
    assert database.scheme == "postgresql+psycopg"  # the driver pyproject installs
    assert database.port == 5432
    assert database.path.lstrip("/") == interpolate(
        environment("postgres").get("POSTGRES_DB", "postgres")
    )
    assert database.username == interpolate(environment("postgres")["POSTGRES_USER"])
    assert database.password == interpolate(environment("postgres")["POSTGRES_PASSWORD"])
    for field in ("redis_url", "cache_url"):
        assert urlsplit(env[PREFIX + field.upper()]).port == 6379
    assert urlsplit(env[PREFIX + "CHROMA_URL"]).port == 8000
    # the cache and the event stream keep apart
    assert env[PREFIX + "REDIS_URL"] != env[PREFIX + "CACHE_URL"]


def _published_container_port() -> int:
    (mapping,) = services()["app"]["ports"]
    if isinstance(mapping, dict):
        return int(mapping["target"])
    return int(str(mapping).split(":")[-1].split("/")[0])


def test_the_dockerfile_serves_on_the_port_compose_publishes() -> None:
    exposed = {
        int(port.split("/")[0])
        for line in dockerfile_instructions("EXPOSE")
        for port in line.split()
    }
    container_port = _published_container_port()
    assert exposed == {container_port}
    argv = dockerfile_cmd()
    assert argv[:2] == ["concierge", "serve"]
    assert int(argv[argv.index("--port") + 1]) == container_port
    assert argv[argv.index("--host") + 1] == "0.0.0.0"  # reachable from outside the container
    assert int(app_env()[PREFIX + "PORT"]) == container_port


def test_the_dockerfile_runs_as_a_user_and_checks_health() -> None:
    users = dockerfile_instructions("USER")
    assert users and users[-1] not in ("root", "0")
    (healthcheck,) = dockerfile_instructions("HEALTHCHECK")
    assert "/health" in healthcheck
    assert dockerfile_instructions("FROM")[0].startswith(("python:3.11-slim", "python:3.12-slim"))
    assert any(
        re.search(r"pip install (.* )?\.(\s|$)", run) for run in dockerfile_instructions("RUN")
    )
    # var/ is where the app writes; it must belong to the user the app runs as
    assert "/app/var" in DOCKERFILE and "chown" in DOCKERFILE


def test_the_dockerfile_pins_torch_as_pyproject_does() -> None:
    (pinned,) = [dep for dep in PYPROJECT["project"]["dependencies"] if dep.startswith("torch")]
    assert pinned.startswith("torch==")
    found = re.findall(r"torch==[\w.+]+", DOCKERFILE)
    assert found == [pinned]
    assert "download.pytorch.org/whl/cpu" in DOCKERFILE


def test_the_build_context_keeps_what_pip_install_needs() -> None:
    ignored = {
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    packages = {name.split(".")[0] for name in PYPROJECT["tool"]["setuptools"]["packages"]}
    needed = packages | {"pyproject.toml", PYPROJECT["project"]["readme"]}
    assert not needed & ignored
    assert {".venv", "var", ".env"} <= ignored  # no local state or secrets in the image
