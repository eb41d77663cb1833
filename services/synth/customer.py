"""One synthetic customer, generated from (seed, index) alone so any worker can make any one."""

from __future__ import annotations

import unicodedata
from datetime import date, time, timedelta

import numpy as np
from faker import Faker

from services.identity.keys import hash_national_id
from services.synth import schedule as recurring
from services.synth.archetypes import ARCHETYPES, BY_NAME, Archetype, pick
from services.synth.bundle import Bundle
from services.synth.digital import sessions
from services.synth.flows import Plan
from services.synth.ledger import Flow, settle, to_entries
from services.synth.offers import offer_history
from services.synth.situations import HIDDEN_CAUSES, observe, plan
from services.synth.spending import card_spending, category_weights

HISTORY_DAYS = 395  # thirteen months
_SHARES = np.array([a.share for a in ARCHETYPES])
# Share of customers eligible for a situation limited to a group (keeps stated shares overall).
_ELIGIBLE = {
    "business_cash_shortfall": BY_NAME["small_business_owner"].share,
    "home_buying": sum(a.share * a.housing.get("rent", 0) for a in ARCHETYPES),
    "paycheck_with_savings_rule": 1 - BY_NAME["gig_worker"].share,
}
_faker = Faker("en_US")


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _digits(rng: np.random.Generator, n: int) -> str:
    return "".join(str(d) for d in rng.integers(0, 10, size=n))


def national_id(seed: int, index: int) -> str:
    """The customer's (synthetic) social security number; only its hash is stored."""
    rng = np.random.default_rng([seed, index, 1])  # its own stream: the rest stays the same
    area = int(rng.integers(1, 899))
    area += area >= 666
    return f"{area:03d}-{int(rng.integers(1, 100)):02d}-{int(rng.integers(1, 10000)):04d}"


def generate_customer(seed: int, index: int, as_of: date) -> Bundle:
    """Generate customer number ``index`` (0-based) of the bank seeded with ``seed``."""
    rng = np.random.default_rng([seed, index])
    _faker.seed_instance(seed * 1_000_003 + index)
    arch: Archetype = ARCHETYPES[int(rng.choice(len(ARCHETYPES), p=_SHARES))]
    housing = pick(rng, arch.housing)
    planted = plan(arch.name, housing, rng, _ELIGIBLE)
    if "home_buying" in planted:
        housing = "rent"

    first, last = _faker.first_name(), _faker.last_name()
    age = int(rng.integers(arch.age[0], arch.age[1] + 1))
    dob = as_of - timedelta(days=int(age * 365.25 + rng.integers(0, 365)))
    tenure = int(rng.integers(14, max(15, (age - 17) * 12)))  # months with the bank
    person = {
        "full_name": f"{first} {last}",
        "first_name": first,
        "last_name": last,
        "date_of_birth": dob,
        "email": f"{_ascii(first)}.{_ascii(last)}{index + 1}@{_faker.free_email_domain()}",
        "phone": "+1" + _digits(rng, 10).replace("0", "5", 1),
        "address_line": _faker.street_address(),
        "city": _faker.city(),
        "postal_code": _faker.zipcode(),
        "country": "US",
        "segment": arch.segment,
        "is_business": arch.name == "small_business_owner",
        "customer_since": as_of - timedelta(days=int(tenure * 30.4)),
        "national_id_hash": hash_national_id(national_id(seed, index)),
        "national_id_last4": national_id(seed, index)[-4:],
    }
    b = Bundle(index=index, archetype=arch.name, person=person)
    start, end = as_of - timedelta(days=HISTORY_DAYS), as_of
    gross = float(rng.lognormal(np.log(arch.income_median), arch.income_sigma))
    net_annual = gross * 0.75
    plan_ = Plan(
        rng=rng,
        arch=arch,
        start=start,
        as_of=as_of,
        net_annual=net_annual,
        housing=housing,
        planted=planted,
        bundle=b,
        digits=lambda n: _digits(rng, n),
    )
    flows: list[Flow] = recurring.build(plan_)
    weights = category_weights(arch, rng)
    housing_share = plan_.housing_share
    annual_budget = net_annual * float(rng.uniform(*arch.spend_ratio)) * (1 - housing_share - 0.06)
    card_accounts = [("checking", "DEBIT " + plan_.card_last4("checking"), 0.4)]
    if plan_.has("credit_card"):
        card_accounts.append(("credit_card", "CREDIT " + plan_.card_last4("credit_card"), 0.6))
    spending = card_spending(
        start=start,
        end=end - timedelta(days=1),
        annual_budget=annual_budget,
        weights=weights,
        accounts=card_accounts,
        rng=rng,
    )
    flows += spending
    flows += recurring.card_bill_payments(plan_, spending)
    flows += recurring.plant_card_events(plan_, spending)
    types = {a["key"]: a["type"] for a in b.accounts}
    booked, closing, used = settle(flows, types, plan_.opening)
    b.entries = to_entries(booked)
    for a in b.accounts:
        if a["key"] in closing and a["type"] not in ("investment", "term_deposit"):
            a["balance_minor"] = closing[a["key"]]
            a["opening_minor"] = used[a["key"]]
        else:
            a["opening_minor"] = a["balance_minor"]
    recurring.finish_series(plan_)

    quiet = rng.random() < 0.7
    b.preference = {
        "push": bool(rng.random() < 0.8),
        "email": bool(rng.random() < 0.9),
        "sms": bool(rng.random() < 0.3),
        "in_app": True,
        "marketing_consent": bool(rng.random() < 0.6),
        "quiet_start": time(21, 0) if quiet else None,
        "quiet_end": time(8, 0) if quiet else None,
        "timezone": "America/New_York",
    }
    b.events = sessions(
        rng=rng,
        arch=arch,
        index=index,
        start=start,
        as_of=as_of,
        planted=planted,
        digits=lambda n: _digits(rng, n),
    )
    found = observe(b, as_of)
    for name in planted - HIDDEN_CAUSES:
        assert name in found, f"customer {index}: planted {name} is not visible"
    b.truth.append(("archetype", arch.name, {"income_gross": round(gross), "housing": housing}))
    for name in sorted(planted & HIDDEN_CAUSES):
        b.truth.append(("situation", name, {"planted": True, **plan_.evidence.get(name, {})}))
    for name, detail in sorted(found.items()):
        b.truth.append(("situation", name, {"planted": name in planted, **detail}))
    situations = {name for kind, name, _ in b.truth if kind == "situation"}
    b.offers, needs = offer_history(rng=rng, bundle=b, situations=situations, as_of=as_of)
    b.truth += [("need", need, {}) for need in sorted(needs)]
    return b
