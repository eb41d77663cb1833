"""Thirteen months of app and web sessions: devices, anonymous browsing, logins, page views."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from typing import Any

import numpy as np

from services.synth.archetypes import Archetype

PAGES = (
    "/accounts",
    "/transactions",
    "/cards",
    "/transfers",
    "/payments",
    "/savings",
    "/offers",
    "/help",
    "/investments",
    "/loans",
    "/mortgages/rates",
)
PAGE_WEIGHTS = np.array([0.3, 0.25, 0.08, 0.12, 0.08, 0.06, 0.03, 0.04, 0.03, 0.005, 0.005])
PUBLIC_PAGES = ("/", "/rates", "/help", "/cards/compare", "/savings/rates")
SEARCHES = (
    "refund",
    "card limit",
    "wire transfer",
    "savings rate",
    "dispute",
    "pin",
    "routing number",
    "overdraft",
    "travel notice",
)
MORTGAGE_STEPS = (
    ("page_view", "/mortgages/rates", None),
    ("calculator", "/mortgages/calculator", "mortgage"),
    ("search", "/search", "mortgage rates"),
    ("click", "/mortgages/preapproval", "mortgage_preapproval"),
)
PAGE_CUMULATIVE = list(accumulate(PAGE_WEIGHTS.tolist()))
CHURN_DAYS = 60
HOME_DAYS = 30


def sessions(
    *,
    rng: np.random.Generator,
    arch: Archetype,
    index: int,
    start: date,
    as_of: date,
    planted: set[str],
    digits: Callable[[int], str],
) -> list[tuple[Any, ...]]:
    """Digital events as (signed_in, device, session, at, channel, kind, page, detail) tuples.

    Web sessions begin anonymous (``signed_in`` false) until the login event; app sessions are
    signed in from the start. A churning customer's visits fall to a sixth in the last two
    months; a home buyer studies mortgage rates in the last month.
    """

    def device(n: int) -> str:  # unique per customer by construction, random-looking after
        return f"D{index:07d}{n}{digits(6)}"

    devices = [("app", device(0))]
    if rng.random() < 0.8:
        devices.append(("web", device(1)))
    if rng.random() < 0.2:
        devices.append(("app", device(2)))
    days = (as_of - start).days
    rate = np.full(days, arch.sessions_per_month / 30.4)
    if "churn_risk" in planted:
        rate[-CHURN_DAYS:] *= 0.15
    counts = rng.poisson(rate)
    fast = random.Random(int(rng.integers(2**63)))
    events: list[tuple[Any, ...]] = []
    serial = 0
    for offset in np.flatnonzero(counts):
        day = start + timedelta(days=int(offset))
        for _ in range(int(counts[offset])):
            serial += 1
            events += _session(fast, devices, day, f"S{index:06d}{serial:05d}", ())
    if "home_buying" in planted:
        for _ in range(int(rng.integers(4, 9))):
            serial += 1
            day = as_of - timedelta(days=int(rng.integers(1, HOME_DAYS)))
            steps = tuple(MORTGAGE_STEPS[int(i)] for i in rng.integers(0, 4, size=2))
            events += _session(fast, devices, day, f"S{index:06d}{serial:05d}", steps)
    return events


def _session(
    rng: random.Random,
    devices: list[tuple[str, str]],
    day: date,
    session: str,
    steps: tuple[tuple[str, str, str | None], ...],
) -> list[tuple[Any, ...]]:
    # Python's Random: scalar draws per event are ten times cheaper than numpy's.
    channel, device = devices[rng.randrange(len(devices))]
    when = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
        seconds=rng.randrange(7 * 3600, 23 * 3600)
    )
    out: list[tuple[Any, ...]] = []

    def add(signed_in: bool, kind: str, page: str | None, detail: str | None = None) -> None:
        nonlocal when
        out.append((signed_in, device, session, when, channel, kind, page, detail))
        when += timedelta(seconds=rng.randrange(5, 120))

    if channel == "app":
        add(True, "app_open", "/home")
        add(True, "login", "/home", "biometric")
    else:
        for _ in range(rng.randrange(1, 3)):
            add(False, "page_view", rng.choice(PUBLIC_PAGES))
        for kind, page, detail in steps[:1]:  # a home buyer looks before signing in, too
            add(False, kind, page, detail)
        add(True, "login", "/login", "password")
    for kind, page, detail in steps:
        add(True, kind, page, detail)
    for _ in range(rng.randrange(1, 5)):
        roll = rng.random()
        if roll < 0.8:
            add(True, "page_view", rng.choices(PAGES, cum_weights=PAGE_CUMULATIVE)[0])
        elif roll < 0.92:
            add(True, "click", "/offers", "offer_card")
        elif roll < 0.98:
            add(True, "search", "/search", rng.choice(SEARCHES))
        else:
            add(True, "calculator", "/savings/calculator", "savings")
    return out
