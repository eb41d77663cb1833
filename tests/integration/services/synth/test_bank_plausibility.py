"""The seeded bank looks like a real one: balances, pay cycles, spending shares, rhythm."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import timedelta

from services.synth.archetypes import BY_NAME, CATEGORIES, TICKET
from services.synth.calendar import on_day, previous_business_day
from services.synth.spending import TAIL
from tests.support.bank_raw import as_of, day, group, obj, rows, truth, utc

DEPOSITS = "('checking', 'savings', 'business_checking')"


def test_no_negative_deposit_balance_except_planted_overdrafts(bank) -> None:
    negative = rows(
        bank.engine,
        "SELECT DISTINCT e.person_id FROM ledger_entry e JOIN account a "
        f"ON a.id = e.account_id WHERE a.type IN {DEPOSITS} "
        "AND e.balance_after_minor < 0",
    )
    overdrawn = {p for (p,) in negative}
    planted = {p for p, _ in truth(bank.engine, "situation", "overdraft").items()}
    assert overdrawn == planted
    assert planted, "the bank should hold a few planted overdrafts"
    for (person,) in negative:  # an overdraft is where the account's history ends
        history = rows(
            bank.engine,
            "SELECT e.balance_after_minor, a.balance_minor FROM "
            "ledger_entry e JOIN account a ON a.id = e.account_id WHERE "
            f"e.person_id = :p AND a.type IN {DEPOSITS} "
            "ORDER BY e.account_id, e.booked_at, e.id",
            p=person,
        )
        below = [i for i, (after, _) in enumerate(history) if after < 0]
        assert below == list(range(below[0], below[-1] + 1))
        assert history[below[-1]][0] == history[below[-1]][1]


def test_every_ledger_is_a_running_sum_ending_at_the_balance(bank) -> None:
    entries = group(
        rows(
            bank.engine,
            "SELECT account_id, amount_minor, balance_after_minor "
            "FROM ledger_entry ORDER BY account_id, booked_at, id",
        )
    )
    balances = dict(rows(bank.engine, "SELECT id, balance_minor FROM account"))
    for account, items in entries.items():
        running = items[0][2] - items[0][1]
        for _, amount, after in items:
            running += amount
            assert after == running, f"account {account} breaks its running balance"
        assert running == balances[account]


def test_money_between_own_accounts_is_neither_created_nor_lost(bank) -> None:
    moved = rows(
        bank.engine,
        "SELECT person_id, booked_at, SUM(amount_minor) FROM ledger_entry "
        "WHERE category = 'transfer' OR description LIKE 'OWNER DRAW%' "
        "GROUP BY person_id, booked_at",
    )
    assert moved
    assert all(total == 0 for _, _, total in moved)


def test_every_salary_follows_its_cycle(bank) -> None:
    series = rows(bank.engine, "SELECT id, cadence, day FROM recurring_series WHERE kind='salary'")
    assert series
    checked = defaultdict(int)
    for series_id, cadence, pay_day in series:
        dates = [
            utc(t).date()
            for (t,) in rows(
                bank.engine,
                "SELECT booked_at FROM ledger_entry WHERE recurring_id = :s AND "
                "amount_minor > 0 ORDER BY booked_at",
                s=series_id,
            )
        ]
        if cadence == "irregular":
            assert len(dates) >= 13, "a gig worker is paid out more than monthly"
            continue
        assert len(dates) >= 2
        gaps = {(b - a).days for a, b in zip(dates, dates[1:], strict=False)}
        if cadence in ("weekly", "biweekly"):
            assert gaps == {7 if cadence == "weekly" else 14}, (series_id, gaps)
            assert {d.weekday() for d in dates} == {pay_day}
        elif cadence == "semimonthly":
            for d in dates:
                m = d.replace(day=1)
                assert d in (
                    previous_business_day(on_day(m, 15)),
                    previous_business_day(on_day(m, 31)),
                ), (series_id, d)
        else:
            assert cadence == "monthly"
            for d in dates:
                assert d == previous_business_day(on_day(d.replace(day=1), pay_day)) or (
                    d
                    == previous_business_day(
                        on_day((d + timedelta(days=7)).replace(day=1), pay_day)
                    )
                ), (series_id, d)
        checked[cadence] += 1
    assert {"weekly", "biweekly", "semimonthly", "monthly"} <= set(checked)


def test_spending_shares_per_archetype_are_within_stated_ranges(bank) -> None:
    """Routine card spending: one-off purchases beyond any routine ticket are left out."""
    archetype = truth(bank.engine, "archetype")
    cap = {c: median * 100 * math.exp(TAIL * sigma) for c, (median, sigma) in TICKET.items()}
    spent: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for person, category, amount in rows(
        bank.engine,
        "SELECT person_id, category, -amount_minor FROM ledger_entry "
        "WHERE channel = 'card' AND amount_minor < 0",
    ):
        if category in CATEGORIES and amount <= cap[category] + 1:
            spent[archetype[person]][category] += amount
    assert set(spent) == set(BY_NAME)
    for name, by_category in spent.items():
        whole = sum(by_category.values())
        for category, (low, high) in BY_NAME[name].spend_share.items():
            share = by_category.get(category, 0) / whole
            assert low <= share <= high, f"{name} spends {share:.1%} on {category}"


def test_card_spending_has_a_weekly_and_seasonal_rhythm(bank) -> None:
    today = as_of(bank.engine)
    by_weekday, by_month = defaultdict(int), defaultdict(int)
    for t, amount in rows(
        bank.engine,
        "SELECT booked_at, amount_minor FROM ledger_entry WHERE "
        "channel = 'card' AND amount_minor < 0 AND category != "
        "'travel'",
    ):
        when = utc(t).date()
        if when < today - timedelta(days=365):
            continue  # a whole year: every weekday and month counted alike
        by_weekday[when.weekday()] += -amount
        by_month[when.month] += -amount
    assert by_weekday[5] > 1.25 * by_weekday[1], "Saturdays outspend Tuesdays"
    ordinary = sum(by_month[m] for m in (3, 4, 5, 9, 10)) / 5
    assert by_month[12] > 1.2 * ordinary, "December outspends an ordinary month"


def test_electricity_bills_follow_the_seasons(bank) -> None:
    bills = rows(
        bank.engine,
        "SELECT booked_at, amount_minor FROM ledger_entry WHERE description LIKE '%ELECTRICITY'",
    )
    by_month = defaultdict(list)
    for t, amount in bills:
        by_month[utc(t).month].append(-amount)
    mean = {m: sum(v) / len(v) for m, v in by_month.items()}
    assert mean[1] > 1.3 * mean[4] and mean[7] > 1.3 * mean[10]


def test_thirteen_months_of_history_and_digital_sessions(bank) -> None:
    today = as_of(bank.engine)
    first, last = rows(bank.engine, "SELECT MIN(booked_at), MAX(booked_at) FROM ledger_entry")[0]
    assert (today - utc(first).date()).days >= 390
    assert utc(last).date() <= today
    sessions = rows(
        bank.engine,
        "SELECT person_id, COUNT(DISTINCT session_id) FROM digital_event "
        "WHERE person_id IS NOT NULL GROUP BY person_id",
    )
    assert len(sessions) == bank.customers
    assert sum(n for _, n in sessions) / bank.customers > 50
    anonymous = rows(bank.engine, "SELECT COUNT(*) FROM digital_event WHERE person_id IS NULL")
    assert anonymous[0][0] > 0, "web visitors browse before signing in"
    kinds = {k for (k,) in rows(bank.engine, "SELECT DISTINCT kind FROM digital_event")}
    assert {"app_open", "login", "page_view", "search", "click", "calculator"} <= kinds


def test_every_account_kind_and_card_state_exists(bank) -> None:
    kinds = {k for (k,) in rows(bank.engine, "SELECT DISTINCT type FROM account")}
    assert kinds == {
        "checking",
        "savings",
        "credit_card",
        "term_deposit",
        "mortgage",
        "personal_loan",
        "line_of_credit",
        "investment",
        "business_checking",
    }
    states = {s for (s,) in rows(bank.engine, "SELECT DISTINCT status FROM card")}
    assert {"active", "frozen", "replaced", "lost"} <= states
    for risk, target in rows(
        bank.engine,
        "SELECT risk_tolerance, target_allocation FROM account WHERE type = 'investment'",
    ):
        assert risk in ("conservative", "moderate", "aggressive")
        assert sum(obj(target).values()) == 100
    for (maturity,) in rows(
        bank.engine, "SELECT maturity_date FROM account WHERE type = 'term_deposit'"
    ):
        assert day(maturity) >= as_of(bank.engine)


def test_offer_responses_follow_hidden_needs(bank) -> None:
    needs = defaultdict(set)
    for person, label in rows(
        bank.engine, "SELECT person_id, label FROM ground_truth WHERE kind = 'need'"
    ):
        needs[person].add(label)
    tally = {True: [0, 0], False: [0, 0]}  # needed? -> [accepted, shown]
    for person, code, response in rows(
        bank.engine, "SELECT person_id, offer_code, response FROM offer_event"
    ):
        needed = code in needs[person]
        tally[needed][0] += response == "accepted"
        tally[needed][1] += 1
    with_need = tally[True][0] / tally[True][1]
    without = tally[False][0] / tally[False][1]
    assert tally[True][1] >= 50
    assert with_need > 4 * without, (with_need, without)
