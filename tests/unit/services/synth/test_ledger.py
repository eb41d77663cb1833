from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.synth.ledger import Booked, Entry, Flow, settle, to_entries

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
DEPOSITS = {"checking", "savings", "business_checking"}
ACCOUNTS = {"checking": "checking", "savings": "savings", "credit_card": "credit_card"}


def at(day: int, hour: int = 0) -> datetime:
    return T0 + timedelta(days=day, hours=hour)


def flow(day: int, account: str, amount: int | None, **kw: object) -> Flow:
    return Flow(at(day), account, amount, "test", "card", **kw)  # type: ignore[arg-type]


def pair(day: int, src: str, dst: str, amount: int | None, target: int | None = None) -> list[Flow]:
    """Both legs of a transfer, shaped like ``services.synth.flows.transfer``."""
    out = Flow(
        at(day), src, None if amount is None else -amount, "transfer", "transfer", target=target
    )
    into = Flow(at(day), dst, amount, "transfer", "transfer")
    out.pair = into
    return [out, into]


def of(booked: list[Booked], account: str) -> list[Booked]:
    return [b for b in booked if b.flow.account == account]


def was_booked(booked: list[Booked], f: Flow) -> bool:
    return any(b.flow is f for b in booked)


# --- opening balance and mandatory flows -------------------------------------------------------


def test_opening_is_raised_so_mandatory_debits_never_overdraw() -> None:
    rent, salary = flow(1, "checking", -1000), flow(2, "checking", 2000)
    bill = flow(3, "checking", -2500)
    booked, closing, used = settle(
        [bill, salary, rent], {"checking": "checking"}, {"checking": 100}
    )
    # Rent takes 1000 and the bill 2500 after a 2000 salary: 1500 is needed up front.
    assert used == {"checking": 1500}
    assert [(b.flow, b.amount, b.balance_after) for b in booked] == [
        (rent, -1000, 500),
        (salary, 2000, 2500),
        (bill, -2500, 0),
    ]
    assert closing == {"checking": 0}


def test_opening_is_kept_when_it_already_covers_the_mandatory_flows() -> None:
    flows = [flow(1, "checking", -300), flow(2, "checking", 500)]
    booked, closing, used = settle(flows, {"checking": "checking"}, {"checking": 1000})
    assert used == {"checking": 1000}
    assert [b.balance_after for b in booked] == [700, 1200]
    assert closing == {"checking": 1200}


def test_missing_or_negative_opening_starts_at_what_is_needed() -> None:
    flows = [flow(1, "savings", -400), flow(2, "savings", -100)]
    _, closing, used = settle(flows, {"savings": "savings"}, {})
    assert used == {"savings": 500}
    assert closing == {"savings": 0}
    _, closing, used = settle(flows, {"savings": "savings"}, {"savings": -50})
    assert used == {"savings": 500}


# --- discretionary spending --------------------------------------------------------------------


def test_discretionary_debit_that_would_eat_rent_money_is_skipped() -> None:
    shoes = flow(1, "checking", -300, mandatory=False)
    lunch = flow(2, "checking", -200, mandatory=False)
    rent = flow(3, "checking", -800)
    booked, closing, used = settle(
        [rent, lunch, shoes], {"checking": "checking"}, {"checking": 1000}
    )
    # 1000 - 300 leaves 700 < 800 for rent: the shoes are not bought; lunch (leaves 800) is.
    assert [b.flow for b in booked] == [lunch, rent]
    assert [b.balance_after for b in booked] == [800, 0]
    assert used == {"checking": 1000}
    assert closing == {"checking": 0}


def test_discretionary_debits_do_not_raise_the_opening() -> None:
    spree = [flow(d, "checking", -500, mandatory=False) for d in range(1, 4)]
    booked, closing, used = settle(spree, {"checking": "checking"}, {"checking": 1200})
    assert used == {"checking": 1200}
    assert [b.balance_after for b in booked] == [700, 200]  # the third would go negative
    assert closing == {"checking": 200}


def test_discretionary_debit_after_the_last_bill_may_spend_down_to_zero() -> None:
    flows = [flow(1, "checking", -600), flow(2, "checking", -400, mandatory=False)]
    booked, closing, _ = settle(flows, {"checking": "checking"}, {"checking": 1000})
    assert [b.amount for b in booked] == [-600, -400]
    assert closing == {"checking": 0}


# --- running balances and closing ----------------------------------------------------------------


def test_balance_after_is_a_running_sum_and_closing_adds_up() -> None:
    amounts = [2500, -700, -1200, 300, -50]
    flows = [flow(i, "checking", a) for i, a in enumerate(amounts)]
    booked, closing, used = settle(flows, {"checking": "checking"}, {"checking": 0})
    running, expected = used["checking"], []
    for a in amounts:
        running += a
        expected.append(running)
    assert [b.balance_after for b in booked] == expected
    assert closing["checking"] == used["checking"] + sum(amounts)


