"""Moving money now: between the customer's own accounts, to a payee, onto a credit card.

Each debit and credit is a ledger row and a balance change in the same transaction; a transfer's
two rows share one reference (and ``source_ref`` ``concierge:<reference>:debit|credit``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select
from sqlmodel import SQLModel

from services.banking.core import (
    Refused,
    Write,
    WriteResult,
    execute,
)
from services.banking.rules import (
    book,
    check_amount,
    check_currency,
    check_daily_limit,
    check_deposit,
    check_funds,
    check_usable,
    label,
    lock_accounts,
    money,
    owned,
)
from services.merchants import category_of

_T = SQLModel.metadata.tables


def transfer(
    conn: Connection,
    *,
    person_id: int,
    from_account_id: int,
    to_account_id: int,
    amount_minor: int,
    currency: str,
    idempotency_key: str,
    now: datetime,
) -> WriteResult:
    """Move money between two of the customer's own checking or savings accounts.

    Raises:
        NotFound: either account is not the customer's.
        Refused: bad amount or currency, same account twice, an account not open or not a
            deposit account, not enough money, or over the daily limit.
        IdempotencyConflict: the key was used for a different request.
    """
    request = {
        "operation": "transfer",
        "from_account_id": from_account_id,
        "to_account_id": to_account_id,
        "amount_minor": amount_minor,
        "currency": currency,
    }

    def body(w: Write) -> WriteResult:
        amount, code = check_amount(amount_minor, currency)
        accounts = lock_accounts(w, [from_account_id, to_account_id])
        if from_account_id == to_account_id:
            raise Refused("Choose two different accounts: money can't move to the same account.")
        src, dst = accounts[from_account_id], accounts[to_account_id]
        for account in (src, dst):
            check_usable(account)
            check_deposit(account)
            check_currency(account, code)
        check_funds(src, amount)
        check_daily_limit(w, code, amount)
        debit, src_after = book(
            w,
            src,
            amount_minor=-amount,
            leg="debit",
            category="transfer",
            channel="transfer",
            description=f"TRANSFER TO {dst.name.upper()}",
            counterparty=label(dst),
        )
        credit, dst_after = book(
            w,
            dst,
            amount_minor=amount,
            leg="credit",
            category="transfer",
            channel="transfer",
            description=f"TRANSFER FROM {src.name.upper()}",
            counterparty=label(src),
        )
        return WriteResult(
            kind="transfer",
            summary=(
                f"Moved {money(amount, code)} from {label(src)} to {label(dst)}. "
                f"Balances now: {src.name} {money(src_after, code)}, "
                f"{dst.name} {money(dst_after, code)}."
            ),
            ids={
                "from_account_id": src.id,
                "to_account_id": dst.id,
                "debit_entry_id": debit,
                "credit_entry_id": credit,
            },
            reference=w.reference,
        )

    return execute(
        conn,
        person_id=person_id,
        kind="transfer",
        idempotency_key=idempotency_key,
        now=now,
        request=request,
        resource="account",
        resource_key="from_account_id",
        body=body,
    )


def pay_payee(
    conn: Connection,
    *,
    person_id: int,
    from_account_id: int,
    payee_id: int,
    amount_minor: int,
    currency: str,
    idempotency_key: str,
    now: datetime,
) -> WriteResult:
    """Pay one of the customer's payees (a biller or a person) from a checking or savings account.

    Billers are paid by ACH under the category of the customer's bill with that biller (else
    the category the biller's name tells, else ``bill``); people by person-to-person transfer
    (``transfers``), as the bank's history books them.

    Raises:
        NotFound: the account or payee is not the customer's.
        Refused: bad amount or currency, account not open or not a deposit account, not
            enough money, or over the daily limit.
        IdempotencyConflict: the key was used for a different request.
    """
    request = {
        "operation": "pay_payee",
        "from_account_id": from_account_id,
        "payee_id": payee_id,
        "amount_minor": amount_minor,
        "currency": currency,
    }

    def body(w: Write) -> WriteResult:
        amount, code = check_amount(amount_minor, currency)
        src = lock_accounts(w, [from_account_id])[from_account_id]
        payee = owned(w, "payee", payee_id, "payee")
        check_usable(src)
        check_deposit(src)
        check_currency(src, code)
        check_funds(src, amount)
        check_daily_limit(w, code, amount)
        if payee.kind == "person":
            category, channel = "transfers", "p2p"
        else:
            category, channel = _bill_category(w, payee), "ach"
        entry, after = book(
            w,
            src,
            amount_minor=-amount,
            leg="debit",
            category=category,
            channel=channel,
            description=f"PAYMENT TO {payee.name.upper()}",
            merchant=payee.name,
            counterparty=payee.name,
        )
        return WriteResult(
            kind="payment",
            summary=(
                f"Paid {money(amount, code)} to {payee.name} from {label(src)}. "
                f"{src.name} balance is now {money(after, code)}."
            ),
            ids={"from_account_id": src.id, "payee_id": payee.id, "debit_entry_id": entry},
            reference=w.reference,
        )

    return execute(
        conn,
        person_id=person_id,
        kind="payment",
        idempotency_key=idempotency_key,
        now=now,
        request=request,
        resource="payee",
        resource_key="payee_id",
        body=body,
    )


def _bill_category(w: Write, payee: Row[Any]) -> str:
    series = _T["recurring_series"]
    found = w.conn.execute(
        select(series.c.category)
        .where(series.c.person_id == w.person_id, series.c.merchant == payee.name)
        .order_by(series.c.id)
        .limit(1)
    ).scalar()
    # Without a bill series, the biller's name says what kind of bill it is (an insurer...).
    return str(found) if found else category_of(payee.name) or "bill"


def pay_card_bill(
    conn: Connection,
    *,
    person_id: int,
    from_account_id: int,
    card_account_id: int,
    amount_minor: int,
    idempotency_key: str,
    now: datetime,
) -> WriteResult:
    """Pay off some or all of a credit card account's balance from a checking or savings account.

    The amount is in the accounts' currency and may not exceed what is owed.

    Raises:
        NotFound: either account is not the customer's.
        Refused: bad amount, the card account is not a credit card or owes nothing or less
            than the amount, an account not open, not enough money, or over the daily limit.
        IdempotencyConflict: the key was used for a different request.
    """
    request = {
        "operation": "pay_card_bill",
        "from_account_id": from_account_id,
        "card_account_id": card_account_id,
        "amount_minor": amount_minor,
    }

    def body(w: Write) -> WriteResult:
        accounts = lock_accounts(w, [from_account_id, card_account_id])
        src, card = accounts[from_account_id], accounts[card_account_id]
        amount, code = check_amount(amount_minor, src.currency)
        if card.type != "credit_card":
            raise Refused(f"{label(card)} is not a credit card account.")
        for account in (src, card):
            check_usable(account)
        check_deposit(src)
        check_currency(card, code)
        owed = max(0, -int(card.balance_minor))
        if owed == 0:
            raise Refused(f"Nothing is owed on {label(card)}.")
        if amount > owed:
            raise Refused(
                f"That's more than the {money(owed, code)} owed on {label(card)}; "
                "you can pay up to that."
            )
        check_funds(src, amount)
        check_daily_limit(w, code, amount)
        debit, src_after = book(
            w,
            src,
            amount_minor=-amount,
            leg="debit",
            category="transfer",
            channel="transfer",
            description=f"PAYMENT TO {card.name.upper()}",
            counterparty=label(card),
        )
        credit, card_after = book(
            w,
            card,
            amount_minor=amount,
            leg="credit",
            category="transfer",
            channel="transfer",
            description=f"PAYMENT FROM {src.name.upper()}",
            counterparty=label(src),
        )
        still = max(0, -card_after)
        return WriteResult(
            kind="transfer",
            summary=(
                f"Paid {money(amount, code)} to {label(card)} from {label(src)}. "
                f"Still owed on the card: {money(still, code)}; "
                f"{src.name} balance is now {money(src_after, code)}."
            ),
            ids={
                "from_account_id": src.id,
                "to_account_id": card.id,
                "debit_entry_id": debit,
                "credit_entry_id": credit,
            },
            reference=w.reference,
        )

    return execute(
        conn,
        person_id=person_id,
        kind="transfer",
        idempotency_key=idempotency_key,
        now=now,
        request=request,
        resource="account",
        resource_key="to_account_id",
        body=body,
    )
