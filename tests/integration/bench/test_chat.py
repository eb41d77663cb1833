"""``concierge bench chat --json``: real sessions over the websocket of a served app."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from app.serving import usable_cpus
from bench.chat import SCRIPT
from bench.cli import register
from tests.support.servers import POSTGRES_URL, REDIS_URL, require_postgres, require_redis


def _cli() -> typer.Typer:
    cli = typer.Typer()

    @cli.callback()
    def root() -> None:
        """Test CLI."""

    register(cli)
    return cli


def test_bench_chat_drives_every_session_through_its_script(classifier_dir: Path) -> None:
    result = CliRunner().invoke(
        _cli(),
        ["bench", "chat", "--sessions", "3", "--nlu-model", str(classifier_dir), "--json"],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["errors"] == 0, out["error_samples"]
    assert out["sessions"] == 3
    # every scripted line is one turn, and each approved confirmation one more
    assert out["turns"] == 3 * len(SCRIPT) + out["confirmations"]
    assert out["latency_ms_p50"] <= out["latency_ms_p95"] <= out["latency_ms_p99"]
    assert out["turns_per_s"] > 0
    # signing in is measured apart from the conversations
    assert out["sign_in_ms_p50"] > 0 and out["connect_seconds"] > 0
    # the server (a child process tree) and this client both spent CPU on the turns
    assert out["server_cpu_ms_per_turn"] > 0 and out["client_cpu_ms_per_turn"] > 0
    assert out["cores_busy"] > 0
    assert out["workers"] == usable_cpus()  # one server process per core by default
    assert (out["database"], out["hub"]) == ("sqlite", "in-process")


def test_bench_chat_on_the_scale_path_postgresql_redis_and_two_processes(
    classifier_dir: Path,
) -> None:
    """The bank in a schema of its own on PostgreSQL, dropped afterwards; Redis shared."""
    from sqlalchemy import create_engine, text

    require_postgres()
    require_redis()
    engine = create_engine(POSTGRES_URL)
    schemas = (
        "SELECT count(*) FROM information_schema.schemata WHERE schema_name LIKE 'bench_chat_%'"
    )
    with engine.connect() as conn:
        before = conn.execute(text(schemas)).scalar_one()
    args = ["bench", "chat", "--sessions", "4", "--workers", "2", "--think-ms", "0"]
    args += ["--database-url", POSTGRES_URL, "--redis-url", REDIS_URL]
    result = CliRunner().invoke(_cli(), [*args, "--nlu-model", str(classifier_dir), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["errors"] == 0, out["error_samples"]
    assert out["turns"] == 4 * len(SCRIPT) + out["confirmations"] and out["confirmations"] > 0
    assert (out["database"], out["hub"], out["workers"]) == ("postgresql", "redis", 2)
    with engine.connect() as conn:
        assert conn.execute(text(schemas)).scalar_one() == before  # nothing left behind
    engine.dispose()


def test_bench_chat_refuses_a_database_url_that_is_not_postgresql() -> None:
    result = CliRunner().invoke(
        _cli(), ["bench", "chat", "--database-url", "sqlite:///bank.db", "--json"]
    )
    assert result.exit_code == 2 and "--database-url" in result.output


def test_sessions_say_each_step_in_their_own_words() -> None:
    from bench.chat import PHRASINGS, script_for

    scripts = [script_for(i) for i in range(12)]
    assert all(len(s) == len(SCRIPT) == len(PHRASINGS) for s in scripts)
    assert len({s[1] for s in scripts}) > 1  # balance questions vary
    amounts = {s[4] for s in scripts}
    assert len(amounts) == 12 and all("{" not in s for s in amounts)


def test_the_default_worker_count_follows_the_cpus_this_process_may_use() -> None:
    import subprocess
    import sys

    pinned = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
            "from app.serving import usable_cpus; print(usable_cpus())",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert pinned.stdout.strip() == "1"
    assert usable_cpus() >= 1
