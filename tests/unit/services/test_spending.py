"""The one definition of personal spending, and its SQL form agreeing with it."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, MetaData, String, Table, create_engine, insert, select

from services.spending import (
    NOT_PURCHASE,
    NOT_SPENDING,
    business_where,
    flow_of,
    is_business_outgoing,
    is_spending,
    spending_where,
)


@pytest.mark.parametrize(
    ("category", "amount", "account_type", "flow"),
    [
        ("groceries", -6_200, "checking", "spending"),
        ("dining", -2_100, "credit_card", "spending"),
        ("housing", -180_000, "checking", "spending"),
        ("insurance", -14_200, "checking", "spending"),
        ("transfers", -5_000, "checking", "spending"),  # paying a friend
        ("cash", -6_000, "checking", "spending"),
        ("fees", -3_500, "checking", "spending"),
        ("groceries", -6_200, None, "spending"),  # an account the source did not name
        # paying the bank's own card, a savings move, a loan repayment: both legs
        ("transfer", -50_000, "checking", "own_move"),
        ("transfer", 50_000, "credit_card", "own_move"),
        ("transfer", 20_000, "savings", "own_move"),
        ("transfer", -100_000, "business_checking", "own_move"),  # the owner's draw
        ("transfer_out", -300_000, "checking", "move_out"),
        ("income", 250_000, "checking", "income"),
        ("income", -1_000, "checking", "other"),  # a salary recalled
        ("interest", -9_000, "mortgage", "other"),
        ("interest", 400, "savings", "other"),
        ("sales", 120_000, "business_checking", "other"),
        ("payroll", -400_000, "business_checking", "business"),
        ("supplies", -80_000, "business_checking", "business"),
        ("rent", -150_000, "business_checking", "business"),
        ("groceries", -6_200, "business_checking", "business"),
        ("payroll", -400_000, "checking", "business"),  # a sole trader paying staff privately
        ("groceries", 1_500, "checking", "other"),  # a refund does not net
        ("groceries", 0, "checking", "other"),  # a free trial's sign-up
    ],
)
def test_each_kind_of_entry_is_what_it_is(
    category: str, amount: int, account_type: str | None, flow: str
) -> None:
    assert flow_of(category, amount, account_type) == flow
    assert is_spending(category, amount, account_type) == (flow == "spending")
    assert is_business_outgoing(category, amount, account_type) == (flow == "business")


def test_nothing_that_moves_or_earns_money_is_spending() -> None:
    for category in ("transfer", "transfer_out", "income", "interest", "sales", "payroll"):
        assert category in NOT_SPENDING
        assert not is_spending(category, -100, "checking")
    assert NOT_SPENDING < NOT_PURCHASE
    assert {"fees", "housing", "loan"} <= NOT_PURCHASE


CASES = [
    ("groceries", "checking"),
    ("groceries", None),
    ("groceries", "business_checking"),
    ("transfer", "checking"),
    ("transfer", "business_checking"),
    ("transfer_out", "savings"),
    ("income", "checking"),
    ("interest", "mortgage"),
    ("payroll", "business_checking"),
    ("payroll", "checking"),
    ("supplies", "business_checking"),
    ("rent", "business_checking"),
    ("housing", "checking"),
    ("fees", "checking"),
    ("insurance", "checking"),
]


def test_the_sql_conditions_agree_with_the_definition() -> None:
    table = Table("entry", MetaData(), Column("category", String), Column("type", String))
    engine = create_engine("sqlite://")
    table.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(table), [{"category": c, "type": t} for c, t in CASES])
        spent = set(
            conn.execute(select(table).where(spending_where(table.c.category, table.c.type)))
        )
        business = set(
            conn.execute(select(table).where(business_where(table.c.category, table.c.type)))
        )
    assert spent == {(c, t) for c, t in CASES if is_spending(c, -1, t)}
    assert business == {(c, t) for c, t in CASES if is_business_outgoing(c, -1, t)}
    assert spent and business
