"""Shared fixtures: fresh databases on SQLite and PostgreSQL, and a seeded bank on each; and the
browser tests' check for the browser.

PostgreSQL tests run in a schema of their own that is dropped afterwards. A test whose server,
browser or data set is missing is skipped, saying what is missing and how to get it; when
``CI=true`` it fails instead (``tests.support.unavailable``). The environment the suite reads:

- ``CONCIERGE_TEST_POSTGRES_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``)
  and ``CONCIERGE_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/15``): the servers,
  tests/support/servers.py.
- ``CONCIERGE_TEST_CHROMIUM`` (default ``/usr/bin/chromium``, Debian's ``apt-get install
  chromium``): the browser tests/e2e drives through Playwright; tests/support/browser.py.
- ``BANKING77``: the folder holding BANKING77's ``train.csv``, ``test.csv`` and
  ``categories.json``, for the knowledge-base tests; tests/support/banking77.py.
- ``CI=true``: fail, never skip, for want of any of these.
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
from tests.support import unavailable
from tests.support.browser import browser_missing
from tests.support.servers import fresh_engine

BACKENDS = ["sqlite", "postgres"]
# Encoder exports (knowledge/encoding/onnx_runtime.py) go to this test run's own folder, not $HOME.
_ONNX_CACHE = tempfile.mkdtemp(prefix="concierge-onnx-")
os.environ.setdefault("CONCIERGE_ONNX_CACHE", _ONNX_CACHE)
atexit.register(shutil.rmtree, _ONNX_CACHE, True)
# Test servers build the assistant and the knowledge index when a test first chats, not at
# start-up: most never chat. The tests of the warm start, and the browser tests, turn it on.
os.environ.setdefault("CONCIERGE_WARM_START", "false")
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


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Without the browser, a browser test is skipped (failed in CI) before its fixtures run:
    they would seed a bank and start a server for nothing."""
    if item.get_closest_marker("e2e") is not None:
        missing = browser_missing()
        if missing:
            unavailable(missing)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line at the end of the run when browser tests were skipped for want of the browser, so
    that a green run without them does not pass unnoticed."""
    missing = browser_missing()
    if not missing:
        return
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if "e2e" in report.keywords and missing in str(report.longrepr)
    ]
    if skipped:
        terminalreporter.write_sep(
            "!", f"{len(skipped)} browser tests skipped: {missing}", yellow=True, bold=True
        )
