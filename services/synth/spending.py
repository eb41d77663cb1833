"""Card spending with a weekly and seasonal rhythm, by category, from a customer's budget."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np

from services.synth.archetypes import CATEGORIES, MERCHANTS, TICKET, Archetype
from services.synth.ledger import Flow

# Relative spending by weekday (Mon..Sun) and by month (Jan..Dec).
WEEKDAY = np.array([0.85, 0.85, 0.9, 0.95, 1.15, 1.35, 1.1])
MONTH = np.array([0.88, 0.9, 0.97, 1.0, 1.02, 1.05, 1.08, 1.05, 0.97, 1.0, 1.12, 1.35])
# Travel follows the holidays harder than the rest.
TRAVEL_MONTH = np.array([0.7, 0.7, 0.9, 0.9, 1.0, 1.4, 1.6, 1.4, 0.8, 0.8, 0.9, 1.5])
TAIL = 2.5  # purchases are capped at median * exp(TAIL * sigma): no freak amounts


def category_weights(arch: Archetype, rng: np.random.Generator) -> dict[str, float]:
    """A person's share of card spending per category, near the archetype's stated ranges."""
    mid = np.array([sum(arch.spend_share[c]) / 2 for c in CATEGORIES])
    mid = mid / mid.sum()
    drawn = rng.dirichlet(mid * 120 + 0.05)
    return dict(zip(CATEGORIES, drawn.tolist(), strict=True))


def card_spending(
    *,
    start: date,
    end: date,
    annual_budget: float,
    weights: dict[str, float],
    accounts: list[tuple[str, str, float]],
    rng: np.random.Generator,
) -> list[Flow]:
    """Card purchases between ``start`` and ``end`` (inclusive).

    Args:
        start: first day of spending.
        end: last day of spending.
        annual_budget: card spending per year in USD.
        weights: share of the budget per category.
        accounts: (account key, card description, probability) to put a purchase on.
        rng: the customer's random generator.
    """
    days = (end - start).days + 1
    day_list = [start + timedelta(days=i) for i in range(days)]
    weekday = np.array([WEEKDAY[d.weekday()] for d in day_list])
    month_idx = np.array([d.month - 1 for d in day_list])
    keys = [a[0] for a in accounts]
    probs = np.array([a[2] for a in accounts])
    probs = probs / probs.sum()
    flows: list[Flow] = []
    seen: set[tuple[str, date, int]] = set()
    for category in CATEGORIES:
        median, sigma = TICKET[category]
        budget = annual_budget * weights[category] * days / 365.0
        mean_ticket = median * np.exp(sigma**2 / 2)
        count = int(rng.poisson(budget / mean_ticket))
        if count == 0:
            continue
        season = (TRAVEL_MONTH if category == "travel" else MONTH)[month_idx] * weekday
        picks = rng.choice(days, size=count, p=season / season.sum())
        cents = np.minimum(
            rng.lognormal(np.log(median), sigma, size=count), median * np.exp(TAIL * sigma)
        )
        cents = np.maximum(np.round(cents * 100), 100).astype(int)
        favourites = list(rng.choice(MERCHANTS[category], size=3, replace=False))
        merchant_idx = rng.choice(3, size=count, p=[0.55, 0.3, 0.15])
        account_idx = rng.choice(len(keys), size=count, p=probs)
        seconds = rng.integers(8 * 3600, 21 * 3600, size=count)
        for i in range(count):
            day = day_list[int(picks[i])]
            merchant = str(favourites[int(merchant_idx[i])])
            amount = int(cents[i])
            while (merchant, day, amount) in seen:  # never a duplicate by chance
                amount += 1
            seen.add((merchant, day, amount))
            account = keys[int(account_idx[i])]
            flows.append(
                Flow(
                    at=datetime(day.year, day.month, day.day, tzinfo=UTC)
                    + timedelta(seconds=int(seconds[i])),
                    account=account,
                    amount=-amount,
                    category=category,
                    channel="card",
                    merchant=merchant,
                    description=f"{merchant.upper()} {accounts[int(account_idx[i])][1]}",
                    mandatory=not account.startswith("checking"),
                )
            )
    return flows
