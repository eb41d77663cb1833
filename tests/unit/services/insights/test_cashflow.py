"""Money due and arriving: maturing deposits, paydays, bill reminders, balance forecasts."""

from __future__ import annotations

from datetime import timedelta

from services.insights.cashflow import deposit_maturing, paycheck_landed, upcoming_bills
from services.insights.forecast import business_cash_shortfall, low_balance_forecast
from services.insights.history import AccountRow, TransferRow
from tests.support.insight_book import (
    CARD,
    CHECKING,
    NOW,
    SAVINGS,
    TODAY,
    Book,
    savings_rule,
    series,
)

# --- deposit maturing ---------------------------------------------------------------------


def _cd(days: int) -> AccountRow:
    return AccountRow(
        5,
        "term_deposit",
        "12-Month CD",
        1_500_000,
        maturity_date=TODAY + timedelta(days=days),
        term_months=12,
        interest_rate_bps=450,
    )


def test_a_cd_maturing_within_30_days_offers_renew_and_reinvest() -> None:
    [found] = deposit_maturing(Book().history(accounts=(CHECKING, _cd(20))), NOW)
    assert found.evidence == ("account:5",) and found.suggested_action == "cd_renewal"
    assert found.data["days_left"] == 20 and found.data["balance_minor"] == 1_500_000
    actions = [o["action"] for o in found.data["options"]]
    assert actions == ["renew", "reinvest", "move_to_savings"]
    assert found.data["options"][0] == {"action": "renew", "term_months": 12, "rate_bps": 450}
    assert "$15,000.00" in found.message and "Dec 18" in found.message


def test_a_cd_maturing_in_45_days_or_already_matured_waits() -> None:
    for days in (45, -1):
        assert deposit_maturing(Book().history(accounts=(CHECKING, _cd(days))), NOW) == []


def test_a_cd_maturing_within_a_week_is_a_warning() -> None:
    [found] = deposit_maturing(Book().history(accounts=(_cd(5),)), NOW)
    assert found.severity == "warning"


# --- paycheck landed ----------------------------------------------------------------------


def test_paycheck_reminds_of_the_savings_rule_and_its_amount() -> None:
    book = Book()
    pay = book.add(1.2, 250_000, "Acme Corp Payroll", category="income", channel="ach")
    [found] = paycheck_landed(book.history(transfers=(savings_rule(25_000),)), NOW)
    assert found.evidence == (f"ledger:{pay.id}", "schedule:7")
    assert found.data["savings_rule_minor"] == 25_000 and found.data["amount_minor"] == 250_000
    assert "$2,500.00" in found.message and "$250.00 aside" in found.message
    assert found.suggested_action == "savings_rule"


def test_paycheck_without_a_rule_suggests_one() -> None:
    book = Book()
    book.add(0.2, 180_000, "Globex Payroll", category="income", channel="ach")
    [found] = paycheck_landed(book.history(), NOW)
    assert found.data["savings_rule_minor"] is None
    assert "savings rule could" in found.message


def test_a_paycheck_five_days_ago_or_a_friend_paying_back_is_not_payday() -> None:
    book = Book()
    book.add(5, 250_000, "Acme Corp Payroll", category="income", channel="ach")
    book.add(1, 4_000, None, category="transfers", channel="p2p")
    inactive = TransferRow(8, 1, 3, 10_000, "savings_rule", "payday", None, False)
    assert paycheck_landed(book.history(transfers=(inactive,)), NOW) == []


# --- upcoming bills -----------------------------------------------------------------------


def test_bills_due_within_five_days_in_one_reminder() -> None:
    bills = (
        series(11, "bill", -12_000, 3, merchant="City Power & Light"),
        series(12, "subscription", -1599, 5, merchant="StreamFlix", account=2),
        series(13, "bill", -8_500, 6, merchant="Verizon Wireless"),  # a day too far
        series(14, "salary", 250_000, 2, merchant="Acme Corp Payroll"),  # money in
        series(15, "bill", -4_500, 2, merchant="Metro Water", active=False),
    )
    [found] = upcoming_bills(Book().history(series=bills), NOW)
    assert found.evidence == ("series:11", "series:12")
    assert found.data["total_minor"] == 13_599
    assert "City Power & Light $120.00 on Dec 01" in found.message
    assert found.suggested_action == "bill_reminders"


def test_no_bills_due_no_reminder() -> None:
    assert upcoming_bills(Book().history(series=(series(11, "bill", -100, 9),)), NOW) == []


# --- balance forecast ---------------------------------------------------------------------


