"""All detectors together: the registry, the ordering, and the contract every insight keeps."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.insights import INSIGHT_TYPES, PLANTED_SITUATION, PLANTED_WHEN, Insight
from services.insights.detectors import DETECTORS, detect_all
from services.insights.history import AccountRow, History
from tests.support.insight_book import (
    CHECKING,
    NOW,
    SAVINGS,
    TODAY,
    Book,
    savings_rule,
    series,
)

PREFIXES = ("ledger:", "event:", "account:", "series:", "schedule:", "holding:")


def _busy_history() -> History:
    """One customer with something for most detectors to say."""
    book = Book()
    book.everyday()
    book.add(4, -129_900, "Best Buy")
    at = NOW - timedelta(days=2, hours=3)
    book.add(at, -2345, "Chipotle", category="dining")
    book.add(at + timedelta(minutes=2), -2345, "Chipotle", category="dining")
    book.add(1, 250_000, "Acme Corp Payroll", category="income", channel="ach")
    cd = AccountRow(5, "term_deposit", "6-Month CD", 800_000, maturity_date=TODAY + timedelta(9))
    rent = series(21, "rent", -300_000, 3, merchant="Greystar", category="housing")
    return book.history(
        accounts=(CHECKING, SAVINGS, cd), series=(rent,), transfers=(savings_rule(),)
    )


def test_every_insight_type_has_a_detector_and_every_twin_a_type() -> None:
    assert set(DETECTORS) == set(INSIGHT_TYPES)
    assert set(PLANTED_SITUATION) <= set(INSIGHT_TYPES)
    assert set(PLANTED_WHEN) <= set(PLANTED_SITUATION)


def test_detect_all_runs_every_detector_most_severe_first() -> None:
    found = detect_all(_busy_history(), NOW)
    kinds = [i.type for i in found]
    assert set(kinds) == {
        "large_transaction",
        "duplicate_charge",
        "deposit_maturing",
        "paycheck_landed",
        "upcoming_bills",
        "low_balance_forecast",
    }
    ranks = [("critical", "warning", "info").index(i.severity) for i in found]
    assert ranks == sorted(ranks)
    assert detect_all(_busy_history(), NOW) == found  # the same history, the same answer


def _money_fields(data: dict[str, Any]) -> list[tuple[str, Any]]:
    out = []
    for key, value in data.items():
        if isinstance(value, dict):
            out += _money_fields(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    out += _money_fields(item)
        elif key.endswith("_minor"):
            out.append((key, value))
    return out


def test_every_insight_keeps_the_contract() -> None:
    found: list[Insight] = detect_all(_busy_history(), NOW)
    for insight in found:
        assert insight.suggested_action == INSIGHT_TYPES[insight.type]
        assert insight.detected_at == NOW and insight.message.endswith(".")
        assert insight.evidence and all(e.startswith(PREFIXES) for e in insight.evidence)
        for key, value in _money_fields(insight.data):
            assert value is None or type(value) is int, (insight.type, key, value)
        assert "$" in insight.message and "USD" not in insight.message  # as customers read it


def test_an_empty_history_says_nothing() -> None:
    assert detect_all(History(person_id=1), NOW) == []
