"""``concierge eval conversations --perturb``: a tiny suite replayed reworded, through the graph.

The offline model runs on a fresh bank per scenario, as in the clean run; the JSON summary
gains ``perturbed`` with one entry per rewording.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from evals.perturb import KINDS

TRANSFER = textwrap.dedent(
    """\
    id: transfer
    category: transfer
    customer:
      name: Maya Patel
      accounts:
        - {ref: everyday, type: checking, name: Everyday, balance: "2450.00"}
        - {ref: rainy, type: savings, name: Rainy Day, balance: "1200.00"}
    turns:
      - user: Please transfer $200 from everyday to rainy day, thanks.
        expect: {confirmation_required: true}
      - approve: true
    expect:
      state:
        balances: {everyday: "2250.00", rainy: "1400.00"}
      writes:
        - {kind: transfer, from: everyday, to: rainy, amount: "200.00"}
      confirmations: 1
    """
)
BALANCE = textwrap.dedent(
    """\
    id: balance
    category: balance
    customer:
      name: Maya Patel
      accounts:
        - {ref: everyday, type: checking, name: Everyday, balance: "2450.00"}
    turns:
      - user: "Hello, what's the balance of my everyday account?"
    expect:
      writes: []
      reply_includes: ["2,450.00"]
    """
)


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny"
    folder.mkdir()
    (folder / "transfer.yaml").write_text(TRANSFER, encoding="utf-8")
    (folder / "balance.yaml").write_text(BALANCE, encoding="utf-8")
    return folder


def test_every_rewording_is_reported_beside_the_clean_run(
    suite: Path, classifier_dir: Path, tmp_path: Path
) -> None:
    args = ["eval", "conversations", "--suite", str(suite), "--nlu-model", str(classifier_dir)]
    args += ["--workdir", str(tmp_path / "work"), "--perturb", ",".join(KINDS), "--seed", "3"]
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["passed"] == 2 and summary["pass_rate"] == 1.0, summary["failures"]
    assert list(summary["perturbed"]) == list(KINDS)
    for kind, row in summary["perturbed"].items():
        assert row["total"] == 2 and row["messages"] == 2, kind
        assert row["messages_changed"] >= 1, kind  # each kind finds something to reword
        assert set(row["broken"]) <= {"tiny/transfer", "tiny/balance"}
        assert row["passed"] == 2 - len(row["broken"]) and row["fixed"] == []
        assert row["pass_rate"] == row["passed"] / 2
        assert [e["scenario"] for e in row["examples"]] == row["broken"]
    # case and punctuation never change what a message asks for
    assert summary["perturbed"]["case"]["passed"] == 2
    assert summary["perturbed"]["punctuation"]["passed"] == 2


def test_an_unknown_rewording_is_refused_before_anything_runs(suite: Path) -> None:
    args = ["eval", "conversations", "--suite", str(suite), "--perturb", "typos,emoji"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert "unknown perturbation 'emoji'" in result.output
