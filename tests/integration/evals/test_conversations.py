"""The conversation evaluation harness: scenarios that must fail do, with the right reasons.

Scenarios run through the real graph with the offline model (the session's classifier) on a
fresh bank each; the schema reports file, line and field; pass^k is checked with a fake runner.
"""

from __future__ import annotations

import base64
import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evals.conversations import ConversationRunner, Options, ScenarioResult, run_suite
from evals.report import write_comparison, write_report
from evals.scenario import Scenario, ScenarioError, load_suite, parse

BASE = textwrap.dedent(
    """\
    id: {id}
    category: transfer
    now: "2026-03-02T10:00:00Z"
    customer:
      name: Maya Patel
      accounts:
        - {{ref: everyday, type: checking, name: Everyday, balance: "2450.00", currency: USD}}
        - {{ref: rainy, type: savings, name: Rainy Day, balance: "1200.00"}}
      payees: [{{ref: tom, name: Tom Baker}}]
      cards: [{{ref: debit, type: debit, last4: "4821", account: everyday, status: active}}]
    turns:
      - user: move 200 from everyday to savings
        expect: {{confirmation_required: true}}
      - approve: true
    expect:
    {expect}
    """
)
GOOD = """\
  state:
    balances: {everyday: "2250.00", rainy: "1400.00"}
    cards: {debit: active}
  writes:
    - {kind: transfer, from: everyday, to: rainy, amount: "200.00"}
  confirmations: 1
  reply_includes: ["1,400.00"]
  never_includes: ["Tom Baker"]"""


def scenario(sid: str, expect: str) -> Scenario:
    return parse(BASE.format(id=sid, expect=expect.strip("\n")), f"{sid}.yaml")


