"""Every planted situation is visible in the raw data.

Each check recomputes a situation from transactions, accounts, schedules and digital events
alone — never from the ground-truth table — and only then compares with the truth.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from services.synth.situations import SHARES
from tests.support.bank_raw import as_of, day, group, noon, obj, rows, truth, utc

EXACT = [
    "large_transaction",
    "duplicate_charge",
    "subscription_price_increase",
    "free_trial_turning_paid",
    "cd_maturing",
    "overdraft",
    "portfolio_drift",
    "paycheck_with_savings_rule",
    "growing_savings_no_investment",
    "upcoming_bills_low_balance",
]
HIDDEN = ["churn_risk", "business_cash_shortfall", "home_buying"]


def card_debits(engine):
    return rows(
        engine,
        "SELECT person_id, booked_at, amount_minor, merchant FROM ledger_entry "
        "WHERE channel = 'card' AND amount_minor < 0 ORDER BY booked_at, id",
    )


def large_transaction(engine, today: date) -> set[int]:
    window = noon(today) - timedelta(days=30)
    found = set()
    for person, items in group(card_debits(engine)).items():
        before = max((-a for _, t, a, _ in items if utc(t) < window), default=0)
        if any(utc(t) >= window and -a >= 25_000 and -a > 1.5 * before for _, t, a, _ in items):
            found.add(person)
    return found


def duplicate_charge(engine, today: date) -> set[int]:
    seen, found = set(), set()
    for person, t, amount, merchant in card_debits(engine):
        key = (person, merchant, utc(t).date(), amount)
        if key in seen:
            found.add(person)
        seen.add(key)
    return found


def subscription_price_increase(engine, today: date) -> set[int]:
    found = set()
    subs = rows(
        engine,
        "SELECT person_id, merchant, amount_minor FROM ledger_entry WHERE "
        "category = 'subscriptions' AND amount_minor < 0 ORDER BY booked_at, id",
    )
    for (person, _merchant), items in group(((p, m), -a) for p, m, a in subs).items():
        amounts = [a for _, a in items]
        if len(amounts) >= 3 and amounts[-1] > amounts[-2] == amounts[-3]:
            found.add(person)
    return found


def free_trial_turning_paid(engine, today: date) -> set[int]:
    """A merchant's first card entry is free and its first paid charge is in the last 10 days."""
    found = set()
    entries = rows(
        engine,
        "SELECT person_id, merchant, booked_at, amount_minor FROM ledger_entry "
        "WHERE channel = 'card' ORDER BY booked_at, id",
    )
    for (person, _merchant), items in group(
        ((p, m), (utc(t), a)) for p, m, t, a in entries
    ).items():
        (first_at, first), *later = [x for _, x in items]
        paid = [t for t, a in later if a < 0]
        if (
            first == 0
            and paid
            and (paid[0] - first_at).days <= 35
            and (paid[0] >= noon(today) - timedelta(days=10))
        ):
            found.add(person)
    return found


def cd_maturing(engine, today: date) -> set[int]:
    found = rows(engine, "SELECT person_id, maturity_date FROM account WHERE type='term_deposit'")
    return {p for p, m in found if today <= day(m) <= today + timedelta(days=30)}


def overdraft(engine, today: date) -> set[int]:
    found = rows(
        engine,
        "SELECT person_id FROM account WHERE balance_minor < 0 AND type IN "
        "('checking', 'savings', 'business_checking')",
    )
    return {p for (p,) in found}


def portfolio_drift(engine, today: date) -> set[int]:
    accounts = rows(
        engine,
        "SELECT a.id, a.person_id, a.target_allocation FROM account a WHERE a.type = 'investment'",
    )
    holdings = group(
        rows(engine, "SELECT account_id, asset_class, market_value_minor FROM holding")
    )
    found = set()
    for account_id, person, target in accounts:
        mine = holdings[account_id]
        total = sum(v for _, _, v in mine)
        equity = sum(v for _, c, v in mine if c == "equity")
        if total and abs(round(100 * equity / total) - obj(target)["equity"]) > 10:
            found.add(person)
    return found


def paycheck_with_savings_rule(engine, today: date) -> set[int]:
    rules = rows(
        engine, "SELECT person_id FROM scheduled_transfer WHERE kind = 'savings_rule' AND active"
    )
    paid = rows(
        engine,
        "SELECT person_id, booked_at FROM ledger_entry WHERE category = 'income' "
        "AND amount_minor > 0",
    )
    recent = {p for p, t in paid if utc(t).date() >= today - timedelta(days=2)}
    return {p for (p,) in rules} & recent


def growing_savings_no_investment(engine, today: date) -> set[int]:
    invest = {p for (p,) in rows(engine, "SELECT person_id FROM account WHERE type='investment'")}
    cut = noon(today) - timedelta(days=182)
    found = set()
    for acc, person, closing in rows(
        engine, "SELECT id, person_id, balance_minor FROM account WHERE type = 'savings'"
    ):
        if person in invest or closing < 1_000_000:
            continue
        history = rows(
            engine,
            "SELECT booked_at, amount_minor, balance_after_minor FROM "
            "ledger_entry WHERE account_id = :a ORDER BY booked_at, id",
            a=acc,
        )
        past = closing - sum(a for _, a, _ in history)  # the opening balance
        for t, _, after in history:
            if utc(t) <= cut:
                past = after
        if closing >= 1.25 * past:
            found.add(person)
    return found


