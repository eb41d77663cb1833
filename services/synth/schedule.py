"""Every repeating flow of a customer: pay, housing, bills, subscriptions, loans, savings."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from services.synth import calendar as cal
from services.synth.archetypes import (
    BILL_CATEGORY,
    EMPLOYERS,
    GIG_PLATFORMS,
    LANDLORDS,
    OTHER_BANKS,
    SUBSCRIPTIONS,
    UTILITIES,
    pick,
)
from services.synth.flows import GOALS, PERIODS, Plan, at, cents, open_accounts, transfer
from services.synth.ledger import Flow


def build(p: Plan) -> list[Flow]:
    """Open the accounts and lay out every scheduled flow of the customer's 13 months."""
    open_accounts(p)
    flows = salary(p)
    flows += housing(p)
    flows += bills(p)
    flows += subscriptions(p)
    flows += loans(p)
    flows += savings(p)
    flows += everyday(p)
    if p.has("business_checking"):
        from services.synth.business import business

        flows += business(p)
    if "churn_risk" in p.planted:
        flows += churn(p)
    flows += drains(p)
    goals(p)
    return flows


def salary(p: Plan) -> list[Flow]:
    """Pay on the customer's real cycle; a churning customer's salary stops (moved away)."""
    rng, arch, as_of = p.rng, p.arch, p.as_of
    cadence = pick(rng, arch.pay_cadence)
    planted = "paycheck_with_savings_rule" in p.planted
    day = int(rng.choice([1, 15, 25, 28]))
    anchor = p.start + timedelta(days=(4 - p.start.weekday()) % 7 + 7 * int(rng.integers(0, 2)))
    if arch.name == "retiree":
        day, employer = 3, "Social Security Admin"
    elif arch.name == "small_business_owner":
        employer = "Owner draw"
    elif cadence == "irregular":
        employer = ""
    else:
        employer = str(rng.choice(EMPLOYERS))
    if planted:
        if cadence == "semimonthly" or (cadence == "monthly" and as_of.day > 28):
            cadence = "biweekly"
        if cadence == "monthly":
            day = as_of.day
        anchor = cal.previous_business_day(as_of)
    stop = as_of
    if "churn_risk" in p.planted:
        stop = as_of - timedelta(days=int(rng.integers(45, 71)))
        p.evidence["churn_risk"] = {"salary_stopped": stop.isoformat()}
    dates = cal.pay_dates(cadence, p.start, stop, anchor=anchor, day=day, rng=rng)
    p.paydays = dates
    upcoming = cal.pay_dates(
        cadence,
        as_of + timedelta(days=1),
        as_of + timedelta(days=45),
        anchor=anchor,
        day=day,
        rng=rng,
    )
    p.next_payday = upcoming[0] if upcoming and stop == as_of else None
    flows: list[Flow] = []
    if arch.name == "small_business_owner":
        # Paid by owner draws from the business account (business.py) on these days.
        p.series(
            "salary",
            "checking",
            "salary",
            employer,
            "income",
            "monthly",
            day,
            p.start,
            active=stop == as_of,
        )
        return flows
    if cadence == "irregular":
        platforms = list(rng.choice(GIG_PLATFORMS, size=2, replace=False))
        mean = p.net_annual / (0.22 * 365)
        for d in dates:
            merchant = str(platforms[int(rng.random() < 0.35)])
            flows.append(
                Flow(
                    at(d, 6),
                    "checking",
                    cents(rng.lognormal(np.log(mean), 0.45)),
                    "income",
                    "ach",
                    merchant=merchant,
                    counterparty=merchant,
                    description=f"{merchant.upper()} PAYOUT",
                    series="salary",
                )
            )
        p.series(
            "salary",
            "checking",
            "salary",
            "Gig payouts",
            "income",
            "irregular",
            None,
            p.start,
            active=stop == as_of,
        )
        return flows
    pay = cents(p.net_annual / PERIODS[cadence])
    for d in dates:
        flows.append(
            Flow(
                at(d, 6),
                "checking",
                pay,
                "income",
                "ach",
                merchant=employer,
                counterparty=employer,
                description=f"{employer.upper()} DIRECT DEP",
                series="salary",
            )
        )
    weekday = anchor.weekday() if cadence in ("weekly", "biweekly") else None
    p.series(
        "salary",
        "checking",
        "salary",
        employer,
        "income",
        cadence,
        day if cadence == "monthly" else weekday,
        p.start,
        active=stop == as_of,
        ends_on=None if stop == as_of else dates[-1] if dates else stop,
    )
    return flows