@pytest.fixture(scope="module")
def runner(classifier_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    run = ConversationRunner(
        Options(nlu_model=classifier_dir, workdir=tmp_path_factory.mktemp("eval-conv"))
    )
    yield run
    run.close()


def test_a_correct_scenario_passes(runner: ConversationRunner) -> None:
    result = runner(scenario("good", GOOD))
    assert result.passed, result.reasons
    assert result.writes == [
        {"kind": "transfer", "from": "everyday", "to": "rainy", "amount": "200.00"}
    ]
    assert result.confirmations == 1 and len(result.latencies_ms) == 2


def test_a_wrong_expected_balance_is_reported(runner: ConversationRunner) -> None:
    result = runner(scenario("bad-balance", GOOD.replace('"2250.00"', '"2300.00"')))
    assert not result.passed
    assert result.reasons == ["balance of everyday: expected 2300.00, got 2250.00"]


def test_a_write_that_should_not_happen_is_reported(runner: ConversationRunner) -> None:
    expect = GOOD.replace(
        '  writes:\n    - {kind: transfer, from: everyday, to: rainy, amount: "200.00"}',
        "  writes: []",
    )
    result = runner(scenario("bad-write", expect))
    assert result.reasons == ["unexpected write: transfer everyday→rainy 200.00"]


def test_forbidden_text_and_a_missing_write_are_reported(runner: ConversationRunner) -> None:
    expect = (
        GOOD.replace('never_includes: ["Tom Baker"]', 'never_includes: ["Rainy Day"]')
        .replace(
            'from: everyday, to: rainy, amount: "200.00"}',
            'from: everyday, to: rainy, amount: "200.00"}\n    - {kind: card_freeze, card: debit}',
        )
        .replace("cards: {debit: active}", "cards: {debit: frozen}")
    )
    result = runner(scenario("bad-text", expect))
    assert "forbidden text 'Rainy Day' in reply 1" in result.reasons
    assert "forbidden text 'Rainy Day' in reply 2" in result.reasons
    assert "missing write: card_freeze card=debit" in result.reasons
    assert "card debit: expected frozen, got active" in result.reasons


def test_a_declined_confirmation_writes_nothing(runner: ConversationRunner) -> None:
    text = BASE.format(id="declined", expect=GOOD).replace("- approve: true", "- decline: true")
    result = runner(parse(text, "declined.yaml"))
    assert "unexpected write" not in " ".join(result.reasons)
    assert "missing write: transfer everyday→rainy 200.00" in result.reasons
    assert "balance of everyday: expected 2250.00, got 2450.00" in result.reasons


# --- schema errors --------------------------------------------------------------------------


def problem_of(text: str) -> str:
    with pytest.raises(ScenarioError) as caught:
        parse(text, "suite/broken.yaml")
    return str(caught.value.problems[0])


def test_a_bad_amount_names_file_line_and_field() -> None:
    text = BASE.format(id="x", expect=GOOD).replace('balance: "1200.00"', 'balance: "12,00"')
    assert problem_of(text).startswith("suite/broken.yaml:8: customer.accounts[1].balance: ")


def test_an_unknown_field_is_named_with_its_line() -> None:
    text = BASE.format(id="x", expect=GOOD).replace("  confirmations: 1", "  confirmation: 1")
    assert problem_of(text) == (
        "suite/broken.yaml:21: expect.confirmation: unknown field 'confirmation' "
        "(fields may be added only as 'x-...')"
    )


def test_a_turn_of_the_wrong_shape_says_which_field() -> None:
    text = BASE.format(id="x", expect=GOOD).replace("- approve: true", "- approve: yes please")
    assert problem_of(text).startswith("suite/broken.yaml:14: turns[1].approve: ")


def test_a_ref_that_does_not_exist_is_named() -> None:
    text = BASE.format(id="x", expect=GOOD.replace("to: rainy", "to: holiday"))
    assert problem_of(text) == (
        "suite/broken.yaml:20: expect.writes[0].to: no account has ref 'holiday'"
    )


def test_duplicate_refs_and_keys_are_refused() -> None:
    text = BASE.format(id="x", expect=GOOD).replace("ref: rainy", "ref: everyday")
    assert "ref 'everyday' is already used at customer.accounts[0].ref" in problem_of(text)
    assert "duplicate key" in problem_of(text.replace("category: transfer", "category: a\nid: y"))


def test_every_shipped_suite_validates() -> None:
    scenarios, problems = load_suite(Path("evals/scenarios"))
    assert not [p for p in problems if "/core/" in p.file], problems
    assert len([s for s in scenarios if s.suite == "core"]) >= 30


# --- pass^k and the report ------------------------------------------------------------------


def fake(passes: dict[str, list[bool]]) -> Any:
    def run(s: Scenario, run: int) -> ScenarioResult:
        ok = passes[s.id][run]
        return ScenarioResult(
            id=s.id,
            category=s.category,
            suite="t",
            file="f",
            passed=ok,
            reasons=[] if ok else ["balance of everyday: expected 1.00, got 2.00"],
            latencies_ms=[10.0 * (run + 1)],
        )

    return run


def test_pass_hat_k_counts_only_scenarios_that_passed_every_run() -> None:
    scenarios = [scenario(i, GOOD) for i in ("a", "b", "c", "d")]
    passes = {"a": [True] * 3, "b": [True, False, True], "c": [False] * 3, "d": [True] * 3}
    summary, runs = run_suite(scenarios, fake(passes), repeat=3)
    assert summary["scenarios"] == 4 and summary["passed"] == 2
    assert summary["pass_hat_k"] == 0.5
    assert summary["pass_rate"] == round(8 / 12, 4)
    assert summary["by_category"] == {"transfer": {"scenarios": 4, "passed": 2}}
    assert {f["id"] for f in summary["failures"]} == {"b", "c"}
    assert "failed 1 of 3 runs" in next(f for f in summary["failures"] if f["id"] == "b")["reasons"]
    assert summary["latency_ms_p50"] == 20.0


def test_the_report_is_one_html_page_with_embedded_charts(tmp_path: Path) -> None:
    scenarios = [scenario(i, GOOD) for i in ("a", "b")]
    summary, runs = run_suite(scenarios, fake({"a": [True], "b": [False]}))
    doc: dict[str, Any] = {
        "summary": summary,
        "model": "offline",
        "results": [r.to_json() for rs in runs.values() for r in rs],
    }
    page = write_report(doc, tmp_path / "one").read_text()
    images = page.split('src="data:image/png;base64,')[1:]
    assert len(images) == 2
    assert base64.b64decode(images[0].split('"')[0])[:4] == b"\x89PNG"
    assert "balance of everyday: expected 1.00, got 2.00" in page and "http" not in page
    assert json.loads((tmp_path / "one" / "results.json").read_text())["summary"] == summary
    other, _ = run_suite(scenarios, fake({"a": [False], "b": [True]}))
    (tmp_path / "b.json").write_text(
        json.dumps(
            {
                **doc,
                "summary": other,
                "results": [{**r, "passed": not r["passed"]} for r in doc["results"]],
            }
        )
    )
    diff, html_page = write_comparison(
        tmp_path / "one" / "results.json", tmp_path / "b.json", tmp_path / "cmp"
    )
    assert diff["fixed"] == 1 and diff["broken"] == 1
    assert html_page.read_text().count("data:image/png;base64,") == 2
