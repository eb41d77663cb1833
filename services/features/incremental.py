"""A person's behavioural features, kept up to date event by event without rereading history.

The state is two maps that any store can hold (a dict, or one Redis hash):

* **counters** ``c:<UTC day ordinal>:<what>`` -> int, added to by each event, so windowed sums
  stay exact as time passes: ``n:<cur>`` transactions, ``in:<cur>`` income, ``out:<cur>:<category>``
  spending, ``net:<cur>`` money in minus out, ``act`` activity, ``lg`` logins, ``s:<session>``
  events of a digital session;
* **registers** ``name`` -> (stamp, JSON value), where the value with the greatest stamp wins:
  ``bal:<account>`` the latest balance, ``last_event``, ``last_login``, ``pf:<field>`` profile
  fields. A stamp is the event time then a hash of the event id, fixed-width digits, so "latest"
  does not depend on arrival order and ties are broken the same way everywhere.

Additions commute and "greatest stamp wins" does too, so the state does not depend on the order
events arrive in; the ids of applied events are kept (with their day, for pruning) so that a
re-delivered event changes nothing. :func:`changes` turns an event into the additions and
register writes it causes, which the Redis store runs in a Lua script under the same rules.

Classification is :mod:`services.spending`'s: ``income`` credits are income; a debit counts as
spending in its category when it is personal spending there (not a move between the person's own
accounts or to their accounts elsewhere, not interest, not a business's payroll, suppliers or
business-account costs; the event's ``account_type`` tells a business account when the source
knows it). A move between own accounts counts in no money figure at all. A day is *active* when
the person used a digital channel or made a transaction themselves (card, ATM, P2P, branch...).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from hashlib import blake2b
from typing import Any

from services.events import Event
from services.models import DEPOSIT_TYPES
from services.spending import flow_of

HORIZON_DAYS = 400  # buckets older than this can be pruned; the longest window is 90 days
CUSTOMER_CHANNELS = frozenset({"card", "atm", "p2p", "branch", "app", "web", "check", "wire"})

_ORIGIN = datetime(1, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass
class FeatureState:
    """Everything the features of one person are computed from."""

    counters: dict[str, int] = field(default_factory=dict)
    registers: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (stamp, JSON)
    applied: dict[str, int] = field(default_factory=dict)  # event id -> UTC day ordinal


@dataclass(frozen=True)
class Changes:
    """What one event does to a state: counter additions and register writes."""

    event_id: str
    day: int
    counters: dict[str, int]
    registers: list[tuple[str, str, str]]  # (name, stamp, JSON value)


def day_of(moment: datetime) -> int:
    """The UTC calendar day of ``moment`` as a proleptic ordinal."""
    return moment.astimezone(UTC).date().toordinal()


def stamp(event: Event) -> str:
    """A fixed-width, digits-only sort key: the event time, then a hash of its id."""
    micros = (event.occurred_at - _ORIGIN) // _MICROSECOND
    tie = int.from_bytes(blake2b(event.id.encode(), digest_size=8).digest(), "big")
    return f"{micros:018d}{tie:020d}"


def changes(event: Event) -> Changes:
    """The counter additions and register writes that ``event`` causes."""
    day = day_of(event.occurred_at)
    bucket = f"c:{day}:"
    when = stamp(event)
    at = json.dumps(event.occurred_at.isoformat())
    counters: dict[str, int] = {}
    registers = [("last_event", when, at)]
    data = event.data
    if event.type == "transaction":
        currency, category, amount = data["currency"], data["category"], data["amount_minor"]
        counters[f"{bucket}n:{currency}"] = 1
        flow = flow_of(category, amount, data.get("account_type"))
        if flow != "own_move":
            counters[f"{bucket}net:{currency}"] = amount
            if flow == "income":
                counters[f"{bucket}in:{currency}"] = amount
            elif flow == "spending":
                counters[f"{bucket}out:{currency}:{category}"] = -amount
        if data["channel"] in CUSTOMER_CHANNELS:
            counters[f"{bucket}act"] = 1
        account = data["account_id"]
        if "balance_after_minor" in data:
            value = [data["balance_after_minor"], currency]
            registers.append((f"bal:{account}", when, json.dumps(value)))
        if "account_type" in data:
            registers.append((f"type:{account}", when, json.dumps(data["account_type"])))
    elif event.type == "digital":
        counters[f"{bucket}act"] = 1
        if data["kind"] == "login":
            counters[f"{bucket}lg"] = 1
            registers.append(("last_login", when, at))
        if "session_id" in data:
            counters[f"{bucket}s:{data['session_id']}"] = 1
    else:
        registers.append((f"pf:{data['field']}", when, json.dumps(data["value"])))
    return Changes(event.id, day, counters, registers)


def apply_changes(state: FeatureState, change: Changes) -> bool:
    """Apply ``change`` unless its event was applied before; returns whether it was applied."""
    if change.event_id in state.applied:
        return False
    state.applied[change.event_id] = change.day
    counters = state.counters
    for key, amount in change.counters.items():
        counters[key] = counters.get(key, 0) + amount
    for name, when, value in change.registers:
        current = state.registers.get(name)
        if current is None or when > current[0]:
            state.registers[name] = (when, value)
    return True


def apply(state: FeatureState, event: Event) -> bool:
    """Fold ``event`` into ``state``, idempotently; returns False for a duplicate."""
    return apply_changes(state, changes(event))


def rebuild(events: Iterable[Event]) -> FeatureState:
    """A state built from a full history (any order, duplicates allowed)."""
    state = FeatureState()
    for event in events:
        apply(state, event)
    return state


def prune(state: FeatureState, now: datetime) -> int:
    """Drop buckets and remembered ids older than ``HORIZON_DAYS``; returns how many went."""
    stale = stale_fields(state.counters, state.applied, now)
    for key in stale[0]:
        del state.counters[key]
    for event_id in stale[1]:
        del state.applied[event_id]
    return len(stale[0]) + len(stale[1])


def stale_fields(
    counters: Iterable[str], applied: dict[str, int], now: datetime
) -> tuple[list[str], list[str]]:
    """The counter keys and event ids that fall outside the horizon at ``now``.

    An event older than the horizon re-delivered after its id was pruned is applied again,
    but only to a bucket outside every window and itself pruned next time.
    """
    first = day_of(now) - HORIZON_DAYS + 1
    old = [key for key in counters if int(key.split(":", 2)[1]) < first]
    return old, [event_id for event_id, day in applied.items() if day < first]


@dataclass
class MoneyWindow:
    """Money figures of one currency over the last 30 and 90 days."""

    transactions: int = 0  # within the horizon: chooses the home currency
    income: list[int] = field(default_factory=lambda: [0, 0])
    spend: dict[str, list[int]] = field(default_factory=dict)
    net_30: int = 0


def features(state: FeatureState, now: datetime) -> dict[str, Any]:
    """The person's features at ``now`` as a plain, JSON-ready dict (see module docstring)."""
    today = day_of(now)
    money: dict[str, MoneyWindow] = {}
    tx_30 = logins_30 = sessions_30 = active_30 = 0
    for key, value in state.counters.items():
        _, day_text, what = key.split(":", 2)
        age = today - int(day_text)
        if age < 0 or age >= HORIZON_DAYS:
            continue
        recent = age < 30
        kind, _, rest = what.partition(":")
        if kind == "n":
            money.setdefault(rest, MoneyWindow()).transactions += value
            tx_30 += value if recent else 0
        elif age >= 90:
            continue
        elif kind == "in":
            window = money.setdefault(rest, MoneyWindow())
            window.income[1] += value
            window.income[0] += value if recent else 0
        elif kind == "out":
            currency, _, category = rest.partition(":")
            sums = money.setdefault(currency, MoneyWindow()).spend.setdefault(category, [0, 0])
            sums[1] += value
            sums[0] += value if recent else 0
        elif not recent:
            continue
        elif kind == "net":
            money.setdefault(rest, MoneyWindow()).net_30 += value
        elif kind == "act":
            active_30 += value > 0
        elif kind == "lg":
            logins_30 += value
        elif kind == "s":
            sessions_30 += 1
    return summarise(
        state.registers,
        money,
        today,
        transactions_30d=tx_30,
        logins_30d=logins_30,
        sessions_30d=sessions_30,
        active_days_30d=active_30,
    )