def test_booked_entries_come_out_in_time_order_across_accounts() -> None:
    flows = [
        flow(3, "checking", 10),
        flow(1, "credit_card", -5),
        flow(2, "savings", 7),
        flow(0, "checking", 1),
    ]
    booked, _, _ = settle(flows, ACCOUNTS, {})
    assert [b.flow.at for b in booked] == sorted(f.at for f in flows)


# --- non-deposit accounts ----------------------------------------------------------------------


def test_credit_card_may_go_negative_and_never_skips() -> None:
    flows = [
        flow(1, "credit_card", -500, mandatory=False),
        flow(2, "credit_card", -200),
        flow(3, "credit_card", -900, mandatory=False),
    ]
    booked, closing, used = settle(flows, {"credit_card": "credit_card"}, {"credit_card": 0})
    assert [b.balance_after for b in booked] == [-500, -700, -1600]
    assert used == {"credit_card": 0}  # a card's opening is never raised
    assert closing == {"credit_card": -1600}


# --- targets -----------------------------------------------------------------------------------


def test_target_sets_an_overdraft() -> None:
    overdraw = flow(5, "checking", None, target=-5000, merchant="Best Buy")
    booked, closing, _ = settle(
        [flow(1, "checking", -300), overdraw], {"checking": "checking"}, {"checking": 1000}
    )
    assert [(b.amount, b.balance_after) for b in booked] == [(-300, 700), (-5700, -5000)]
    assert closing == {"checking": -5000}


@pytest.mark.parametrize("target", [1000, 1500])
def test_target_is_skipped_when_balance_is_already_at_or_below_it(target: int) -> None:
    drain = flow(5, "checking", None, target=target)
    booked, closing, _ = settle([drain], {"checking": "checking"}, {"checking": 1000})
    assert booked == []
    assert closing == {"checking": 1000}


def test_flows_after_a_drain_are_booked_as_they_come() -> None:
    # A planted overdraft: the account is drained, then a bill arrives and overdraws it.
    drain = flow(1, "checking", None, target=0)
    treat = flow(2, "checking", -5, mandatory=False)
    bill = flow(3, "checking", -700)
    booked, closing, used = settle(
        [bill, treat, drain], {"checking": "checking"}, {"checking": 100}
    )
    assert used == {"checking": 100}  # the bill after the drain does not raise the opening
    assert [(b.flow, b.amount, b.balance_after) for b in booked] == [
        (drain, -100, 0),
        (bill, -700, -700),
    ]
    assert closing == {"checking": -700}


def test_mandatory_flows_before_a_drain_still_raise_the_opening() -> None:
    rent, drain = flow(1, "checking", -900), flow(2, "checking", None, target=50)
    booked, closing, used = settle([drain, rent], {"checking": "checking"}, {"checking": 0})
    assert used == {"checking": 900}
    assert [b.balance_after for b in booked] == [0]  # already below the target: no drain
    assert closing == {"checking": 0}


# --- transfers between own accounts -------------------------------------------------------------


def test_transfer_to_target_resolves_the_other_leg_to_the_exact_negative() -> None:
    out, into = pair(4, "checking", "savings", None, target=2500)
    # Savings listed first: checking must still be settled first so the savings leg is known.
    accounts = {"savings": "savings", "checking": "checking"}
    booked, closing, _ = settle([into, out], accounts, {"checking": 10000, "savings": 300})
    amounts = {b.flow.account: b.amount for b in booked}
    assert amounts == {"checking": -7500, "savings": 7500}
    assert amounts["checking"] + amounts["savings"] == 0
    assert closing == {"checking": 2500, "savings": 7800}


def test_transfer_to_target_not_made_leaves_no_savings_leg() -> None:
    out, into = pair(4, "checking", "savings", None, target=2500)
    booked, closing, _ = settle([out, into], ACCOUNTS, {"checking": 2000, "savings": 300})
    assert booked == []
    assert closing == {"checking": 2000, "savings": 300, "credit_card": 0}


def test_resolved_savings_leg_feeds_later_savings_needs() -> None:
    # The savings withdrawal is only affordable thanks to the resolved incoming leg.
    out, into = pair(1, "checking", "savings", None, target=0)
    spend = flow(2, "savings", -3000)
    booked, closing, used = settle([out, into, spend], ACCOUNTS, {"checking": 3000, "savings": 0})
    assert used["savings"] == 0
    assert [b.balance_after for b in of(booked, "savings")] == [3000, 0]
    assert closing["savings"] == 0


def test_fixed_transfer_from_savings_raises_savings_opening() -> None:
    out, into = pair(2, "savings", "checking", 4000)
    booked, closing, used = settle([out, into], ACCOUNTS, {"checking": 0, "savings": 1000})
    assert used["savings"] == 4000
    assert sum(b.amount for b in booked) == 0
    assert closing["checking"] == 4000 and closing["savings"] == 0


# --- to_entries --------------------------------------------------------------------------------


