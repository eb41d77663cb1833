"""Shared fixtures: fresh databases on SQLite and PostgreSQL, and a seeded bank on each.

PostgreSQL tests run in a schema of their own that is dropped afterwards. When ``CI=true`` a
test that needs PostgreSQL or Redis fails if the server is unreachable instead of skipping
(tests/support/servers.py).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from services.db import create_schema
from services.settings import get_settings
from tests.support.servers import fresh_engine

BACKENDS = ["sqlite", "postgres"]
# Encoder exports (knowledge/encoding/onnx_runtime.py) go to this test session's own folder, not
# $HOME.
_ONNX_CACHE = tempfile.mkdtemp(prefix="concierge-onnx-")
os.environ.setdefault("CONCIERGE_ONNX_CACHE", _ONNX_CACHE)
atexit.register(shutil.rmtree, _ONNX_CACHE, True)
# The bank most data tests read: big enough for every planted situation to show up.
BANK_CUSTOMERS, BANK_SEED, BANK_AS_OF = 300, 11, date(2026, 11, 28)


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A fresh database with Concierge's schema, on each backend."""
    if request.param == "postgres":
        request.applymarker(pytest.mark.postgres)
    for eng in fresh_engine(request.param, tmp_path):
        create_schema(eng)
        yield eng


@dataclass
class Bank:
    """A seeded bank and how it was made."""

    engine: Engine
    backend: str
    customers: int
    seed: int
    as_of: date


@pytest.fixture(scope="session", params=BACKENDS)
def bank(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Bank]:
    """The same seeded bank on each backend, shared by the read-only data tests."""
    from services.synth.writer import seed_bank

    path = tmp_path_factory.mktemp(f"bank-{request.param}")
    for eng in fresh_engine(request.param, path):
        seed_bank(eng, customers=BANK_CUSTOMERS, seed=BANK_SEED, as_of=BANK_AS_OF, workers=2)
        yield Bank(eng, request.param, BANK_CUSTOMERS, BANK_SEED, BANK_AS_OF)


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    """Settings are read per test, after any monkeypatching of the environment."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def classifier_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The offline model's intent classifier, trained once per test session."""
    from agents.offline.classifier import default_classifier, model_dir

    var = tmp_path_factory.mktemp("nlu-var")
    default_classifier(var)
    return model_dir(var)
