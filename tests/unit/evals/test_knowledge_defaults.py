"""Which question log `concierge eval knowledge` gives the chat's question model by default."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.cli import _default_questions
from services.settings import get_settings


@pytest.fixture
def split(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("train.csv", "test.csv"):
        (tmp_path / name).write_text("text,category\nhow do i top up,top_up\n", encoding="utf-8")
    monkeypatch.delenv("BANKING77", raising=False)
    monkeypatch.delenv("CONCIERGE_KNOWLEDGE_QUESTIONS", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env of the checkout
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_the_training_split_beside_the_scored_file_stands_in_for_the_log(split: Path) -> None:
    assert _default_questions(split / "test.csv") == split / "train.csv"


def test_the_scored_file_is_never_its_own_log(split: Path) -> None:
    assert _default_questions(split / "train.csv") is None


def test_without_a_training_split_the_articles_stand_alone(split: Path, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "queries.csv").write_text("text,category\nhi,greeting\n", encoding="utf-8")
    assert _default_questions(other / "queries.csv") is None


def test_the_setting_comes_first(split: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = split / "bank-log.csv"
    log.write_text("text,category\nwhere is my card,card_arrival\n", encoding="utf-8")
    monkeypatch.setenv("CONCIERGE_KNOWLEDGE_QUESTIONS", str(log))
    get_settings.cache_clear()
    assert _default_questions(split / "test.csv") == log
