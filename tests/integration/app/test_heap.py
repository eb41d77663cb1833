"""The server keeps what start-up loaded out of the garbage collector's way (app/heap.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.auth import Role, issue_token
from app.heap import freeze_heap
from app.main import create_app
from services.settings import Settings
from services.synth.writer import seed_bank


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # leave the test process's collector as it was


def test_freezing_moves_the_live_objects_out_of_collection(unfrozen: None) -> None:
    kept = [[i] for i in range(1000)]
    frozen = freeze_heap()
    assert frozen == gc.get_freeze_count() >= len(kept)
    collected = {id(x) for x in gc.get_objects()}  # what later collections walk
    assert not any(id(x) in collected for x in kept)
    more = [[i] for i in range(500)]  # objects made afterwards are collected as usual
    assert all(id(x) in {id(y) for y in gc.get_objects()} for x in more[:5])
    assert freeze_heap() >= frozen + len(more)


def test_the_server_freezes_after_start_up_and_again_once_the_models_are_loaded(
    tmp_path: Path, classifier_dir: Path, unfrozen: None
) -> None:
    settings = Settings(
        var_dir=tmp_path,
        database_url=f"sqlite:///{(tmp_path / 'bank.db').as_posix()}",
        secret_key="heap-test",
        nlu_model=classifier_dir,
    )
    app = create_app(settings)
    assert gc.get_freeze_count() == 0
    with TestClient(app) as client:
        started = gc.get_freeze_count()
        assert started > 0
        seed_bank(app.state.engine, customers=1, seed=3, as_of=date.today())
        token = issue_token(person_id=1, role=Role.customer, key="heap-test")
        with client.websocket_connect(f"/ws/chat?token={token}") as ws:
            assert ws.receive_json()["type"] == "STATE_SNAPSHOT"  # the assistant is built
        assert gc.get_freeze_count() > started
