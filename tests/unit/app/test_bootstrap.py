"""The composition root builds each adapter the settings choose, and wires the assistant."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite import SqliteSaver

from agents.assistant import Assistant
from agents.runtime_patches.checkpoints import RememberingSerde
from app import bootstrap
from services.events.in_process import InProcessBus
from services.events.redis_streams import RedisStreamBus
from services.features.redis_store import RedisFeatureStore
from services.features.store import MemoryFeatureStore
from services.settings import Settings
from tests.support.servers import REDIS_URL, require_redis


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(
        _env_file=None,
        var_dir=tmp_path,
        database_url=f"sqlite:///{(tmp_path / 'bank.db').as_posix()}",
        **values,
    )


def test_embedded_defaults_need_no_server(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert isinstance(bootstrap.event_bus(settings), InProcessBus)
    assert isinstance(bootstrap.feature_store(settings), MemoryFeatureStore)


def test_the_redis_bus_without_a_url_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="CONCIERGE_REDIS_URL"):
        bootstrap.event_bus(_settings(tmp_path, event_bus="redis", redis_url=None))


def test_a_redis_that_does_not_answer_gives_the_in_process_bus_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = _settings(tmp_path, event_bus="redis", redis_url="redis://127.0.0.1:1/0")
    with caplog.at_level(logging.WARNING):  # nothing listens on port 1
        assert isinstance(bootstrap.event_bus(settings), InProcessBus)
    assert "unreachable" in caplog.text and "in-process event bus" in caplog.text


@pytest.mark.redis
def test_a_redis_that_answers_gets_the_redis_streams_bus(tmp_path: Path) -> None:
    require_redis()
    bus = bootstrap.event_bus(_settings(tmp_path, event_bus="redis", redis_url=REDIS_URL))
    try:
        assert isinstance(bus, RedisStreamBus)
    finally:
        bus.close()


@pytest.mark.redis
def test_features_live_in_redis_when_a_cache_url_answers(tmp_path: Path) -> None:
    require_redis()
    store = bootstrap.feature_store(_settings(tmp_path, cache_url=REDIS_URL))
    assert isinstance(store, RedisFeatureStore)


def test_conversations_are_checkpointed_beside_the_bank_in_wal_mode(tmp_path: Path) -> None:
    with bootstrap.checkpointer(_settings(tmp_path)) as saver:
        assert isinstance(saver, SqliteSaver)
    with sqlite3.connect(tmp_path / "checkpoints.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_open_engine_creates_every_table(tmp_path: Path) -> None:
    from sqlalchemy import inspect

    engine = bootstrap.open_engine(_settings(tmp_path))
    try:
        assert {"person", "account", "ledger_entry"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_the_assistant_is_wired_with_the_patches_and_a_prepared_saver(tmp_path: Path) -> None:
    import langgraph.pregel._executor as pregel_executor

    from agents.runtime_patches import thread_pool

    settings = _settings(tmp_path)
    engine = bootstrap.open_engine(settings)
    saver = InMemorySaver()
    try:
        assistant = bootstrap.build_assistant(settings, engine, saver)
    finally:
        engine.dispose()
    assert isinstance(assistant, Assistant)
    assert isinstance(saver.serde, RememberingSerde)
    assert pregel_executor.get_executor_for_config is thread_pool._run_executor
    bank = assistant.bank
    assert bank.knowledge is not None and bank.recommender is not None
    assert bank.insights is not None and bank.summarise is not None
    assert set(assistant.graph.get_graph().nodes) >= {"agent", "confirm", "tools"}