def _checking(balance: int) -> AccountRow:
    return CHECKING._replace(balance_minor=balance)


def test_rent_due_with_too_little_in_checking() -> None:
    rent = series(21, "rent", -150_000, 3, merchant="Greystar", category="housing")
    history = Book().history(accounts=(_checking(20_000), SAVINGS), series=(rent,))
    [found] = low_balance_forecast(history, NOW)
    assert found.evidence == ("account:1", "series:21")
    assert found.data["low_minor"] == -130_000 and found.data["low_on"] == "2026-12-01"
    assert found.suggested_action == "overdraft_protection"


def test_plenty_in_checking_is_no_worry() -> None:
    rent = series(21, "rent", -150_000, 3, category="housing")
    assert (
        low_balance_forecast(Book().history(accounts=(_checking(500_000),), series=(rent,)), NOW)
        == []
    )


def test_a_paycheck_landing_two_days_before_the_bill_covers_it() -> None:
    rent = series(21, "rent", -150_000, 4, category="housing")
    pay = series(22, "salary", 300_000, 1, category="income", cadence="biweekly")
    history = Book().history(accounts=(_checking(20_000),), series=(rent, pay))
    assert low_balance_forecast(history, NOW) == []


def test_a_transfer_to_own_savings_is_declined_not_overdrawn() -> None:
    standing = TransferRow(9, 1, 3, 100_000, "recurring", "monthly", TODAY + timedelta(days=2))
    history = Book().history(accounts=(_checking(20_000), SAVINGS), transfers=(standing,))
    assert low_balance_forecast(history, NOW) == []


def test_everyday_spending_alone_can_empty_the_account() -> None:
    book = Book()
    for day in range(1, 57):
        book.add(day, -2_000, "Kroger", category="groceries")
    history = book.history(accounts=(_checking(10_000), CARD))
    [found] = low_balance_forecast(history, NOW)
    assert found.data["daily_spend_minor"] == 2_000 and found.data["low_minor"] == -4_000


def test_overdrawn_already_only_warns_when_a_bill_is_coming() -> None:
    overdrawn = _checking(-12_000)
    assert low_balance_forecast(Book().history(accounts=(overdrawn,)), NOW) == []
    bill = series(23, "bill", -8_000, 2)
    [found] = low_balance_forecast(Book().history(accounts=(overdrawn,), series=(bill,)), NOW)
    assert found.severity == "critical" and found.evidence == ("account:1", "series:23")


# --- small-business cash shortfall --------------------------------------------------------

BUSINESS = AccountRow(8, "business_checking", "Business Checking", 0)


def _business(book: Book, takings: list[int], costs: int, balance: int) -> AccountRow:
    """Daily takings (oldest first, ending yesterday) and the same costs every day."""
    for k, amount in enumerate(takings):
        days = len(takings) - k
        book.add(days + 0.3, amount, "Square Deposit", category="sales", channel="ach", account=8)
        book.add(days + 0.2, -costs, "Sysco", category="supplies", channel="ach", account=8)
    return BUSINESS._replace(balance_minor=balance)


def test_falling_takings_run_the_business_out_of_cash() -> None:
    book = Book()
    takings = [100_000] * 60 + [100_000 - 700 * d for d in range(90)]  # down to a third
    account = _business(book, takings, costs=90_000, balance=300_000)
    [found] = business_cash_shortfall(book.history(accounts=(CHECKING, account)), NOW)
    assert found.evidence == ("account:8",) and found.data["days_left"] <= 60
    assert found.data["takings_minor"][0] > found.data["takings_minor"][-1]
    assert found.suggested_action == "business_line_of_credit"


def test_a_healthy_business_with_a_thin_balance_is_fine() -> None:
    book = Book()
    account = _business(book, [100_000] * 150, costs=80_000, balance=5_000)
    assert business_cash_shortfall(book.history(accounts=(account,)), NOW) == []


def test_a_dip_in_takings_that_still_covers_costs_is_fine() -> None:
    book = Book()
    takings = [200_000] * 60 + [200_000 - 500 * d for d in range(90)]  # down a fifth
    account = _business(book, takings, costs=100_000, balance=2_000_000)
    assert business_cash_shortfall(book.history(accounts=(account,)), NOW) == []


def test_a_new_business_account_has_no_trend_yet() -> None:
    book = Book()
    account = _business(book, [10_000] * 30, costs=90_000, balance=50_000)
    assert business_cash_shortfall(book.history(accounts=(account,)), NOW) == []
