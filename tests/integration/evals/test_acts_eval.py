"""`concierge eval acts`: the act model trained with and without SGD, scored on a held-out split."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from typer.testing import CliRunner

from evals.cli import evals

runner = CliRunner()

CONFIRM = {"acts": ["CONFIRM:amount"]}
REQUEST = {"acts": ["REQUEST:date"]}
TURNS = [
    ("train", CONFIRM, "yes that works for me", ["AFFIRM"]),
    ("train", CONFIRM, "no, that's not right", ["NEGATE"]),
    ("train", REQUEST, "the fifth of march", ["INFORM:date"]),
    ("dev", CONFIRM, "sounds perfect", ["AFFIRM"]),
    ("test", CONFIRM, "yes please go ahead", ["AFFIRM"]),
    ("test", CONFIRM, "no thank you", ["NEGATE"]),
    ("test", REQUEST, "next tuesday", ["INFORM:date"]),
]


def _sgd(folder: Path) -> Path:
    path = folder / "user_turns.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        for split, system, text, acts in TURNS:
            row = {"split": split, "system": system, "text": text, "acts": acts}
            handle.write(json.dumps(row) + "\n")
    return path


def test_the_act_model_is_scored_on_the_held_out_split_only(tmp_path: Path) -> None:
    result = runner.invoke(evals, ["acts", "--sgd", str(_sgd(tmp_path)), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    test_rows = sum(split == "test" for split, *_ in TURNS)
    for name in ("with_sgd", "seed_only"):
        assert figures[name]["split"] == "test" and figures[name]["n"] == test_rows
        assert 0 <= figures[name]["accuracy"] <= 1
        assert set(figures[name]["by_move"]) == {"accept", "refuse", "inform"}
    # the curated seed alone already reads a plain yes and no after a confirmation question
    assert figures["seed_only"]["confirm_context_accuracy"] == 1.0


def test_the_training_split_cannot_be_scored(tmp_path: Path) -> None:
    result = runner.invoke(evals, ["acts", "--sgd", str(_sgd(tmp_path)), "--split", "train"])
    assert result.exit_code == 2 and "test or dev" in result.output


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(evals, ["acts", "--sgd", str(tmp_path / "nope.jsonl.gz")])
    assert result.exit_code == 2 and "SGD" in result.output
