"""A customer's accounts, cards, payees and every recurring flow: pay, housing, bills, savings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from services.synth import calendar as cal
from services.synth.archetypes import (
    Archetype,
)
from services.synth.ledger import Flow

if TYPE_CHECKING:
    from services.synth.bundle import Bundle

PERIODS = {"weekly": 52, "biweekly": 26, "semimonthly": 24, "monthly": 12}
ACCOUNT_NAMES = {
    "checking": "Everyday Checking",
    "savings": "Rainy Day Savings",
    "credit_card": "Cashback Card",
    "term_deposit": "12-Month CD",
    "mortgage": "Home Mortgage",
    "personal_loan": "Personal Loan",
    "line_of_credit": "Flex Line of Credit",
    "investment": "Invest Account",
    "business_checking": "Business Checking",
}
TARGETS = {"conservative": (30, 60, 10), "moderate": (60, 35, 5), "aggressive": (85, 10, 5)}
GOALS = ("Emergency fund", "Japan trip", "New car", "Wedding", "Home office", "Holiday gifts")


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A booking time on ``day``."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


@dataclass
class Plan:
    """What the generator decided about one customer, shared by the flow builders."""

    rng: np.random.Generator
    arch: Archetype
    start: date
    as_of: date
    net_annual: float
    housing: str
    planted: set[str]
    bundle: Bundle
    digits: Callable[[int], str]
    opening: dict[str, int] = field(default_factory=dict)
    housing_share: float = 0.0
    evidence: dict[str, dict[str, Any]] = field(default_factory=dict)
    paydays: list[date] = field(default_factory=list)
    next_payday: date | None = None
    last4: dict[str, str] = field(default_factory=dict)

    @property
    def net_monthly(self) -> float:
        """Take-home pay per month, in USD."""
        return self.net_annual / 12

    def has(self, key: str) -> bool:
        """Whether the customer holds the account ``key``."""
        return any(a["key"] == key for a in self.bundle.accounts)

    def card_last4(self, key: str) -> str:
        """Last four digits of the card on account ``key``."""
        return self.last4[key]

    def open(self, key: str, kind: str, opening: int = 0, **extra: Any) -> dict[str, Any]:
        """Open account ``key`` of type ``kind`` with a desired opening balance."""
        opened = self.as_of - timedelta(days=int(self.rng.integers(400, 4000)))
        account = {
            "key": key,
            "type": kind,
            "name": ACCOUNT_NAMES[kind],
            "number": self.digits(10),
            "currency": "USD",
            "balance_minor": opening,
            "status": "open",
            "opened_on": opened,
            "overdraft_limit_minor": 0,
            "credit_limit_minor": None,
            "interest_rate_bps": None,
            "maturity_date": None,
            "term_months": None,
            "risk_tolerance": None,
            "target_allocation": None,
            **extra,
        }
        self.bundle.accounts.append(account)
        self.opening[key] = opening
        return account

    def series(
        self,
        key: str,
        account: str,
        kind: str,
        merchant: str,
        category: str,
        cadence: str,
        day: int | None,
        started: date,
        **extra: Any,
    ) -> None:
        """Record a recurring series; amounts and next date are filled in after booking."""
        self.bundle.series.append(
            {
                "key": key,
                "account": account,
                "kind": kind,
                "merchant": merchant,
                "category": category,
                "cadence": cadence,
                "day": day,
                "started_on": started,
                "amount_minor": 0,
                "next_date": None,
                "ends_on": None,
                "active": True,
                **extra,
            }
        )

    def payee(self, name: str, kind: str) -> str:
        """Add a payee and return its local key."""
        key = f"payee{len(self.bundle.payees)}"
        self.bundle.payees.append(
            {"key": key, "name": name, "kind": kind, "account_number": self.digits(10)}
        )
        return key


def cents(dollars: float) -> int:
    """Dollars as whole cents."""
    return int(round(dollars * 100))


def transfer(
    when: datetime,
    src: str,
    dst: str,
    amount: int | None,
    what: str,
    series: str | None = None,
    target: int | None = None,
) -> list[Flow]:
    """Both legs of a move between the customer's own accounts."""
    out = Flow(
        when,
        src,
        None if amount is None else -amount,
        "transfer",
        "transfer",
        description=f"TRANSFER TO {what.upper()}",
        series=series,
        target=target,
    )
    into = Flow(
        when,
        dst,
        amount,
        "transfer",
        "transfer",
        description="TRANSFER FROM " + src.upper().replace("_", " "),
        series=series,
    )
    out.pair = into
    return [out, into]


