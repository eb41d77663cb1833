"""Events for the event-bus and feature tests: hand-made ones and hypothesis strategies."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from services.events import Event

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
CATEGORIES = ("income", "dining", "groceries", "rent", "transfer", "transfer_out", "transfers")
CHANNELS = ("card", "ach", "p2p", "transfer", "atm")
KINDS = ("app_open", "login", "page_view", "search", "click", "calculator")


def transaction(
    event_id: str,
    person_id: int,
    at: datetime,
    amount: int,
    *,
    category: str = "dining",
    channel: str = "card",
    account_id: int = 1,
    currency: str = "USD",
    **extra: Any,
) -> Event:
    data = {
        "account_id": account_id,
        "amount_minor": amount,
        "currency": currency,
        "category": category,
        "channel": channel,
        **extra,
    }
    return Event(id=event_id, type="transaction", person_id=person_id, occurred_at=at, data=data)


def digital(event_id: str, person_id: int, at: datetime, kind: str, **extra: Any) -> Event:
    data = {"kind": kind, "channel": "app", **extra}
    return Event(id=event_id, type="digital", person_id=person_id, occurred_at=at, data=data)


def profile(event_id: str, person_id: int, at: datetime, field: str, value: Any) -> Event:
    data = {"field": field, "value": value}
    return Event(id=event_id, type="profile", person_id=person_id, occurred_at=at, data=data)


# Coarse times, often on the edges of the 30- and 90-day windows, so that ties happen often.
_EDGES = st.sampled_from((-1, 0, 1, 29, 30, 31, 89, 90, 91))
_times = st.builds(
    lambda days, hours: NOW - timedelta(days=days, hours=hours),
    st.one_of(_EDGES, _EDGES, st.sampled_from((0, 1)), st.integers(-3, 130)),
    st.sampled_from((0, 13)),
)


def _data(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    if kind == "transaction":
        return st.fixed_dictionaries(
            {
                "account_id": st.integers(1, 2),
                "amount_minor": st.integers(-50_000, 50_000),
                "currency": st.sampled_from(("USD", "USD", "EUR")),
                "category": st.sampled_from(CATEGORIES),
                "channel": st.sampled_from(CHANNELS),
            },
            optional={
                "balance_after_minor": st.integers(-10_000, 1_000_000),
                "account_type": st.sampled_from(("checking", "savings", "credit_card")),
                "merchant": st.sampled_from(("Blue Bottle", "Kroger")),
            },
        )
    if kind == "digital":
        return st.fixed_dictionaries(
            {"kind": st.sampled_from(KINDS), "channel": st.sampled_from(("app", "web"))},
            optional={"session_id": st.sampled_from(("s1", "s2", "s3")), "page": st.just("/")},
        )
    return st.fixed_dictionaries(
        {
            "field": st.sampled_from(("push", "email", "marketing_consent", "language")),
            "value": st.one_of(
                st.booleans(), st.none(), st.sampled_from(("en", "es")), st.integers()
            ),
        }
    )


@st.composite
def _spec(draw: st.DrawFn) -> tuple[str, int, datetime, dict[str, Any]]:
    kind = draw(st.sampled_from(("transaction", "transaction", "digital", "profile")))
    return kind, draw(st.integers(1, 2)), draw(_times), draw(_data(kind))


@st.composite
def histories(draw: st.DrawFn, max_size: int = 60) -> list[Event]:
    """A history of distinct events (unique ids) of up to two people."""
    specs = draw(st.lists(_spec(), max_size=max_size))
    return [
        Event(id=f"ev-{i}", type=kind, person_id=person, occurred_at=at, data=data)
        for i, (kind, person, at, data) in enumerate(specs)
    ]


@st.composite
def deliveries(draw: st.DrawFn, history: Sequence[Event]) -> list[Event]:
    """``history`` as a bus delivers it: shuffled, some events more than once."""
    again = draw(st.lists(st.sampled_from(history), max_size=15)) if history else []
    return draw(st.permutations([*history, *again]))


def of(person: int, events: Sequence[Event]) -> list[Event]:
    return [event for event in events if event.person_id == person]


def random_history(n: int, *, people: int, seed: int) -> list[Event]:
    """A larger plain-random history for bus tests (unique ids)."""
    rng = random.Random(seed)
    out: list[Event] = []
    for i in range(n):
        person = rng.randint(1, people)
        at = NOW - timedelta(days=rng.randrange(100), minutes=rng.randrange(1440))
        if rng.random() < 0.6:
            income = rng.random() < 0.1
            out.append(
                transaction(
                    f"r{seed}-{i}",
                    person,
                    at,
                    rng.randint(100_000, 400_000) if income else -rng.randint(100, 9_000),
                    category="income" if income else rng.choice(CATEGORIES[1:]),
                    channel=rng.choice(CHANNELS),
                    account_id=rng.randint(1, 2),
                    balance_after_minor=rng.randint(0, 500_000),
                    account_type="checking",
                )
            )
        else:
            out.append(
                digital(f"r{seed}-{i}", person, at, rng.choice(KINDS), session_id=f"s{i % 7}")
            )
    return out
