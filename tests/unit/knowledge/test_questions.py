"""The question model: probabilities over topics, stored as plain data, built only from rows."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from knowledge.questions import (
    QuestionLogError,
    QuestionModel,
    digest,
    question_model,
    read_questions,
    topic,
)

ROWS = [
    ("how do i change my pin", "change_pin"),
    ("new pin for my card please", "change_pin"),
    ("i want a different pin number", "change_pin"),
    ("why was i charged for a transfer abroad", "transfer_fee_charged"),
    ("fee on my international transfer", "transfer_fee_charged"),
    ("what did the wire transfer cost me", "transfer_fee_charged"),
    ("what interest does my savings earn", "savings-rates"),
    ("savings interest rate", "savings-rates"),
]


def _vectors(texts: Sequence[str]) -> np.ndarray:
    """Deterministic unit vectors standing in for MiniLM's (the model only needs 384 numbers)."""
    out = []
    for text in texts:
        rng = np.random.default_rng(sum(map(ord, text)))
        v = rng.normal(size=384).astype(np.float32)
        out.append(v / np.linalg.norm(v))
    return np.vstack(out)


def test_probabilities_favour_the_topic_asked_about_and_sum_to_one() -> None:
    model = QuestionModel().fit(
        [t for t, _ in ROWS], [c for _, c in ROWS], _vectors([t for t, _ in ROWS])
    )
    query = "can i change the pin"
    found = model.probabilities(query, _vectors([query])[0])
    assert set(found) == {"change_pin", "transfer_fee_charged", "savings-rates"}
    assert sum(found.values()) == pytest.approx(1.0)
    assert max(found, key=found.__getitem__) == "change_pin"


def test_a_saved_model_loads_with_the_same_probabilities(tmp_path: Path) -> None:
    model = QuestionModel().fit(
        [t for t, _ in ROWS], [c for _, c in ROWS], _vectors([t for t, _ in ROWS])
    )
    model.save(tmp_path / "m")
    again = QuestionModel.load(tmp_path / "m")
    query = "what is the fee on a wire abroad"
    vector = _vectors([query])[0]
    assert again.labels == model.labels and again.n_train == len(ROWS)
    for label, p in model.probabilities(query, vector).items():
        assert again.probabilities(query, vector)[label] == pytest.approx(p, abs=1e-6)
    with pytest.raises(ValueError, match="not a usable question model"):
        QuestionModel.load(tmp_path / "missing")


def test_a_model_is_built_once_per_folder_and_never_from_a_single_label(tmp_path: Path) -> None:
    encoded: list[int] = []

    def encode(texts: Sequence[str]) -> np.ndarray:
        found = list(texts)
        encoded.append(len(found))
        return _vectors(found)

    folder = tmp_path / f"questions-{digest(ROWS, 'test')[:16]}"
    first = question_model(ROWS, encode, folder=folder)
    second = question_model(ROWS, encode, folder=folder)
    assert first is not None and second is not None
    assert encoded == [len(ROWS)]  # the second was loaded, not built
    assert second.labels == first.labels
    assert question_model([("only one", "x"), ("label here", "x")], encode) is None


def test_the_digest_follows_the_rows() -> None:
    assert digest(ROWS, "e") == digest(list(ROWS), "e")
    assert digest(ROWS, "e") != digest([*ROWS, ("one more", "change_pin")], "e")
    assert digest(ROWS, "e") != digest(ROWS, "another encoder")


def test_an_article_trains_under_its_first_intent_or_its_id() -> None:
    assert topic(("card_arrival",), "card-not-arrived") == "card_arrival"
    assert topic((), "savings-goals") == "savings-goals"


def test_a_question_log_is_read_as_text_and_category(tmp_path: Path) -> None:
    good = tmp_path / "log.csv"
    good.write_text("text,category\n where is my card ,card_arrival\n,card_arrival\n", "utf-8")
    assert read_questions(good) == [("where is my card", "card_arrival")]
    bad = tmp_path / "bad.csv"
    bad.write_text("question,label\nwhere is my card,card_arrival\n", "utf-8")
    with pytest.raises(QuestionLogError, match="'text' and 'category'"):
        read_questions(bad)
    with pytest.raises(QuestionLogError, match="no such file"):
        read_questions(tmp_path / "none.csv")
