"""Every listing of a customer's accounts comes from one query and agrees with the raw table."""

from __future__ import annotations

from sqlmodel import Session

from app.api.queries import list_accounts
from services.reads import records
from services.reads.accounts import account_rows
from tests.support.bank_raw import rows

OPEN_FIELDS = ["id", "type", "name", "number", "currency", "balance_minor", "status", "last4"]


def _people(bank) -> list[int]:
    # A few customers, and every one with a closed account, so both filters are exercised.
    closed = rows(bank.engine, "SELECT DISTINCT person_id FROM account WHERE status = 'closed'")
    return sorted({1, 2, 57, 123, 300, *(p for (p,) in closed)})


def test_account_rows_are_every_account_in_id_order(bank) -> None:
    with bank.engine.connect() as conn:
        for person_id in _people(bank):
            raw = rows(
                bank.engine,
                "SELECT id, status FROM account WHERE person_id = :p ORDER BY id",
                p=person_id,
            )
            assert [(r.id, r.status) for r in account_rows(conn, person_id=person_id)] == [
                (i, s) for i, s in raw
            ]


def test_the_listings_keep_their_accounts_and_fields(bank) -> None:
    with bank.engine.connect() as conn, Session(bank.engine) as session:
        for person_id in _people(bank):
            every = account_rows(conn, person_id=person_id)
            opened = records.accounts(conn, person_id=person_id)
            closed = records.closed_accounts(conn, person_id=person_id)
            assert [a["id"] for a in opened] == [r.id for r in every if r.status != "closed"]
            assert all(list(a) == OPEN_FIELDS for a in opened)
            assert all(a["last4"] == a["number"][-4:] for a in opened)
            assert closed == [
                {"id": r.id, "name": r.name, "type": r.type} for r in every if r.status == "closed"
            ]
            api = list_accounts(session, person_id=person_id)
            assert [a.model_dump() for a in api] == [dict(r._mapping) for r in every]