def upcoming_bills_low_balance(engine, today: date) -> set[int]:
    due = rows(
        engine,
        "SELECT s.person_id, s.amount_minor, s.next_date FROM recurring_series s "
        "JOIN account a ON a.id = s.account_id WHERE a.type = 'checking' "
        "AND s.active AND s.amount_minor < 0",
    )
    total: dict[int, int] = {}
    for person, amount, when in due:
        when = day(when)
        if when is not None and today < when <= today + timedelta(days=5):
            total[person] = total.get(person, 0) - amount
    balance = dict(
        rows(engine, "SELECT person_id, balance_minor FROM account WHERE type = 'checking'")
    )
    return {p for p, owed in total.items() if owed > balance[p]}


def churn_risk(engine, today: date) -> set[int]:
    """Salary stopped, money leaving for another bank, and logins falling."""
    now = noon(today)
    pay = group(
        rows(
            engine,
            "SELECT person_id, booked_at FROM ledger_entry WHERE "
            "category = 'income' AND amount_minor > 0",
        )
    )
    out = group(
        rows(
            engine, "SELECT person_id, booked_at FROM ledger_entry WHERE category = 'transfer_out'"
        )
    )
    logins = group(
        rows(
            engine,
            "SELECT person_id, occurred_at FROM digital_event WHERE "
            "kind = 'login' AND person_id IS NOT NULL",
        )
    )
    found = set()
    for person, items in pay.items():
        ages = [(now - utc(t)).days for _, t in items]
        stopped = min(ages) > 40 and sum(75 <= a <= 200 for a in ages) >= 3
        moving = sum((now - utc(t)).days <= 60 for _, t in out.get(person, [])) >= 2
        seen = [(now - utc(t)).days for _, t in logins.get(person, [])]
        recent, before = sum(a < 60 for a in seen), sum(60 <= a < 360 for a in seen)
        falling = recent < 0.5 * before / 5
        if stopped and moving and falling:
            found.add(person)
    return found


def business_cash_shortfall(engine, today: date) -> set[int]:
    """A straight line through 90 days of closing balances crosses zero within 60 days."""
    found = set()
    for acc, person in rows(
        engine, "SELECT id, person_id FROM account WHERE type = 'business_checking'"
    ):
        history = rows(
            engine,
            "SELECT booked_at, balance_after_minor FROM ledger_entry "
            "WHERE account_id = :a ORDER BY booked_at, id",
            a=acc,
        )
        closing = {}
        for t, after in history:
            closing[utc(t).date()] = after
        days, values, last = [], [], None
        for k in range(90, 0, -1):
            day = today - timedelta(days=k)
            last = closing.get(day, last)
            if last is not None:
                days.append(-k)
                values.append(last)
        if len(days) > 30:
            slope, intercept = np.polyfit(days, values, 1)
            if intercept + slope * 60 < 0:
                found.add(person)
    return found


def home_buying(engine, today: date) -> set[int]:
    """A lease ending within 90 days and mortgage research (signed in or not) this month."""
    leases = rows(engine, "SELECT person_id, ends_on FROM recurring_series WHERE kind = 'rent'")
    ending = {p for p, end in leases if end and today <= day(end) <= today + timedelta(days=90)}
    owner = dict(
        rows(
            engine,
            "SELECT DISTINCT device_id, person_id FROM digital_event WHERE person_id IS NOT NULL",
        )
    )
    research = rows(
        engine,
        "SELECT device_id, occurred_at FROM digital_event "
        "WHERE page LIKE '/mortgages%' OR detail LIKE 'mortgage%'",
    )
    counts: dict[int, int] = {}
    for device, t in research:
        if device in owner and utc(t) >= noon(today) - timedelta(days=30):
            counts[owner[device]] = counts.get(owner[device], 0) + 1
    return {p for p, n in counts.items() if n >= 3} & ending


DETECTORS = {
    f.__name__: f
    for f in (
        large_transaction,
        duplicate_charge,
        subscription_price_increase,
        free_trial_turning_paid,
        cd_maturing,
        overdraft,
        portfolio_drift,
        paycheck_with_savings_rule,
        growing_savings_no_investment,
        upcoming_bills_low_balance,
        churn_risk,
        business_cash_shortfall,
        home_buying,
    )
}


def test_every_situation_has_a_detector() -> None:
    assert set(DETECTORS) == set(SHARES)


@pytest.mark.parametrize("situation", EXACT)
def test_state_situations_match_the_truth_exactly(bank, situation: str) -> None:
    today = as_of(bank.engine)
    seen = DETECTORS[situation](bank.engine, today)
    known = set(truth(bank.engine, "situation", situation))
    assert known, f"no customer has {situation}"
    assert seen == known


@pytest.mark.parametrize("situation", HIDDEN)
def test_hidden_causes_show_their_signals(bank, situation: str) -> None:
    today = as_of(bank.engine)
    seen = DETECTORS[situation](bank.engine, today)
    known = set(truth(bank.engine, "situation", situation))
    assert known, f"no customer has {situation}"
    assert known <= seen, f"planted but invisible: {sorted(known - seen)}"
    precision = len(seen & known) / len(seen)
    assert precision >= 0.8, f"{situation}: {sorted(seen - known)} look alike but are not"


@pytest.mark.parametrize("situation", sorted(SHARES))
def test_planted_share_is_near_the_stated_share(bank, situation: str) -> None:
    planted = rows(
        bank.engine,
        "SELECT detail FROM ground_truth WHERE kind='situation' AND label = :l",
        l=situation,
    )
    count = sum(1 for (detail,) in planted if obj(detail)["planted"])
    expected = SHARES[situation] * bank.customers
    spread = 4 * (expected * (1 - SHARES[situation])) ** 0.5 + 1
    assert abs(count - expected) <= spread, (situation, count, expected)