def housing(p: Plan) -> list[Flow]:
    """Rent to a landlord (with a lease end) or a mortgage payment, monthly."""
    rng, flows = p.rng, []
    if p.housing == "rent":
        share = rng.uniform(0.15, 0.28) if p.arch.name == "student" else rng.uniform(0.24, 0.33)
        rent = round(p.net_monthly * share / 5) * 500
        landlord = str(rng.choice(LANDLORDS))
        p.payee(landlord, "biller")
        for d in cal.monthly_dates(p.start, p.as_of, 1):
            flows.append(
                Flow(
                    at(d, 7),
                    "checking",
                    -rent,
                    "housing",
                    "ach",
                    merchant=landlord,
                    counterparty=landlord,
                    description=f"{landlord.upper()} RENT",
                    series="rent",
                )
            )
        days = (30, 90) if "home_buying" in p.planted else (20, 365)
        lease_end = p.as_of + timedelta(days=int(rng.integers(*days)))
        p.series(
            "rent",
            "checking",
            "rent",
            landlord,
            "housing",
            "monthly",
            1,
            p.start,
            ends_on=lease_end,
        )
        p.housing_share = rent / 100 / p.net_monthly
    elif p.housing == "mortgage":
        payment = cents(p.net_monthly * rng.uniform(0.2, 0.28))
        p.opening["mortgage"] = -payment * int(rng.integers(150, 300))
        for acc in p.bundle.accounts:
            if acc["key"] == "mortgage":
                acc["balance_minor"] = p.opening["mortgage"]
        day = int(rng.integers(1, 16))
        for d in cal.monthly_dates(p.start, p.as_of, day):
            flows += transfer(
                at(d, 7), "checking", "mortgage", payment, "Home Mortgage", series="mortgage"
            )
            flows.append(
                Flow(
                    at(d, 7, 1),
                    "mortgage",
                    -int(payment * 0.6),
                    "interest",
                    "interest",
                    description="MORTGAGE INTEREST",
                )
            )
        p.series(
            "mortgage", "checking", "mortgage", "Home Mortgage", "housing", "monthly", day, p.start
        )
        p.housing_share = payment / 100 / p.net_monthly
    return flows


def bills(p: Plan) -> list[Flow]:
    """Utilities and insurance by direct debit; electricity follows the seasons."""
    rng, flows = p.rng, []
    count = int(rng.integers(1, 3)) if p.arch.name == "student" else int(rng.integers(2, 6))
    picks = rng.choice(len(UTILITIES), size=count, replace=False)
    days = [int(d) for d in rng.integers(5, 29, size=count)]
    if "upcoming_bills_low_balance" in p.planted:
        soon = next(
            p.as_of + timedelta(days=k)
            for k in range(2, 6)
            if (p.as_of + timedelta(days=k)).day <= 28
        )
        days[0] = soon.day
    scale = float(np.clip(p.net_annual / 60000, 0.6, 2.0)) ** 0.5
    for n, (i, day) in enumerate(zip(picks, days, strict=True)):
        merchant, kind, typical = UTILITIES[int(i)]
        base = typical * scale * rng.uniform(0.75, 1.25)
        p.payee(merchant, "biller")
        key = f"bill{n}"
        if n == 0 and "upcoming_bills_low_balance" in p.planted:
            p.evidence["upcoming_bills_low_balance"] = {"bill_minor": int(base)}
        for d in cal.monthly_dates(p.start, p.as_of, day):
            season = (
                1 + 0.3 * np.cos(4 * np.pi * (d.month - 1) / 12) if kind == "electricity" else 1
            )
            amount = int(
                round(
                    base
                    * season
                    * (rng.uniform(0.93, 1.07) if kind in ("electricity", "water") else 1)
                )
            )
            flows.append(
                Flow(
                    at(d, 6, 30),
                    "checking",
                    -amount,
                    BILL_CATEGORY[kind],
                    "ach",
                    merchant=merchant,
                    counterparty=merchant,
                    description=f"{merchant.upper()} {kind.upper()}",
                    series=key,
                )
            )
        p.series(key, "checking", "bill", merchant, BILL_CATEGORY[kind], "monthly", day, p.start)
    return flows


