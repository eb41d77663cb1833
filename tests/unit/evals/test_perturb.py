"""Perturbed scenarios: each rewording is the same for a seed and never changes what is meant.

Meaning is checked with the assistant's own readers: the amounts in a reworded message parse
to the same values with ``agents.offline.slots.amounts``, and names come through untouched.
"""

from __future__ import annotations

import random
import re
import textwrap
from decimal import Decimal
from typing import Any

import pytest

from agents.offline.slots.amounts import find_amounts, parse_amount
from evals.perturb import (
    KINDS,
    Context,
    case,
    context_for,
    fillers,
    number_words,
    numbers,
    parse_kinds,
    perturb_scenario,
    perturb_text,
    punctuation,
    run_perturbed,
    typos,
)
from evals.scenario import Scenario, parse

SEEDS = range(150)
MESSAGES = [
    "move 200 from everyday to rainy day",
    "pay City Electric 85 dollars",
    "Please transfer $1,210.50 to Diego from my savings account.",
    "I don't recognise the 86.40 charge from Whole Foods",
    "I don't recognise the $86.40 payment at Whole Foods",
    "what's my balance?",
    "Yes, that is correct. How long will the transfer take?",
    "every month starting on the 15th",
    "freeze the card ending in 4821",
    'start a savings goal called "Summer Holiday" with a target of 600',
    "no",
    "120",
]
CONTEXT = Context(
    protected=frozenset({"everyday", "rainy", "day", "city", "electric", "diego", "savings"}),
    amounts=frozenset({Decimal("200"), Decimal("120"), Decimal("86.40"), Decimal("600")}),
    currency="USD",
    blocked=frozenset({Decimal("4821")}),
)


def _all(kind: str, text: str, context: Context = CONTEXT) -> list[str]:
    return [perturb_text(text, kind, seed=s, key="k", context=context) for s in SEEDS]


def _amounts(text: str) -> list[Any]:
    return find_amounts(text)


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z]+|\d+", text)


# --- choosing perturbations -------------------------------------------------------------------


def test_kinds_are_read_in_order_once_each_and_unknown_ones_are_refused() -> None:
    assert parse_kinds("numbers, typos,numbers") == ["numbers", "typos"]
    assert parse_kinds(",".join(KINDS)) == list(KINDS)
    with pytest.raises(ValueError, match="unknown perturbation 'emoji'"):
        parse_kinds("typos,emoji")
    with pytest.raises(ValueError, match="no perturbation"):
        parse_kinds(" , ")


@pytest.mark.parametrize("kind", KINDS)
def test_a_seed_gives_the_same_text_and_seeds_differ(kind: str) -> None:
    text = "Please transfer $1,210 to Diego from my savings account, thanks."
    first = [perturb_text(text, kind, seed=s, key="a:1", context=CONTEXT) for s in SEEDS]
    again = [perturb_text(text, kind, seed=s, key="a:1", context=CONTEXT) for s in SEEDS]
    assert first == again
    assert len(set(first)) > 1
    assert any(out != text for out in first)


# --- each perturbation keeps the meaning ------------------------------------------------------


