"""``concierge bench events --json``: one JSON object with both buses, tiny sizes."""

import json

import pytest
import typer
from typer.testing import CliRunner

from bench.cli import register
from services.events.redis_streams import connect
from tests.support.servers import REDIS_URL, require_redis

KEYS = {"events_per_s", "latency_ms_p50", "latency_ms_p99", "events"}


def _cli() -> typer.Typer:
    cli = typer.Typer()

    @cli.callback()
    def root() -> None:
        """Test CLI."""

    register(cli)
    return cli


def _run(*args: str) -> dict:
    result = CliRunner().invoke(_cli(), ["bench", "events", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.redis
def test_bench_events_prints_one_json_object_for_both_buses() -> None:
    require_redis()
    client = connect(REDIS_URL)
    before = set(client.scan_iter(match="concierge:bench:*"))
    out = _run("--events", "300", "--people", "20", "--redis-url", REDIS_URL)
    assert set(out) == {"in_process", "redis"}
    for name in ("in_process", "redis"):
        assert set(out[name]) == KEYS, out[name]
        assert out[name]["events"] == 300
        assert out[name]["events_per_s"] > 0
        assert 0 <= out[name]["latency_ms_p50"] <= out[name]["latency_ms_p99"]
    assert set(client.scan_iter(match="concierge:bench:*")) == before  # cleaned up
    client.close()


def test_an_unreachable_redis_is_reported_not_fatal() -> None:
    out = _run("--events", "50", "--people", "5", "--redis-url", "redis://127.0.0.1:1/0")
    assert set(out["in_process"]) == KEYS
    assert set(out["redis"]) == {"error"} and "127.0.0.1:1" in out["redis"]["error"]