def subscriptions(p: Plan) -> list[Flow]:
    """Card subscriptions at fixed prices; planted: a price rise, or a free trial turning paid."""
    rng, flows = p.rng, []
    account = "credit_card" if p.has("credit_card") else "checking"
    card = p.last4[account]
    count = int(rng.integers(1, 4)) if p.arch.name == "student" else int(rng.integers(1, 6))
    if "subscription_price_increase" in p.planted:
        count = max(count, 1)
    picks = [int(i) for i in rng.choice(len(SUBSCRIPTIONS), size=count + 1, replace=False)]
    trial_pick = picks.pop()
    for n, i in enumerate(picks):
        merchant, price = SUBSCRIPTIONS[i]
        day = int(rng.integers(1, 29))
        first = p.start + timedelta(days=int(rng.integers(0, 150)))
        dates = cal.monthly_dates(first, p.as_of - timedelta(days=1), day)
        amounts = [price] * len(dates)
        if n == 0 and "subscription_price_increase" in p.planted:
            amounts[-1] = (price + 100 * int(rng.integers(1, 4)) + 99) // 100 * 100 - 1
        for d, amount in zip(dates, amounts, strict=True):
            flows.append(
                Flow(
                    at(d, 3),
                    account,
                    -amount,
                    "subscriptions",
                    "card",
                    merchant=merchant,
                    description=f"{merchant.upper()} *{card}",
                    series=f"sub{n}",
                )
            )
        p.series(
            f"sub{n}", account, "subscription", merchant, "subscriptions", "monthly", day, first
        )
    if "free_trial_turning_paid" in p.planted:
        merchant, price = SUBSCRIPTIONS[trial_pick]
        paid = p.as_of - timedelta(days=int(rng.integers(1, 7)))
        trial = paid - timedelta(days=30)
        flows.append(
            Flow(
                at(trial, 19),
                account,
                0,
                "subscriptions",
                "card",
                merchant=merchant,
                description=f"{merchant.upper()} FREE TRIAL",
                series="trial",
            )
        )
        flows.append(
            Flow(
                at(paid, 3),
                account,
                -price,
                "subscriptions",
                "card",
                merchant=merchant,
                description=f"{merchant.upper()} *{card}",
                series="trial",
            )
        )
        p.series(
            "trial", account, "subscription", merchant, "subscriptions", "monthly", paid.day, trial
        )
    return flows


def loans(p: Plan) -> list[Flow]:
    """Monthly repayments of a personal loan or line of credit, with interest charged."""
    flows: list[Flow] = []
    for key, day, share in (("personal_loan", 10, 0.035), ("line_of_credit", 20, 0.03)):
        if not p.has(key):
            continue
        owed = -p.opening[key]
        if owed <= 0:
            continue
        payment = max(2500, int(owed * share))
        interest = int(owed * (0.0899 if key == "personal_loan" else 0.115) / 12)
        for d in cal.monthly_dates(p.start, p.as_of, day):
            flows += transfer(at(d, 8), "checking", key, payment, key.replace("_", " "), series=key)
            flows.append(
                Flow(
                    at(d, 8, 1),
                    key,
                    -interest,
                    "interest",
                    "interest",
                    description="INTEREST CHARGED",
                )
            )
        p.series(
            key, "checking", "loan", key.replace("_", " ").title(), "loan", "monthly", day, p.start
        )
    return flows