@pytest.mark.parametrize("text", MESSAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_amounts_parse_to_the_same_values_after_every_perturbation(kind: str, text: str) -> None:
    for out in _all(kind, text):
        assert _amounts(out) == _amounts(text), (text, out)
        assert parse_amount(out) == parse_amount(text), (text, out)


def test_typos_touch_only_longer_unprotected_words_keeping_their_first_letter() -> None:
    text = 'Please transfer 1200 dollars from Everyday to "Rainy Day" quickly, twenty today'
    seen_typo = False
    for out in _all("typos", text):
        before, after = _words(text), _words(out)
        assert len(after) == len(before)
        for old, new in zip(before, after, strict=True):
            if old != new:
                seen_typo = True
                assert len(old) >= 5 and old[0] == new[0], (old, new)
                assert old.lower() not in {"everyday", "dollars", "twenty"}
                assert not old.isdigit()
        assert '"Rainy Day"' in out and "Everyday" in out and "1200" in out
    assert seen_typo


def test_typos_never_touch_names_the_scenario_knows() -> None:
    sc = _scenario(["send money to Bartholomew Fitzgerald from Household"])
    for seed in SEEDS:
        changed, _ = perturb_scenario(sc, "typos", seed)
        said = changed.turns[0]["user"]
        assert "Bartholomew Fitzgerald" in said and "Household" in said


def test_a_typo_never_makes_a_number_month_or_known_name() -> None:
    for seed in range(400):
        out = typos("is there a monthly fee on checking?", random.Random(seed), CONTEXT)
        assert "three" not in out
        assert find_amounts(out) == []


def test_typos_leave_a_message_without_longer_words_alone() -> None:
    assert typos("pay Tom 30", random.Random(1), CONTEXT) == "pay Tom 30"


def test_case_changes_only_letter_case() -> None:
    styles = set()
    for text in MESSAGES[:6]:
        for out in _all("case", text):
            assert out.lower() == text.lower()
            styles.add("upper" if out == text.upper() else "lower" if out == text.lower() else "x")
    assert styles == {"upper", "lower", "x"}


def test_punctuation_keeps_every_word_and_number() -> None:
    text = "Yes, send $1,210.50 to Diego. How long will it take?"
    outs = _all("punctuation", text)
    for out in outs:
        assert _words(out) == _words(text)
        assert "$1,210.50" in out
    assert "Yes send $1,210.50 to Diego How long will it take" in outs
    assert any(out.endswith("??") for out in outs)


def test_punctuation_adds_a_mark_where_there_was_none() -> None:
    assert punctuation("what's my balance", random.Random(3), CONTEXT).startswith(
        "what's my balance?"
    )
    out = punctuation("move 200 to savings", random.Random(3), CONTEXT)
    assert out[:-1].rstrip(".") == "move 200 to savings" and out[-1] in ".!"


def test_fillers_only_add_words_around_the_message() -> None:
    for text in MESSAGES:
        for out in _all("fillers", text):
            core = re.sub(r"\W", "", text)
            assert core in re.sub(r"\W", "", out)
            extra = set(_words(out)) - set(_words(text))
            assert extra <= {"um", "like", "so", "hey", "please", "thanks"}, out


def test_a_refusal_never_gets_a_please() -> None:
    for seed in SEEDS:
        out = fillers("no", random.Random(seed), CONTEXT)
        assert "please" not in out


@pytest.mark.parametrize(
    ("text", "forms"),
    [
        ("pay Tom $50", {"50 dollars", "fifty dollars", "50.00", "$50.00"}),
        ("pay Tom 50 dollars", {"$50", "fifty dollars", "50.00", "$50.00"}),
        ("send $1,210.50", {"1210.50 dollars", "one thousand two hundred ten dollars and"}),
    ],
)
def test_numbers_write_the_amount_the_other_ways(text: str, forms: set[str]) -> None:
    outs = " | ".join(_all("numbers", text))
    for form in forms:
        assert form in outs.replace("1,210.50 dollars", "1210.50 dollars"), form


def test_numbers_read_a_bare_number_as_money_only_when_the_scenario_holds_that_amount() -> None:
    text = "move 200 from everyday to rainy day"
    assert all(out != text for out in _all("numbers", text))
    untouched = [
        "move 300 from everyday to rainy day",  # 300 is not an amount this scenario holds
        "every month starting on the 15th",
        "freeze the card ending in 4821",
        "show me the last 120 transactions",
        "in 120 days",
        "at 10:30",
    ]
    for text in untouched:
        assert set(_all("numbers", text)) == {text}


def test_numbers_keep_the_currency_the_amount_was_said_in() -> None:
    euro = Context(amounts=frozenset({Decimal("50")}), currency="EUR")
    for out in _all("numbers", "send €50 to Anna", euro) + _all("numbers", "send 50", euro):
        assert "$" not in out and "dollar" not in out
        assert parse_amount(out, default_currency="EUR") == parse_amount(
            "send €50", default_currency="EUR"
        )
    mixed = Context(amounts=frozenset({Decimal("50")}), currency=None)
    assert set(_all("numbers", "send 50", mixed)) <= {"send 50.00", "send fifty"}
    assert all("€" in out or "euro" in out for out in _all("numbers", "send €50", mixed))


def test_number_words() -> None:
    assert number_words(50) == "fifty"
    assert number_words(1210) == "one thousand two hundred ten"
    assert number_words(86) == "eighty-six"
    assert number_words(100_000) == "one hundred thousand"
    with pytest.raises(ValueError):
        number_words(1_000_000)
    for n in (2, 13, 99, 101, 999, 4321, 70_005, 999_999):
        assert parse_amount(f"{number_words(n)} dollars") == parse_amount(f"${n}")


def test_numbers_as_a_function_needs_no_scenario() -> None:
    assert numbers("pay 30", random.Random(0)) == "pay 30"  # no amounts known
    assert numbers("pay $30", random.Random(0)) != "pay $30"


def test_the_other_functions_as_functions() -> None:
    rng = random.Random(0)
    assert case("Hi", rng) != "Hi"
    assert fillers("", rng) == ""


# --- scenarios --------------------------------------------------------------------------------

SCENARIO = textwrap.dedent(
    """\
    id: pay-bart
    category: payment
    customer:
      name: Maya Patel
      accounts:
        - {ref: house, type: checking, name: Household, balance: "2450.00"}
      payees: [{ref: bart, name: Bartholomew Fitzgerald}]
      cards: [{ref: debit, type: debit, last4: "4821", account: house, status: active}]
    turns:
    TURNS
    expect:
      writes:
        - {kind: payment, from: house, payee: bart, amount: "120.00"}
      reply_includes: ["Bartholomew Fitzgerald"]
    """
)


def _scenario(turns: list[str], sid: str = "pay-bart") -> Scenario:
    lines = "".join(f"  - user: '{t}'\n" for t in turns) + "  - approve: true\n"
    text = SCENARIO.replace("turns:\nTURNS\n", "turns:\n" + lines).replace("pay-bart", sid)
    sc = parse(text, f"{sid}.yaml")
    sc.suite = "tiny"
    return sc


def test_context_knows_the_scenarios_names_amounts_and_card_digits() -> None:
    ctx = context_for(_scenario(["pay Bartholomew Fitzgerald 120"]))
    assert {"bartholomew", "fitzgerald", "household"} <= ctx.protected
    assert Decimal("120") in ctx.amounts and Decimal("2450") in ctx.amounts
    assert ctx.blocked == {Decimal("4821")} and ctx.currency == "USD"


@pytest.mark.parametrize("kind", KINDS)
def test_only_the_customers_messages_change(kind: str) -> None:
    sc = _scenario(["I would like to pay Bartholomew Fitzgerald 120 dollars please"])
    before = repr(sc.data)
    changed, pairs = perturb_scenario(sc, kind, seed=4)
    assert repr(sc.data) == before  # the original is left alone
    assert pairs and pairs[0][0] == sc.turns[0]["user"] and pairs[0][1] == changed.turns[0]["user"]
    assert changed.turns[1] == {"approve": True}
    assert changed.expect == sc.expect and changed.data["customer"] == sc.data["customer"]
    assert changed.id == sc.id and changed.suite == sc.suite


class _Result:
    def __init__(self, sid: str, passed: bool) -> None:
        self.id, self.passed = sid, passed
        self.reasons = [] if passed else ["missing write: payment"]


def test_run_perturbed_counts_broken_and_fixed_scenarios_and_reruns_only_changed_ones() -> None:
    steady = _scenario(["pay Bartholomew Fitzgerald 120"], "steady")
    fragile = _scenario(["pay Bartholomew Fitzgerald 120"], "fragile")
    healed = _scenario(["pay Bartholomew Fitzgerald 120"], "healed")
    quiet = _scenario(["120"], "quiet")  # nothing in it for "typos" to change
    clean = {
        "tiny/steady": [_Result("steady", True)],
        "tiny/fragile": [_Result("fragile", True)],
        "tiny/healed": [_Result("healed", False)],
        "tiny/quiet": [_Result("quiet", True)],
    }
    ran: list[str] = []

    def runner(sc: Scenario, run: int) -> _Result:
        ran.append(sc.id)
        assert sc.turns[0]["user"] != "pay Bartholomew Fitzgerald 120"
        return _Result(sc.id, sc.id in ("steady", "healed"))

    seen: list[str] = []
    out = run_perturbed(
        [steady, fragile, healed, quiet],
        runner,
        ["case"],
        seed=1,
        clean=clean,
        progress=lambda r: seen.append(r.id),
    )["case"]
    assert sorted(ran) == ["fragile", "healed", "steady"]
    assert out["passed"] == 3 and out["total"] == 4 and out["pass_rate"] == 0.75
    assert out["broken"] == ["tiny/fragile"] and out["fixed"] == ["tiny/healed"]
    assert out["examples"][0]["scenario"] == "tiny/fragile"
    assert out["examples"][0]["reasons"] == ["missing write: payment"]
    assert len(seen) == 4

    typo = run_perturbed([quiet], runner, ["typos"], seed=1, clean=clean)["typos"]
    assert typo["changed"] == 0 and typo["passed"] == 1 and typo["broken"] == []