def summarise(
    registers: dict[str, tuple[str, str]],
    money: dict[str, MoneyWindow],
    today: int,
    **counts: int,
) -> dict[str, Any]:
    """The feature dict from registers, money windows and activity counts (shared by both paths)."""
    values = {name: json.loads(value) for name, (_, value) in registers.items()}
    accounts = {int(name[4:]): value for name, value in values.items() if name.startswith("bal:")}
    currencies = {c: w.transactions for c, w in money.items() if w.transactions}
    if not currencies:
        for _, currency in accounts.values():
            currencies[currency] = currencies.get(currency, 0) + 1
    home = min(currencies, key=lambda c: (-currencies[c], c)) if currencies else None
    window = money.get(home or "", MoneyWindow())
    deposits = [
        balance
        for account, (balance, currency) in accounts.items()
        if currency == home and values.get(f"type:{account}") in DEPOSIT_TYPES
    ]
    last_login = values.get("last_login")
    since_login = None if last_login is None else max(0, today - _day_of_iso(last_login))
    return {
        "currency": home,
        "income_30d": window.income[0],
        "income_90d": window.income[1],
        "spend_30d": sum(s[0] for s in window.spend.values()),
        "spend_90d": sum(s[1] for s in window.spend.values()),
        "spend_by_category_30d": {c: s[0] for c, s in sorted(window.spend.items()) if s[0]},
        "spend_by_category_90d": {c: s[1] for c, s in sorted(window.spend.items()) if s[1]},
        "net_flow_30d": window.net_30,
        "savings_rate_90d": savings_rate(
            sum(s[1] for s in window.spend.values()), window.income[1]
        ),
        "balances": {account: value[0] for account, value in sorted(accounts.items())},
        "total_deposit_balance": sum(deposits) if deposits else None,
        **counts,
        "days_since_last_login": since_login,
        "engagement": engagement(counts["active_days_30d"], counts["logins_30d"], since_login),
        "last_event_at": values.get("last_event"),
        "last_login_at": last_login,
        "profile": {name[3:]: v for name, v in sorted(values.items()) if name.startswith("pf:")},
    }


def savings_rate(spend: int, income: int) -> float | None:
    """``1 - spend / income`` over the same window, rounded; None without income."""
    return round(1 - spend / income, 4) if income > 0 else None


def engagement(active_days_30d: int, logins_30d: int, days_since_last_login: int | None) -> float:
    """A 0..1 engagement score: how often, how much and how recently the person shows up.

    ``0.4 * min(active days / 20, 1) + 0.3 * min(logins / 12, 1) + 0.3 * recency``, where
    recency falls linearly from 1 on the day of the last login to 0 thirty days after it.
    Twenty active days and a dozen logins a month are what an engaged retail customer shows.
    """
    recency = 0.0 if days_since_last_login is None else max(0.0, 1 - days_since_last_login / 30)
    score = 0.4 * min(active_days_30d / 20, 1) + 0.3 * min(logins_30d / 12, 1) + 0.3 * recency
    return round(score, 4)


def _day_of_iso(text: str) -> int:
    return day_of(datetime.fromisoformat(text))
