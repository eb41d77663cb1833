"""``concierge eval routing`` on a tiny CLINC150-shaped file, through the assistant's graph."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from evals.routing import run_routing_eval

SAMPLE = Path(__file__).parent / "clinc_sample" / "data_full.json"
KEYS = {"in_scope_accuracy", "oos_no_task_rate", "n_in_scope", "n_oos", "by_intent", "confusions"}


def test_the_routing_eval_routes_a_sample_and_reports_its_figures(classifier_dir: Path) -> None:
    seen: list[int] = []
    report = run_routing_eval(
        SAMPLE, split="test", nlu_model=classifier_dir, advance=lambda done, _: seen.append(done)
    )
    assert KEYS | {"seconds"} <= set(report)
    assert (report["n_in_scope"], report["n_oos"]) == (5, 5)
    assert seen == list(range(1, 11))
    # requests from other domains and out-of-scope chat start nothing on the chat path
    assert report["oos_no_task_rate"] == 1.0, report["confusions"]
    assert report["by_intent"]["balance"]["routes"] == {"read:get_accounts": 1}
    assert report["by_intent"]["transfer"]["routes"] == {"task:transfer": 1}


def test_the_command_prints_one_json_object_for_a_limited_sample(classifier_dir: Path) -> None:
    from app.cli import cli

    args = ["eval", "routing", "--data", str(SAMPLE), "--limit", "2", "--json"]
    result = CliRunner().invoke(cli, [*args, "--nlu-model", str(classifier_dir)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert KEYS <= set(report) and (report["n_in_scope"], report["n_oos"]) == (2, 2)