def open_accounts(p: Plan) -> None:
    """Decide the product holding and open the accounts."""
    rng, arch, planted = p.rng, p.arch, p.planted
    p.open("checking", "checking", cents(p.net_monthly * rng.uniform(0.3, 1.5)))
    wants = {k for k, prob in arch.products.items() if rng.random() < prob}
    if planted & {"growing_savings_no_investment", "paycheck_with_savings_rule"}:
        wants.add("savings")
    if "growing_savings_no_investment" in planted:
        wants.discard("investment")
    if "portfolio_drift" in planted:
        wants.add("investment")
    if "cd_maturing" in planted:
        wants.add("term_deposit")
    if "savings" in wants:
        p.open(
            "savings",
            "savings",
            cents(p.net_monthly * rng.lognormal(0.5, 0.8)),
            interest_rate_bps=int(rng.choice([50, 150, 380, 425])),
        )
    if "credit_card" in wants:
        limit = max(3000, round(p.net_monthly * 1.2 / 500) * 500)
        p.open(
            "credit_card",
            "credit_card",
            0,
            credit_limit_minor=cents(limit),
            interest_rate_bps=2399,
        )
    if p.housing == "mortgage":
        p.open(
            "mortgage",
            "mortgage",
            0,
            interest_rate_bps=int(rng.choice([299, 425, 650])),
            term_months=360,
        )
    if "personal_loan" in wants:
        p.open(
            "personal_loan",
            "personal_loan",
            -cents(rng.uniform(4000, 25000)),
            interest_rate_bps=899,
            term_months=60,
        )
    if "line_of_credit" in wants:
        limit = cents(rng.uniform(5000, 25000))
        p.open(
            "line_of_credit",
            "line_of_credit",
            -int(limit * rng.uniform(0, 0.4)),
            credit_limit_minor=limit,
            interest_rate_bps=1150,
        )
    if "term_deposit" in wants:
        term = int(rng.choice([6, 12, 24]))
        days = (
            int(rng.integers(1, 31))
            if "cd_maturing" in planted
            else int(rng.integers(45, max(46, term * 30)))
        )
        maturity = p.as_of + timedelta(days=days)
        principal = cents(rng.lognormal(np.log(15000 if arch.name != "wealth" else 90000), 0.5))
        acc = p.open(
            "term_deposit",
            "term_deposit",
            principal,
            term_months=term,
            interest_rate_bps=int(rng.integers(350, 510)),
            maturity_date=maturity,
        )
        acc["name"] = f"{term}-Month CD"
        acc["opened_on"] = cal.add_months(maturity, -term)
    if "investment" in wants:
        open_investment(p)
    if arch.name == "small_business_owner":
        p.open("business_checking", "business_checking", 0)
    for key, kind in (("checking", "debit"), ("credit_card", "credit")):
        if p.has(key):
            add_card(p, key, kind)


def add_card(p: Plan, account: str, kind: str) -> None:
    """A card on ``account``; some customers also have an older card it replaced."""
    rng, expiry = p.rng, p.as_of + timedelta(days=int(p.rng.integers(60, 1400)))
    p.last4[account] = p.digits(4)
    status = "frozen" if rng.random() < 0.02 else "active"
    current = {
        "key": f"card-{account}",
        "account": account,
        "type": kind,
        "last4": p.last4[account],
        "status": status,
        "expires_on": expiry,
        "replaced_by": None,
    }
    p.bundle.cards.append(current)
    if rng.random() < 0.12:
        old = str(rng.choice(["replaced", "lost", "stolen"], p=[0.7, 0.2, 0.1]))
        p.bundle.cards.append(
            {
                "key": f"old-{account}",
                "account": account,
                "type": kind,
                "last4": p.digits(4),
                "status": old,
                "expires_on": expiry - timedelta(days=365),
                "replaced_by": current["key"],
            }
        )


def open_investment(p: Plan) -> None:
    """An investment account with holdings near (or, planted, far from) its target mix."""
    rng = p.rng
    risk = str(rng.choice(list(TARGETS)))
    equity_t, bond_t, cash_t = TARGETS[risk]
    scale = {"affluent": 1.5, "wealth": 4.0}.get(p.arch.name, 0.4)
    total = cents(rng.lognormal(np.log(p.net_annual * scale), 0.5))
    if "portfolio_drift" in p.planted:
        sign = 1 if equity_t < 80 and rng.random() < 0.75 else -1
        equity = equity_t + sign * int(rng.integers(12, 26))
    else:
        equity = equity_t + int(rng.integers(-5, 6))
    equity = int(np.clip(equity, 0, 100))
    cash = min(100 - equity, max(0, cash_t + int(rng.integers(-2, 3))))
    bonds = 100 - equity - cash
    p.open(
        "investment",
        "investment",
        0,
        risk_tolerance=risk,
        target_allocation={"equity": equity_t, "bond": bond_t, "cash": cash_t},
    )
    lots = [
        ("VTI", "equity", 0.7 * equity, 28500),
        ("VXUS", "equity", 0.3 * equity, 6400),
        ("BND", "bond", bonds, 7300),
        ("SPAXX", "cash", cash, 100),
    ]
    values = [int(total * share / 100) for *_, share, _ in lots]
    for (symbol, klass, _, price), value in zip(lots, values, strict=True):
        if value > 0:
            p.bundle.holdings.append(
                {
                    "account": "investment",
                    "symbol": symbol,
                    "asset_class": klass,
                    "market_value_minor": value,
                    "quantity_milli": value * 1000 // price,
                }
            )
    p.bundle.accounts[-1]["balance_minor"] = sum(values)
    p.opening["investment"] = sum(values)
