"""Someone else's account, named as where money goes, is never one of the customer's own."""

from __future__ import annotations

import pytest

from agents.offline.tasks import _not_ours
from agents.offline.tracker import clean


@pytest.mark.parametrize(
    ("said", "payee"),
    [
        ("send to Diego's savings account", "Diego"),
        ("send to Diego 's savings account", "Diego"),
        ("send to Diego’s savings account", "Diego"),
        ("transfer $1170 to the savings account of Jasbir", "Jasbir"),
        ("put 40 in sam's checking", "sam"),
    ],
)
def test_the_owner_stays_and_the_account_words_go(said: str, payee: str) -> None:
    left = _not_ours(clean(said))
    assert payee in left.split()
    assert "savings" not in left and "checking" not in left


@pytest.mark.parametrize(
    "said",
    ["move 50 to my savings account", "what's in my savings", "put it in the savings account"],
)
def test_the_customers_own_accounts_are_kept(said: str) -> None:
    assert _not_ours(clean(said)) == clean(said)


def test_a_pronouns_account_is_dropped_whole() -> None:
    assert _not_ours("send 1,540 dollars to their checking account").split() == [
        "send",
        "1,540",
        "dollars",
        "to",
    ]


def test_a_phones_apostrophe_reads_as_the_plain_one() -> None:
    assert clean("what’s in Lena’s account") == "what's in Lena's account"
