"""``GET /api/me/transactions``: the signed-in customer's statement, filtered and paged.

The cursor is opaque to clients: base64url of the last row's ``(booked_at, id)``. Pages follow
that key (see ``services.reads.statements``), so paging never repeats or skips a transaction.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from app.api.deps import CUSTOMER_ONLY, MAX_ID, CurrentCustomer, SessionDep
from app.api.queries import list_accounts
from app.api.views import TransactionPage, transaction_view
from services.money import MAX_MINOR, to_decimal
from services.reads.statements import MAX_PAGE, StatementFilter, resolve_account, transaction_page

router = APIRouter(prefix="/api/me", tags=["me"])
# The largest amount a ledger row can hold in any currency (signed 64-bit minor units, two
# decimals): a bigger bound would overflow the database driver instead of filtering nothing.
MAX_AMOUNT = to_decimal(MAX_MINOR, "USD")


def encode_cursor(key: tuple[datetime, int]) -> str:
    """The opaque cursor for a page that continues after ``key``."""
    raw = json.dumps([key[0].isoformat(), key[1]], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The key a cursor carries.

    Raises:
        ValueError: when it is not a cursor this API issued.
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        booked, last_id = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        when = datetime.fromisoformat(booked)
    except (binascii.Error, UnicodeError, ValueError, TypeError):
        raise ValueError("malformed cursor") from None
    if not isinstance(last_id, int) or isinstance(last_id, bool) or when.tzinfo is None:
        raise ValueError("malformed cursor")
    if not 0 < last_id <= MAX_ID:  # no row has it, and the database driver would overflow
        raise ValueError("malformed cursor")
    return when, last_id


@router.get(
    "/transactions",
    response_model=TransactionPage,
    responses={
        400: {"description": "A cursor this API did not issue."},
        **CUSTOMER_ONLY,
        404: {"description": "The account filter names none of the customer's accounts."},
    },
)
def my_transactions(
    customer_id: CurrentCustomer,
    session: SessionDep,
    account: Annotated[
        str | None,
        Query(max_length=100, description="One of your accounts: its id, last four or name."),
    ] = None,
    account_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="One of your accounts by id.")
    ] = None,
    merchant: Annotated[str | None, Query(max_length=100)] = None,
    category: Annotated[str | None, Query(max_length=40)] = None,
    since: Annotated[date | None, Query(description="Booked on or after (UTC day).")] = None,
    until: Annotated[date | None, Query(description="Booked on or before (UTC day).")] = None,
    min_amount: Annotated[
        Decimal | None,
        Query(ge=0, le=MAX_AMOUNT, description="Smallest absolute amount, e.g. 10.00."),
    ] = None,
    max_amount: Annotated[
        Decimal | None,
        Query(ge=0, le=MAX_AMOUNT, description="Largest absolute amount, e.g. 250.00."),
    ] = None,
    q: Annotated[
        str | None, Query(max_length=100, description="Text in merchant or description.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> TransactionPage:
    """The signed-in customer's transactions, newest first, a page at a time.

    Amount bounds apply to the size of a transaction whichever way the money went.
    """
    conn = session.connection()
    missing = HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="account not found")
    # Someone else's account looks exactly like one that does not exist.
    chosen: int | None = None
    if account_id is not None:
        if account_id not in {a.id for a in list_accounts(session, person_id=customer_id)}:
            raise missing
        chosen = account_id
    if account is not None:
        found = resolve_account(conn, person_id=customer_id, ref=account)
        if found is None or (chosen is not None and found != chosen):
            raise missing
        chosen = found
    try:
        after = decode_cursor(cursor) if cursor else None
    except ValueError as exc:
        raise HTTPException(status_code=status.HTTP_400_BAD_REQUEST, detail=str(exc)) from None
    if until == date.max:  # "up to the end of time" bounds nothing (and the day after overflows)
        until = None
    filters = StatementFilter(
        account_id=chosen,
        merchant=merchant,
        category=category,
        since=since,
        until=until,
        min_amount=min_amount,
        max_amount=max_amount,
        text=q,
    )
    rows, key = transaction_page(
        conn, person_id=customer_id, filters=filters, after=after, limit=limit
    )
    return TransactionPage(
        items=[transaction_view(r) for r in rows],
        next_cursor=encode_cursor(key) if key else None,
    )
