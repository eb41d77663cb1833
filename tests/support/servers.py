"""The PostgreSQL and Redis servers the tests use, and fresh databases on either backend.

When ``CI=true`` a test that needs a server fails if it is unreachable instead of skipping
(``tests.support.unavailable``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, text

from services.db import make_engine
from tests.support import unavailable

POSTGRES_URL = os.environ.get(
    "CONCIERGE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("CONCIERGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def require_postgres() -> None:
    """Fail (in CI) or skip (elsewhere) when PostgreSQL does not answer."""
    import psycopg

    try:
        url = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means the server is not usable
        unavailable(f"PostgreSQL is unreachable: {exc}")


def require_redis() -> None:
    """Fail (in CI) or skip (elsewhere) when Redis does not answer."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        unavailable(f"Redis is unreachable: {exc}")


def _postgres_engine(schema: str) -> Engine:
    return make_engine(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})


def fresh_engine(backend: str, tmp_path: Path) -> Iterator[Engine]:
    """A brand-new empty database on ``backend``; removed afterwards.

    PostgreSQL databases are a schema of their own, dropped afterwards.
    """
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{(tmp_path / 'bank.db').as_posix()}")
        yield engine
        engine.dispose()
        return
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = _postgres_engine(schema)
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
