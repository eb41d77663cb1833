"""Wiring shared by the web app's lifespan and the CLI: one way to reach the system of record."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from services.db import create_schema, make_engine
from services.settings import Settings


def open_engine(settings: Settings, *, verify: bool = True) -> Engine:
    """An engine on the configured database, with every table in place.

    Args:
        settings: Where the database is (``resolved_database_url``).
        verify: Refuse tables made by an older Concierge (``SchemaMismatch``); off when the
            caller is about to drop them.

    Returns:
        A ready engine; the caller disposes of it.
    """
    engine = make_engine(settings.resolved_database_url)
    try:
        create_schema(engine, verify=verify)
    except BaseException:
        engine.dispose()
        raise
    return engine


def safe_url(url: str) -> str:
    """The database URL with any password masked, fit for messages and logs.

    Args:
        url: A SQLAlchemy database URL.

    Returns:
        The URL with its password replaced by ``***``.
    """
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL has no password we could find either
        return "<unparsable database url>"
