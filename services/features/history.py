"""Features computed straight from a person's full event history, in one pass.

This is the slow, obvious path: every event is looked at again, against the windows of ``now``. It
shares only the vocabulary (categories, stamps, the final summary) with the incremental state of
:mod:`services.features.incremental`, so that tests can check that applying events one at a time, in
any order and with re-deliveries, gives exactly the same figures. It is also what a backfill uses
when no state exists yet.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from services.events import Event
from services.features.incremental import (
    CUSTOMER_CHANNELS,
    HORIZON_DAYS,
    MoneyWindow,
    day_of,
    stamp,
    summarise,
)
from services.spending import flow_of


def recompute(events: Iterable[Event], now: datetime) -> dict[str, Any]:
    """The features at ``now`` from every event of one person (duplicates count once)."""
    unique = {event.id: event for event in events}
    today = day_of(now)
    money: dict[str, MoneyWindow] = {}
    latest: dict[str, tuple[str, str]] = {}
    active: set[int] = set()
    sessions: set[tuple[int, str]] = set()
    transactions_30d = logins_30d = 0

    def keep_latest(name: str, when: str, value: Any) -> None:
        if name not in latest or when > latest[name][0]:
            latest[name] = (when, json.dumps(value))

    for event in unique.values():
        day = day_of(event.occurred_at)
        age = today - day
        in_30, in_90 = 0 <= age < 30, 0 <= age < 90
        when, data = stamp(event), event.data
        keep_latest("last_event", when, event.occurred_at.isoformat())
        if event.type == "transaction":
            currency, category, amount = data["currency"], data["category"], data["amount_minor"]
            window = money.setdefault(currency, MoneyWindow())
            window.transactions += 0 <= age < HORIZON_DAYS
            transactions_30d += in_30
            flow = flow_of(category, amount, data.get("account_type"))
            if in_90 and flow != "own_move":
                window.net_30 += amount if in_30 else 0
                if flow == "income":
                    window.income[1] += amount
                    window.income[0] += amount if in_30 else 0
                elif flow == "spending":
                    spent = window.spend.setdefault(category, [0, 0])
                    spent[1] -= amount
                    spent[0] -= amount if in_30 else 0
            if in_30 and data["channel"] in CUSTOMER_CHANNELS:
                active.add(day)
            if "balance_after_minor" in data:
                balance = [data["balance_after_minor"], currency]
                keep_latest(f"bal:{data['account_id']}", when, balance)
            if "account_type" in data:
                keep_latest(f"type:{data['account_id']}", when, data["account_type"])
        elif event.type == "digital":
            if in_30:
                active.add(day)
                logins_30d += data["kind"] == "login"
                if "session_id" in data:
                    sessions.add((day, data["session_id"]))
            if data["kind"] == "login":
                keep_latest("last_login", when, event.occurred_at.isoformat())
        else:
            keep_latest(f"pf:{data['field']}", when, data["value"])
    return summarise(
        latest,
        money,
        today,
        transactions_30d=transactions_30d,
        logins_30d=logins_30d,
        sessions_30d=len(sessions),
        active_days_30d=len(active),
    )
