"""A small business's account: takings, payroll, suppliers, rent, and the owner's draw."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from services.synth import calendar as cal
from services.synth.flows import Plan, at, cents, transfer
from services.synth.ledger import Flow

DECLINE_DAYS = 120  # a failing business loses takings over its last four months


def business(p: Plan) -> list[Flow]:
    """Thirteen months of a sole trader's business checking account.

    Healthy businesses keep a margin; a planted failing one sees takings fall to about a third
    over the last four months while its costs stay, so its balance heads for zero.
    """
    rng, flows = p.rng, []
    gross = p.net_annual / 0.75
    revenue = gross / 12 * rng.uniform(4, 7)  # takings per month
    failing = "business_cash_shortfall" in p.planted
    p.opening["business_checking"] = 0 if failing else cents(revenue * rng.uniform(1, 3))
    source = str(rng.choice(["Square Deposit", "Stripe Payout", "Shopify Payout"]))
    decline_from = p.as_of - timedelta(days=DECLINE_DAYS)
    day = p.start
    while day < p.as_of:
        if day.weekday() < 5 and rng.random() < 0.8:
            factor = 1.0
            if failing and day > decline_from:
                factor = 1 - 0.65 * (day - decline_from).days / DECLINE_DAYS
            amount = cents(rng.lognormal(np.log(revenue / 17.4 * factor) - 0.35**2 / 2, 0.35))
            flows.append(
                Flow(
                    at(day, 5),
                    "business_checking",
                    amount,
                    "sales",
                    "ach",
                    merchant=source,
                    counterparty=source,
                    description=f"{source.upper()} SETTLEMENT",
                )
            )
        day += timedelta(days=1)
    draw = cents(p.net_monthly)
    # A healthy business keeps a fifth or more of its takings; a failing one only breaks even
    # before its takings fall.
    payroll_share = 1.0 - 0.22 - 0.10 - p.net_monthly / revenue if failing else 0.30
    payroll = cents(revenue * payroll_share * 12 / 26)
    for d in cal.pay_dates("biweekly", p.start, p.as_of - timedelta(days=1)):
        flows.append(
            Flow(
                at(d, 4),
                "business_checking",
                -payroll,
                "payroll",
                "ach",
                merchant="Gusto Payroll",
                counterparty="Gusto Payroll",
                description="GUSTO PAYROLL",
                series="biz_payroll",
            )
        )
    supplier = str(rng.choice(["Sysco", "Grainger", "Uline", "Staples Business"]))
    for d in cal.pay_dates("weekly", p.start, p.as_of - timedelta(days=1)):
        amount = cents(revenue * 0.22 * 12 / 52 * rng.uniform(0.85, 1.15))
        flows.append(
            Flow(
                at(d, 10),
                "business_checking",
                -amount,
                "supplies",
                "ach",
                merchant=supplier,
                counterparty=supplier,
                description=f"{supplier.upper()} INVOICE",
            )
        )
    rent = cents(revenue * 0.10)
    for d in cal.monthly_dates(p.start, p.as_of, 1):
        flows.append(
            Flow(
                at(d, 7),
                "business_checking",
                -rent,
                "rent",
                "ach",
                merchant="Commercial Realty",
                counterparty="Commercial Realty",
                description="COMMERCIAL REALTY LEASE",
                series="biz_rent",
            )
        )
    for d in p.paydays:
        flows += transfer(
            at(d, 6), "business_checking", "checking", draw, "Everyday Checking", series="salary"
        )
    for f in flows:
        if f.account == "checking" and f.series == "salary":
            f.category, f.channel, f.merchant = "income", "transfer", "Owner draw"
            f.description = "OWNER DRAW FROM BUSINESS CHECKING"
    p.series(
        "biz_payroll",
        "business_checking",
        "bill",
        "Gusto Payroll",
        "payroll",
        "biweekly",
        None,
        p.start,
    )
    p.series(
        "biz_rent", "business_checking", "bill", "Commercial Realty", "rent", "monthly", 1, p.start
    )
    if failing:
        p.evidence["business_cash_shortfall"] = {"takings_fall_from": decline_from.isoformat()}
    return flows