def savings(p: Plan) -> list[Flow]:
    """Regular saving: a rule that moves money every payday, or a monthly standing transfer."""
    if not p.has("savings"):
        return []
    rng, flows = p.rng, []
    monthly = cents(p.net_monthly * rng.uniform(0.03, 0.12)) if rng.random() < 0.7 else 0
    growing = "growing_savings_no_investment" in p.planted
    if growing:
        monthly = max(monthly, cents(p.net_monthly * 0.12), 70000)
        p.opening["savings"] = int(monthly * rng.uniform(2, 8))
    rule = "paycheck_with_savings_rule" in p.planted or (
        monthly > 0 and p.arch.name != "gig_worker" and rng.random() < 0.3
    )
    if rule:
        monthly = monthly or cents(p.net_monthly * 0.05)
        per_pay = max(1000, monthly * 13 // max(len(p.paydays), 1) // 100 * 100)
        for d in p.paydays:
            flows += transfer(
                at(d, 6, 5), "checking", "savings", per_pay, "Rainy Day Savings", series="rule"
            )
        p.bundle.scheduled.append(
            {
                "from": "checking",
                "to": "savings",
                "payee": None,
                "amount_minor": per_pay,
                "kind": "savings_rule",
                "cadence": "payday",
                "next_date": p.next_payday,
                "active": True,
            }
        )
    elif monthly:
        for d in cal.monthly_dates(p.start, p.as_of, 2):
            flows += transfer(
                at(d, 9), "checking", "savings", monthly, "Rainy Day Savings", series="standing"
            )
        p.bundle.scheduled.append(
            {
                "from": "checking",
                "to": "savings",
                "payee": None,
                "amount_minor": monthly,
                "kind": "recurring",
                "cadence": "monthly",
                "next_date": cal.next_monthly(p.as_of, 2),
                "active": True,
            }
        )
    rate = next(a["interest_rate_bps"] for a in p.bundle.accounts if a["key"] == "savings")
    interest = max(1, int(p.opening["savings"] * rate / 10000 / 12))
    for m in cal.month_starts(p.start, p.as_of)[1:]:
        flows.append(
            Flow(
                at(m, 0, 30),
                "savings",
                interest,
                "interest",
                "interest",
                description="INTEREST PAID",
            )
        )
    return flows


def everyday(p: Plan) -> list[Flow]:
    """Person-to-person payments with friends, and cash from ATMs."""
    rng, flows = p.rng, []
    friends = [
        p.payee(f"{first} {last}", "person")
        for first, last in (
            (
                str(
                    rng.choice(
                        ["Alex", "Sam", "Jordan", "Taylor", "Chris", "Priya", "Diego", "Mei"]
                    )
                ),
                str(rng.choice(["Baker", "Kim", "Nguyen", "Garcia", "Okafor", "Rossi", "Cohen"])),
            )
            for _ in range(int(rng.integers(1, 5)))
        )
    ]
    names = {f["key"]: f["name"] for f in p.bundle.payees}
    for m in cal.month_starts(p.start, p.as_of - timedelta(days=1)):
        for _ in range(int(rng.poisson(1.2))):
            d = m + timedelta(days=int(rng.integers(0, 28)))
            name = names[str(rng.choice(friends))]
            flows.append(
                Flow(
                    at(d, 18),
                    "checking",
                    -cents(rng.uniform(15, 150)),
                    "transfers",
                    "p2p",
                    counterparty=name,
                    description=f"ZELLE TO {name.upper()}",
                    mandatory=False,
                )
            )
        for _ in range(int(rng.poisson(0.5))):
            d = m + timedelta(days=int(rng.integers(0, 28)))
            name = names[str(rng.choice(friends))]
            flows.append(
                Flow(
                    at(d, 19),
                    "checking",
                    cents(rng.uniform(10, 100)),
                    "transfers",
                    "p2p",
                    counterparty=name,
                    description=f"ZELLE FROM {name.upper()}",
                )
            )
        for _ in range(int(rng.poisson(1.0))):
            d = m + timedelta(days=int(rng.integers(0, 28)))
            flows.append(
                Flow(
                    at(d, 12),
                    "checking",
                    -2000 * int(rng.integers(2, 11)),
                    "cash",
                    "atm",
                    description="ATM WITHDRAWAL",
                    mandatory=False,
                )
            )
    if rng.random() < 0.05:
        p.bundle.scheduled.append(
            {
                "from": "checking",
                "to": None,
                "payee": friends[0],
                "amount_minor": cents(rng.uniform(20, 300)),
                "kind": "one_off",
                "cadence": None,
                "next_date": p.as_of + timedelta(days=int(rng.integers(1, 15))),
                "active": True,
            }
        )
    return [f for f in flows if f.at.date() < p.as_of]


def churn(p: Plan) -> list[Flow]:
    """A leaving customer moves money to another bank in the last two months."""
    rng, flows = p.rng, []
    bank = str(rng.choice(OTHER_BANKS))
    ref = p.digits(4)
    for k in range(int(rng.integers(2, 5))):
        d = p.as_of - timedelta(days=int(rng.integers(3, 55)))
        flows.append(
            Flow(
                at(d, 10, k),
                "checking",
                -cents(p.net_monthly * rng.uniform(0.5, 1)),
                "transfer_out",
                "transfer",
                counterparty=bank,
                description=f"TRANSFER TO {bank.upper()} ****{ref}",
            )
        )
    if p.has("savings"):
        d = p.as_of - timedelta(days=int(rng.integers(3, 40)))
        flows.append(
            Flow(
                at(d, 10, 30),
                "savings",
                -int(p.opening["savings"] * 0.6),
                "transfer_out",
                "transfer",
                counterparty=bank,
                description=f"TRANSFER TO {bank.upper()} ****{ref}",
            )
        )
    p.evidence.setdefault("churn_risk", {})["moved_to"] = bank
    return flows


def drains(p: Plan) -> list[Flow]:
    """Planted end states: an overdrawn checking account, or too little left for the bills."""
    rng = p.rng
    if "overdraft" in p.planted:
        # Money moved out leaves a little; the next grocery run overdraws and draws a fee.
        acc = next(a for a in p.bundle.accounts if a["key"] == "checking")
        acc["overdraft_limit_minor"] = 50000
        left = cents(rng.uniform(20, 80))
        store = str(rng.choice(["Kroger", "Safeway", "Aldi"]))
        flows = _drain(p, at(p.as_of, 10), left)
        flows.append(
            Flow(
                at(p.as_of, 11),
                "checking",
                -(left + cents(rng.uniform(35, 250))),
                "groceries",
                "card",
                merchant=store,
                description=f"{store.upper()} DEBIT {p.last4['checking']}",
            )
        )
        flows.append(
            Flow(at(p.as_of, 11, 1), "checking", -3500, "fees", "fee", description="OVERDRAFT FEE")
        )
        return flows
    if "upcoming_bills_low_balance" in p.planted:
        # Leave less than the smallest share a bill due in the next days could come to.
        bill = p.evidence["upcoming_bills_low_balance"]["bill_minor"]
        return _drain(p, at(p.as_of, 11), int(bill * rng.uniform(0.1, 0.5)))
    return []


def _drain(p: Plan, when: datetime, left: int) -> list[Flow]:
    """Move money out of checking so that ``left`` remains."""
    if p.has("savings"):
        return transfer(when, "checking", "savings", None, "Rainy Day Savings", target=left)
    return [
        Flow(
            when,
            "checking",
            None,
            "transfers",
            "p2p",
            counterparty="Rent deposit",
            description="ZELLE TO RENT DEPOSIT",
            target=left,
        )
    ]


def goals(p: Plan) -> None:
    """Savings goals for some savers (a home buyer saves for a down payment)."""
    rng = p.rng
    names = []
    if p.has("savings") and rng.random() < 0.4:
        names = list(rng.choice(GOALS, size=int(rng.integers(1, 3)), replace=False))
    if "home_buying" in p.planted:
        names.append("House down payment")
    for name in names:
        target = (
            cents(rng.uniform(1000, 20000))
            if name != "House down payment"
            else cents(rng.uniform(30000, 80000))
        )
        p.bundle.goals.append(
            {
                "account": "savings" if p.has("savings") else None,
                "name": str(name),
                "target_minor": target,
                "saved_minor": int(target * rng.uniform(0.1, 0.8)),
                "target_date": p.as_of + timedelta(days=int(rng.integers(60, 720))),
            }
        )


def card_bill_payments(p: Plan, spending: list[Flow]) -> list[Flow]:
    """Pay last month's credit-card statement in full from checking on the 25th."""
    if not p.has("credit_card"):
        return []
    by_month: dict[tuple[int, int], int] = {}
    for f in spending:
        if f.account == "credit_card" and f.amount is not None:
            by_month[(f.at.year, f.at.month)] = by_month.get((f.at.year, f.at.month), 0) - f.amount
    flows = []
    for m in cal.month_starts(p.start, p.as_of)[1:]:
        prev = cal.add_months(m, -1)
        owed = by_month.get((prev.year, prev.month), 0)
        d = cal.on_day(m, 25)
        if owed and d <= p.as_of:
            flows += transfer(
                at(d, 9), "checking", "credit_card", owed, "Cashback Card", series="card_payment"
            )
    return flows


def plant_card_events(p: Plan, spending: list[Flow]) -> list[Flow]:
    """Planted card situations: one unusually large purchase, or a charge posted twice."""
    rng, flows = p.rng, []
    if "large_transaction" in p.planted:
        biggest = max((-f.amount for f in spending if f.amount is not None), default=10000)
        merchant, category = [
            ("Apple Store", "shopping"),
            ("Best Buy", "shopping"),
            ("Emirates Airline", "travel"),
            ("Home Depot", "shopping"),
        ][int(rng.integers(0, 4))]
        amount = max(25000, int(biggest * rng.uniform(2, 4)))
        account = "credit_card" if p.has("credit_card") else "checking"
        d = p.as_of - timedelta(days=int(rng.integers(1, 28)))
        flows.append(
            Flow(
                at(d, 15),
                account,
                -amount,
                category,
                "card",
                merchant=merchant,
                description=f"{merchant.upper()} *{p.last4[account]}",
            )
        )
    if "duplicate_charge" in p.planted:
        recent = [
            f
            for f in spending
            if f.at.date() >= p.as_of - timedelta(days=20)
            and f.category in ("dining", "shopping", "groceries")
        ]
        if not recent:
            d = p.as_of - timedelta(days=int(rng.integers(1, 20)))
            recent = [
                Flow(
                    at(d, 13),
                    "checking",
                    -2345,
                    "dining",
                    "card",
                    merchant="Chipotle",
                    description=f"CHIPOTLE DEBIT {p.last4['checking']}",
                )
            ]
            flows += recent
        original = recent[int(rng.integers(0, len(recent)))]
        original.mandatory = True
        flows.append(
            Flow(
                original.at + timedelta(minutes=int(rng.integers(1, 6))),
                original.account,
                original.amount,
                original.category,
                "card",
                merchant=original.merchant,
                description=original.description,
            )
        )
    return flows


def finish_series(p: Plan) -> None:
    """Fill each series' latest amount and next due date from what was booked."""
    home = {s["key"]: s["account"] for s in p.bundle.series}
    last: dict[str, int] = {}
    for e in p.bundle.entries:
        if e.series is not None and home.get(e.series) == e.account:
            last[e.series] = e.amount
    for s in p.bundle.series:
        s["amount_minor"] = last.get(s["key"], 0)
        if not s["active"]:
            continue
        if s["kind"] == "salary":
            s["next_date"] = p.next_payday
        elif s["day"] is not None:
            s["next_date"] = cal.next_monthly(p.as_of, s["day"])
