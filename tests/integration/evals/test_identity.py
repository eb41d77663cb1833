"""`concierge eval identity`: the whole pipeline, end to end, on a small bank."""

import json

import typer
from typer.testing import CliRunner

from evals.cli import register
from evals.identity import run_identity_eval


def test_resolution_finds_the_people_behind_noisy_records() -> None:
    result = run_identity_eval(customers=40, seed=3, noise=1.0)
    assert result["records"] > 40 * 2
    assert result["probabilistic_links"] > 0, "heavy noise needs more than exact keys"
    assert result["precision"] >= 0.97 and result["recall"] >= 0.9


def test_cli_prints_one_json_object() -> None:
    cli = typer.Typer()

    @cli.callback()
    def root() -> None:
        """Test root."""

    register(cli)
    out = CliRunner().invoke(cli, ["eval", "identity", "--customers", "20", "--json"])
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    assert {"precision", "recall", "f1", "records", "seconds"} <= set(result)
