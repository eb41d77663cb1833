"""Where a customer is heading: a drifting portfolio, leaving the bank, buying a home."""

from __future__ import annotations

from datetime import timedelta

from services.insights.history import AccountRow, EventRow, History, HoldingRow, SeriesRow
from services.insights.life import (
    CHURN_THRESHOLD,
    churn_risk,
    churn_signals,
    home_buying,
    portfolio_drift,
)
from tests.support.insight_book import (
    CHECKING,
    NOW,
    SAVINGS,
    Book,
    event,
    monthly,
    series,
)

# --- portfolio drift ----------------------------------------------------------------------

INVEST = AccountRow(
    6,
    "investment",
    "Invest Account",
    1_000_000,
    risk_tolerance="moderate",
    target_allocation={"equity": 60, "bond": 35, "cash": 5},
)


def _holdings(equity: int, bond: int, cash: int) -> tuple[HoldingRow, ...]:
    return (
        HoldingRow(1, 6, "VTI", "equity", equity),
        HoldingRow(2, 6, "BND", "bond", bond),
        HoldingRow(3, 6, "SPAXX", "cash", cash),
    )


def test_equity_far_above_target_is_riskier_than_asked() -> None:
    history = Book().history(accounts=(INVEST,), holdings=_holdings(780_000, 170_000, 50_000))
    [found] = portfolio_drift(history, NOW)
    assert found.severity == "warning" and found.suggested_action == "portfolio_review"
    assert found.data["drift_pp"]["equity"] == 18.0 and found.data["risk_tolerance"] == "moderate"
    assert found.evidence[0] == "account:6" and "holding:1" in found.evidence
    assert "78% equity" in found.message and "riskier" in found.message


def test_drift_the_other_way_is_more_cautious() -> None:
    history = Book().history(accounts=(INVEST,), holdings=_holdings(450_000, 500_000, 50_000))
    [found] = portfolio_drift(history, NOW)
    assert found.severity == "info" and "more cautious" in found.message


def test_drift_inside_the_band_is_left_alone() -> None:
    for mix in ((680_000, 270_000, 50_000), (600_000, 350_000, 50_000)):
        history = Book().history(accounts=(INVEST,), holdings=_holdings(*mix))
        assert portfolio_drift(history, NOW) == []


# --- churn risk ---------------------------------------------------------------------------


def _history(*, salary_stops: bool, moves_money: bool, logins_fall: bool) -> History:
    """A year of monthly pay and a login every three days, with the churn signals asked for."""
    book = Book()
    for at in monthly(1, 12):
        if not (salary_stops and (NOW - at).days <= 62):  # the last two paydays never came
            book.add(at, 300_000, "Acme Corp Payroll", category="income", channel="ach")
    if moves_money:
        for days in (50, 30, 9):
            book.add(days, -200_000, None, category="transfer_out", channel="transfer")
    login_days = [d for d in range(358, 1, -3) if not (logins_fall and d < 60)]
    if logins_fall:
        login_days.append(20)
    logins = tuple(event(i, d, "login", "/home", f"s{i}") for i, d in enumerate(login_days))
    return book.history(
        accounts=(CHECKING._replace(balance_minor=80_000), SAVINGS._replace(balance_minor=0)),
        events=logins,
    )


def test_salary_gone_money_leaving_and_logins_falling_is_churn() -> None:
    history = _history(salary_stops=True, moves_money=True, logins_fall=True)
    [found] = churn_risk(history, NOW)
    assert found.data["score"] == 1.0 and found.data["threshold"] == CHURN_THRESHOLD
    assert found.data["moved_out_minor"] == 600_000
    assert len(found.evidence) == 5  # three transfers out, the last paycheck, the last login
    assert found.suggested_action == "loyalty_bonus"


def test_two_signals_with_money_in_them_are_enough() -> None:
    history = _history(salary_stops=False, moves_money=True, logins_fall=True)
    [found] = churn_risk(history, NOW)
    assert found.data["salary_stopped"] is False and found.data["score"] == 0.6


def test_a_quiet_spell_or_a_lost_job_alone_is_not_churn() -> None:
    quiet = _history(salary_stops=False, moves_money=False, logins_fall=True)
    jobless = _history(salary_stops=True, moves_money=False, logins_fall=False)
    steady = _history(salary_stops=False, moves_money=False, logins_fall=False)
    for history in (quiet, jobless, steady):
        assert churn_risk(history, NOW) == []
    assert churn_signals(jobless, NOW)["salary_stopped"] is True
    assert churn_signals(quiet, NOW)["logins_falling"] is True


# --- home buying --------------------------------------------------------------------------


def _research(sessions: int) -> tuple[EventRow, ...]:
    pages = [("page_view", "/mortgages/rates"), ("calculator", "/mortgages/calculator")]
    return tuple(
        event(i, 3 + 6 * i, kind, page, f"m{i}", detail="mortgage")
        for i, (kind, page) in enumerate((pages * sessions)[:sessions])
    )


def _lease(days_left: int) -> SeriesRow:
    return series(
        31,
        "rent",
        -180_000,
        3,
        merchant="Greystar",
        category="housing",
        ends_on=NOW.date() + timedelta(days=days_left),
    )


def test_mortgage_research_with_the_lease_ending_is_a_home_buyer() -> None:
    history = Book().history(series=(_lease(60),), events=_research(4))
    [found] = home_buying(history, NOW)
    assert found.data["research_sessions"] == 4 and found.data["used_calculator"] is True
    assert found.evidence[0] == "series:31" and found.suggested_action == "mortgage_preapproval"
    assert "lease ends on Jan 27" in found.message


def test_research_with_a_lease_far_off_or_one_curious_look_is_not() -> None:
    far = Book().history(series=(_lease(240),), events=_research(5))
    curious = Book().history(series=(_lease(45),), events=_research(1))
    owner = Book().history(events=_research(5))  # no lease: already owns, or lives with family
    for history in (far, curious, owner):
        assert home_buying(history, NOW) == []
