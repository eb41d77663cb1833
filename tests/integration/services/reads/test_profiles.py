"""The unified profile agrees with the raw records it summarises."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.reads.profiles import ProfileNotFound, load_profile
from services.synth.archetypes import BUSINESS_CATEGORIES, SPENDING_CATEGORIES
from tests.support.bank_raw import noon, rows, truth, utc


def _profile(bank, person_id):
    with bank.engine.connect() as conn:
        return load_profile(conn, person_id=person_id, now=noon(bank.as_of))


@pytest.mark.parametrize("person_id", [1, 2, 57, 123, 300])
def test_profile_sums_match_the_ledger(bank, person_id: int) -> None:
    profile = _profile(bank, person_id)
    now = noon(bank.as_of)
    entries = rows(
        bank.engine,
        "SELECT booked_at, amount_minor, category FROM ledger_entry WHERE person_id = :p",
        p=person_id,
    )
    for days in (30, 90):
        recent = [(a, c) for t, a, c in entries if utc(t) >= now - timedelta(days=days)]
        income = sum(a for a, c in recent if c == "income" and a > 0)
        # What the generator booked as the customer's own spending, and as the business's.
        spent = -sum(a for a, c in recent if c in SPENDING_CATEGORIES and a < 0)
        business = -sum(a for a, c in recent if c in BUSINESS_CATEGORIES and a < 0)
        assert profile.income_minor[f"{days}d"] == income
        assert profile.spending_minor[f"{days}d"] == spent
        assert sum(profile.business_outgoings_minor[f"{days}d"].values()) == business
    accounts = rows(
        bank.engine,
        "SELECT id, type, balance_minor FROM account WHERE person_id = :p ORDER BY id",
        p=person_id,
    )
    assert [p.account_id for p in profile.products] == [a for a, _, _ in accounts]
    deposits = sum(b for _, t, b in accounts if t in ("checking", "savings", "business_checking"))
    assert profile.deposit_balance_minor == deposits
    assert any(i.system == "core_banking" for i in profile.identities)
    assert profile.digital.devices >= 1
    assert 0 <= profile.derived.engagement <= 1


def test_low_balance_customers_see_the_dip_coming(bank) -> None:
    people = truth(bank.engine, "situation", "upcoming_bills_low_balance")
    assert people
    for person_id in list(people)[:5]:
        derived = _profile(bank, person_id).derived
        assert derived.forecast_low_minor < _profile(bank, person_id).deposit_balance_minor


def test_unknown_person_is_an_error(bank) -> None:
    with pytest.raises(ProfileNotFound):
        _profile(bank, 10**9)
