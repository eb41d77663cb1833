"""``concierge bench decisions --json``: one JSON object, tiny sizes; never a timed test."""

import json
from datetime import UTC, datetime

import pytest
import typer
from typer.testing import CliRunner

from bench.cli import register
from bench.decisions import measure_events
from services.events.in_process import InProcessBus
from services.events.redis_streams import connect
from services.recommendations import FeatureVector, Recommender, default_catalog, to_bytes
from services.recommendations.recommender import LruVectorStore
from tests.support.servers import REDIS_URL, require_redis

LATENCY = {"p50_us", "p99_us"}
CACHED = LATENCY | {"per_s", "samples", "empty_share"}
TOP = {
    "cached",
    "cold",
    "redis",
    "bytes_per_customer",
    "lru_heap_bytes_per_customer",
    "lru_rss_bytes_per_customer",
    "event_to_decision_ms_p50",
    "event_to_decision_ms_p99",
    "events",
    "customers",
    "bank_customers",
    "population",
    "level",
    "gc",
    "seconds",
}


def _cli() -> typer.Typer:
    cli = typer.Typer()

    @cli.callback()
    def root() -> None:
        """Test CLI."""

    register(cli)
    return cli


def _run(*args: str) -> dict:
    small = ["--customers", "300", "--bank-customers", "20", "--events", "40"]
    result = CliRunner().invoke(_cli(), ["bench", "decisions", "--json", *small, *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _sane(figures: dict, keys: set[str]) -> None:
    assert keys <= set(figures), figures
    for key in keys:
        assert figures[key] >= 0, (key, figures)
    if {"p50_us", "p99_us"} <= keys:
        assert 0 < figures["p50_us"] <= figures["p99_us"], figures


def _checks_in_process(out: dict, level: str = "predictive") -> None:
    assert TOP <= set(out), out
    assert out["customers"] == 300 and out["bank_customers"] == 20 and out["events"] == 40
    assert out["level"] == level
    assert out["population"].startswith("300 vectors cloned from a 20-customer seeded bank")
    _sane(out["cached"], CACHED)
    assert out["cached"]["samples"] == 300 and out["cached"]["per_s"] > 0
    _sane(out["cold"], LATENCY | {"insights_p99_us", "build_p99_us", "risk_and_decide_p99_us"})
    assert out["cold"]["samples"] == 20
    assert out["cold"]["insights_p99_us"] > 0 and out["cold"]["build_p99_us"] > 0
    assert 0 < out["bytes_per_customer"] < 4096
    assert 0 < out["lru_heap_bytes_per_customer"] < 8192  # the bytes plus the entry's overhead
    assert 0 < out["event_to_decision_ms_p50"] <= out["event_to_decision_ms_p99"]


@pytest.mark.redis
def test_bench_decisions_prints_one_json_object_with_redis() -> None:
    require_redis()
    client = connect(REDIS_URL)
    before = set(client.scan_iter(match="concierge:bench:*"))
    out = _run("--redis-url", REDIS_URL)
    _checks_in_process(out)
    redis = out["redis"]
    assert "error" not in redis, redis
    _sane(redis, CACHED | {"used_memory_per_customer"})
    assert redis["samples"] == 300 and redis["events"] == 40
    assert 0 < redis["event_to_decision_ms_p50"] <= redis["event_to_decision_ms_p99"]
    assert set(client.scan_iter(match="concierge:bench:*")) == before  # cleaned up
    client.close()


def test_an_unreachable_redis_is_reported_not_fatal() -> None:
    out = _run("--redis-url", "redis://127.0.0.1:1/0", "--level", "behavioral")
    _checks_in_process(out, level="behavioral")
    assert set(out["redis"]) == {"error"} and "127.0.0.1:1" in out["redis"]["error"]


def test_an_unknown_level_is_refused() -> None:
    result = CliRunner().invoke(_cli(), ["bench", "decisions", "--level", "psychic"])
    assert result.exit_code == 2, result.output  # refused before seeding anything


def test_a_handler_that_does_not_refresh_the_cache_fails_the_event_measure() -> None:
    now = datetime(2026, 11, 28, 12, tzinfo=UTC)
    vector = FeatureVector(
        person_id=7,
        as_of=int(now.timestamp()),
        first_name="Maya",
        segment="mass_market",
        watermark=int(now.timestamp() * 1_000_000),
    )
    store = LruVectorStore()
    store.put(7, to_bytes(vector))

    def never(person_id: int, at: datetime) -> FeatureVector:
        raise AssertionError("the cached vector must not be rebuilt")

    stale = Recommender(store, load=never, catalog=default_catalog())
    stale.on_events = lambda events: None  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="did not see it"):
        measure_events(
            InProcessBus(),
            stale,
            [7],
            now=now,
            level="behavioral",
            count=3,
            seed=1,
            advance=lambda n: None,
        )
    fresh = Recommender(store, load=never, catalog=default_catalog())
    out = measure_events(
        InProcessBus(),
        fresh,
        [7],
        now=now,
        level="behavioral",
        count=3,
        seed=1,
        advance=lambda n: None,
    )
    assert out["events"] == 3 and out["event_to_decision_ms_p99"] > 0
