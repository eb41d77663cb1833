"""Turn a customer's planned money flows into booked ledger entries with running balances.

Deposit accounts never go below zero: the opening balance covers every mandatory flow (salary,
rent, bills, transfers, card bills), and discretionary debit-card spending that would eat into
money needed later is simply not made, as a careful customer would. A flow with a ``target``
sets the balance to that figure (a drained account); flows after it are booked as they come,
which is how a planted overdraft happens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from services.models import DEPOSIT_TYPES


@dataclass(slots=True)
class Flow:
    """One planned movement of money on one account (negative = out)."""

    at: datetime
    account: str
    amount: int | None
    category: str
    channel: str
    merchant: str | None = None
    counterparty: str | None = None
    description: str = ""
    series: str | None = None
    mandatory: bool = True
    target: int | None = None
    pair: Flow | None = None  # the other leg of a transfer between own accounts


@dataclass(slots=True)
class Booked:
    """A flow as booked: its final amount and the balance after it."""

    flow: Flow
    amount: int
    balance_after: int


def settle(
    flows: list[Flow], accounts: dict[str, str], opening: dict[str, int]
) -> tuple[list[Booked], dict[str, int], dict[str, int]]:
    """Book flows account by account.

    Args:
        flows: every planned flow of the customer.
        accounts: account key -> account type.
        opening: desired opening balance per account (raised where mandatory flows need it).

    Returns:
        The booked entries in time order, the closing balance per account, and the opening
        balance actually used per account.
    """
    by_account: dict[str, list[Flow]] = {key: [] for key in accounts}
    for f in flows:
        by_account[f.account].append(f)
    # Checking-type accounts first: transfers to savings get their amounts resolved there.
    order = sorted(accounts, key=lambda k: accounts[k] not in ("checking", "business_checking"))
    booked: list[Booked] = []
    closing: dict[str, int] = {}
    used: dict[str, int] = {}
    resolved: dict[int, int] = {}
    for key in order:
        items = sorted(by_account[key], key=lambda f: f.at)
        amounts = [resolved.get(id(f), f.amount) for f in items]
        deposit = accounts[key] in DEPOSIT_TYPES
        need = [0] * (len(items) + 1)
        if deposit:
            for i in range(len(items) - 1, -1, -1):
                f, amount = items[i], amounts[i]
                if f.target is not None:
                    need[i] = 0  # what follows a drain is booked regardless
                elif f.mandatory and amount is not None:
                    need[i] = max(0, need[i + 1] - amount)
                else:
                    need[i] = need[i + 1]
        balance = max(opening.get(key, 0), need[0]) if deposit else opening.get(key, 0)
        used[key] = balance
        for i, f in enumerate(items):
            amount = amounts[i]
            if f.target is not None:
                amount = f.target - balance
                if amount >= 0:
                    continue  # already at or below the target: nothing to move
            if amount is None:
                continue  # the other leg of this transfer was not made
            if deposit and not f.mandatory and balance + amount < need[i + 1]:
                continue  # a careful customer skips this purchase
            balance += amount
            booked.append(Booked(f, amount, balance))
            if f.pair is not None:
                resolved[id(f.pair)] = -amount
        closing[key] = balance
    booked.sort(key=lambda b: b.flow.at)
    return booked, closing, used


class Entry(NamedTuple):
    """A booked ledger line as the generator hands it to the writer."""

    account: str
    booked_at: datetime
    amount: int
    merchant: str | None
    category: str
    channel: str
    counterparty: str | None
    description: str
    balance_after: int
    series: str | None


def to_entries(booked: list[Booked]) -> list[Entry]:
    """Flatten booked flows into ledger lines."""
    return [
        Entry(
            b.flow.account,
            b.flow.at,
            b.amount,
            b.flow.merchant,
            b.flow.category,
            b.flow.channel,
            b.flow.counterparty,
            b.flow.description,
            b.balance_after,
            b.flow.series,
        )
        for b in booked
    ]
