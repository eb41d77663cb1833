"""The one query of a customer's accounts, which every listing of them starts from.

The chat tools' open accounts and closed ones (``services.reads.records``), the profile's
products, the offer signals and the API's ``/api/me/accounts`` all take these rows and keep
the accounts and columns they show, so they agree on what a customer has and in what order.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Connection, Row, Select, bindparam, select
from sqlmodel import SQLModel


@cache
def _statement() -> Select[Any]:
    # Built once with a bound parameter: it runs on every chat turn and profile read.
    account = SQLModel.metadata.tables["account"]
    return (
        select(account).where(account.c.person_id == bindparam("person_id")).order_by(account.c.id)
    )


def account_rows(conn: Connection, *, person_id: int) -> list[Row[Any]]:
    """Every account ``person_id`` has, whatever its status, with all its columns, in id order.

    Args:
        conn: A connection to the system of record.
        person_id: Whose accounts (the authenticated customer's id, never user input).
    """
    return list(conn.execute(_statement(), {"person_id": person_id}))
