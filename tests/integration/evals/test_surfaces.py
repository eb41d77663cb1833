"""The customer-surface scan: it reads every page and chat frame, and it finds what it should."""

from __future__ import annotations

from pathlib import Path

from evals.surfaces import CHAT, ROUTES, Tally, run_surfaces_eval


def test_a_small_bank_shows_its_customers_no_codes_verdicts_or_second_money_format(
    tmp_path: Path, classifier_dir: Path
) -> None:
    result = run_surfaces_eval(
        customers=6, seed=3, chat=CHAT[:3], folder=tmp_path, nlu_model=classifier_dir
    )
    assert result["http_answers"] == 6 * len(ROUTES) and result["chat_turns"] == 6 * 3
    assert result["amounts_shown"] > 0 and result["strings"] > 100  # it did read the surfaces
    assert result["findings"] == 0, result["examples"]


def test_the_tally_counts_each_kind_of_finding_with_where_it_was() -> None:
    tally = Tally()
    tally.scan("dashboard", {"why": "Because insight:churn_risk and more", "code": "churn_risk"})
    tally.scan("reply", "Signs this customer may be leaving; you spent 1,488.44 USD there")
    tally.scan("card", {"body": "You were charged 12.50 at Cafe twice"})
    tally.scan("fine", {"body": "You spent $1,488.44 at Cafe, up 12% on last month"})
    # churn (inside the code), "signs this customer", "may be leaving"; "1,488.44 USD" is both a
    # code-after and a bare amount, "12.50" a bare one; the code's id field is not read
    assert tally.kinds == {"code": 1, "bank-only": 3, "money": 3}
    assert any(e.startswith("dashboard why: code: insight:c") for e in tally.examples)
    assert tally.amounts == 1