def test_to_entries_flattens_booked_flows() -> None:
    f = Flow(
        at(1),
        "checking",
        -1250,
        "groceries",
        "card",
        merchant="Kroger",
        counterparty="cp",
        description="KROGER #12",
        series="s1",
    )
    booked, _, _ = settle([f], {"checking": "checking"}, {"checking": 5000})
    assert to_entries(booked) == [
        Entry(
            account="checking",
            booked_at=at(1),
            amount=-1250,
            merchant="Kroger",
            category="groceries",
            channel="card",
            counterparty="cp",
            description="KROGER #12",
            balance_after=3750,
            series="s1",
        )
    ]
    assert to_entries([]) == []


def test_to_entries_uses_the_booked_amount_not_the_planned_one() -> None:
    drain = flow(1, "checking", None, target=100)
    (entry,) = to_entries(settle([drain], {"checking": "checking"}, {"checking": 900})[0])
    assert (entry.amount, entry.balance_after) == (-800, 100)


# --- property test -----------------------------------------------------------------------------


@dataclass
class Plan:
    flows: list[Flow]
    pairs: list[tuple[Flow, Flow]]
    opening: dict[str, int]


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    flows: list[Flow] = []
    for _ in range(draw(st.integers(0, 25))):
        account = draw(st.sampled_from(sorted(ACCOUNTS)))
        amount = draw(st.integers(-50_000, 50_000))
        flows.append(flow(0, account, amount, mandatory=draw(st.booleans())))
        flows[-1].at = at(0, draw(st.integers(0, 24 * 30)))  # same-hour ties happen on purpose
    pairs: list[tuple[Flow, Flow]] = []
    for _ in range(draw(st.integers(0, 5))):
        src, dst = draw(st.permutations(["checking", "savings"]))
        out, into = pair(0, src, dst, draw(st.integers(1, 50_000)))
        out.at = into.at = at(0, draw(st.integers(0, 24 * 30)))
        pairs.append((out, into))
        flows += [out, into]
    if draw(st.booleans()):  # an end-of-period sweep of checking down to a target
        out, into = pair(31, "checking", "savings", None, target=draw(st.integers(0, 50_000)))
        pairs.append((out, into))
        flows += [out, into]
    order = draw(st.permutations(range(len(flows))))
    opening = {k: draw(st.integers(-20_000, 100_000)) for k in ACCOUNTS if draw(st.booleans())}
    return Plan([flows[i] for i in order], pairs, opening)


def _balances(start: int, amounts: list[int]) -> list[int]:
    out = []
    for a in amounts:
        start += a
        out.append(start)
    return out


@settings(max_examples=200, deadline=None)
@given(plans())
def test_settle_properties(plan: Plan) -> None:
    booked, closing, used = settle(plan.flows, ACCOUNTS, plan.opening)
    booked_amount = {id(b.flow): b.amount for b in booked}

    assert set(closing) == set(used) == set(ACCOUNTS)
    assert [b.flow.at for b in booked] == sorted(b.flow.at for b in booked)
    assert len({id(b.flow) for b in booked}) == len(booked)  # nothing booked twice

    for key, kind in ACCOUNTS.items():
        mine = of(booked, key)
        amounts = [b.amount for b in mine]
        assert [b.balance_after for b in mine] == _balances(used[key], amounts)
        assert closing[key] == used[key] + sum(amounts)
        planned = sorted((f for f in plan.flows if f.account == key), key=lambda f: f.at)

        if kind not in DEPOSITS:
            assert used[key] == plan.opening.get(key, 0)
            assert [b.flow for b in mine] == planned  # cards never skip
            continue

        assert all(b.balance_after >= 0 for b in mine)
        # Every mandatory flow of known amount is booked as planned.
        for f in planned:
            if f.mandatory and f.amount is not None and f.target is None:
                assert was_booked(mine, f)
        for b in mine:
            if b.flow.amount is not None:
                assert b.amount == b.flow.amount
        # The opening is raised exactly as far as the mandatory flows need and no further.
        mandatory = [b.amount for b in mine if b.flow.mandatory and b.flow.target is None]
        need = max([0] + [-x for x in _balances(0, mandatory)])
        assert used[key] == max(plan.opening.get(key, 0), need)
        # A discretionary debit is only skipped when booking it would overdraw the account,
        # not counting on discretionary income (a careful customer doesn't).
        regular = [f for f in planned if f.target is None]
        for i, f in enumerate(regular):
            if f.mandatory or was_booked(mine, f):
                continue
            assert f.amount is not None and f.amount < 0
            with_it = [
                f.amount if j == i else booked_amount[id(g)]
                for j, g in enumerate(regular)
                if j == i or (id(g) in booked_amount and (g.mandatory or booked_amount[id(g)] < 0))
            ]
            assert min(_balances(used[key], with_it)) < 0

    for out, into in plan.pairs:
        legs = [b.amount for b in booked if b.flow is out or b.flow is into]
        assert len(legs) in (0, 2)
        assert sum(legs) == 0
        if out.target is None:
            assert len(legs) == 2  # fixed, mandatory transfers are always made
