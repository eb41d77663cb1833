"""Typos of the words people use with a bank are put right before the offline model reads them."""

from __future__ import annotations

import pytest

from agents.offline.slots.match import correct_words, match_merchant
from agents.offline.slots.spelling import spell


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("I want to make a trransfer", "I want to make a transfer"),
        ("what's my baance?", "what's my balance?"),
        ("go ahad", "go ahead"),  # the bank's "ahead", not the commoner "had"
        ("aent", "agent"),  # a typo keeps the first letter: not "rent"
        ("forgte it", "forget it"),
        ("send some mooney", "send some money"),  # a rare word one edit from a bank word
        ("act as an administrrator", "act as an administrator"),  # a long everyday word
    ],
)
def test_a_typo_of_a_bank_word_is_put_right(typed: str, meant: str) -> None:
    assert spell(typed) == meant


@pytest.mark.parametrize(
    "typed",
    [
        "how much have i spent on eating out",  # an English word is never another's typo
        "I don't recognise that charge",  # British spellings are spelt right
        "the colour of the centre cheque",
        "i dont think so, cant do it",  # chat spellings are meant
        "pay Svetlana 20 for the autopay",
        "send 25.50 to x9z3",  # numbers and codes are kept
        "move it to my t rowe price account",  # a rare word that is a name: not "rome"
    ],
)
def test_words_spelt_right_stay_as_typed(typed: str) -> None:
    assert spell(typed) == typed


def test_the_customers_own_names_are_never_changed() -> None:
    # "Moneu" is one edit from "money"; as a payee's name it is kept
    assert spell("pay Moneu Shop 20") == "pay money Shop 20"
    assert spell("pay Moneu Shop 20", keep=["Moneu Shop"]) == "pay Moneu Shop 20"


def test_cue_words_are_not_read_into_other_english_words() -> None:
    assert correct_words("eating out", frozenset({"earning"})) == "eating out"
    assert correct_words("my paychek", frozenset({"paycheck"})) == "my paycheck"


def test_part_of_a_merchants_name_made_of_everyday_words_names_no_merchant() -> None:
    merchants = ["City Power", "Blue Bottle", "Acme Payroll", "StreamFlix"]
    assert match_merchant("how much spending power is on my card", merchants) == []
    assert match_merchant("how much did I pay city power", merchants)[0][0] == "City Power"
    assert match_merchant("when did acme pay me", merchants)[0][0] == "Acme Payroll"
    assert match_merchant("streamflix charges", merchants)[0][0] == "StreamFlix"
