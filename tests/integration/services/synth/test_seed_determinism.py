"""The same seed gives the same bank (whatever the worker count, whatever the backend)."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, time
from pathlib import Path

from sqlalchemy import Engine, select
from sqlmodel import SQLModel

from services.synth.writer import ORDER, seed_bank
from tests.support.servers import fresh_engine

AS_OF = date(2026, 11, 28)
N = 25


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return value


def dump(engine: Engine) -> dict[str, str]:
    """A digest per table of every row in primary-key order, read through the typed schema."""
    digests = {}
    with engine.connect() as conn:
        for name in (*ORDER, "bank_meta"):
            table = SQLModel.metadata.tables[name]
            result = conn.execute(select(table).order_by(*table.primary_key.columns))
            text = json.dumps([[_plain(v) for v in row] for row in result], sort_keys=True)
            digests[name] = hashlib.sha256(text.encode()).hexdigest()
    return digests


def _seeded(backend: str, path: Path, *, seed: int, workers: int) -> dict[str, str]:
    path.mkdir(parents=True, exist_ok=True)
    for engine in fresh_engine(backend, path):
        seed_bank(engine, customers=N, seed=seed, as_of=AS_OF, workers=workers)
        return dump(engine)
    raise AssertionError("unreachable")


def test_same_seed_same_bank_whatever_the_workers(tmp_path: Path) -> None:
    one = _seeded("sqlite", tmp_path / "a", seed=5, workers=1)
    two = _seeded("sqlite", tmp_path / "b", seed=5, workers=2)
    assert one == two


def test_different_seed_different_bank(tmp_path: Path) -> None:
    five = _seeded("sqlite", tmp_path / "a", seed=5, workers=2)
    six = _seeded("sqlite", tmp_path / "b", seed=6, workers=2)
    differing = {name for name in five if five[name] != six[name]}
    assert {"person", "account", "ledger_entry", "digital_event", "ground_truth"} <= differing


def test_postgres_holds_exactly_the_bank_sqlite_holds(tmp_path: Path) -> None:
    sqlite = _seeded("sqlite", tmp_path / "a", seed=5, workers=2)
    postgres = _seeded("postgres", tmp_path / "b", seed=5, workers=2)
    assert {n for n in sqlite if sqlite[n] != postgres[n]} == set()


def test_workers_are_never_forked_from_the_seeding_process() -> None:
    # A process running threads may hold a lock when it forks; a child born holding it would
    # wait forever. The workers' parent is the fork server, never the caller.
    import os

    from services.synth.writer import pool_context

    with pool_context().Pool(1) as pool:
        assert pool.apply(os.getppid) != os.getpid()
