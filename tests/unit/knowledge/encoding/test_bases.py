"""Base encoders from PyPI packages: joined, checked against published digests, cached."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from knowledge.encoding import bases
from knowledge.encoding.bases import BaseModelError


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "models"
    monkeypatch.setenv("CONCIERGE_MODEL_CACHE", str(folder))
    return folder


def test_mpnet_is_unpacked_once_and_every_file_matches_its_digest(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = bases.model_path("mpnet")
    assert path.parent == cache and (path / ".verified").is_file()
    for relative, digest in bases.BASES["mpnet"].files.items():
        assert bases._sha256(path / relative) == digest
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]  # no staging left
    monkeypatch.setattr(bases, "_parts", lambda base: pytest.fail("unpacked twice"))
    assert bases.model_path("mpnet") == path


@pytest.mark.parametrize(
    ("relative", "error"),
    [("vocab.txt", "vocab.txt has SHA-256"), ("merges.txt", "archive lacks merges.txt")],
)
def test_a_file_that_is_not_the_published_one_stops_loading_and_leaves_nothing(
    cache: Path, monkeypatch: pytest.MonkeyPatch, relative: str, error: str
) -> None:
    # a digest the packaged file does not have, or a file the archive does not hold
    real = bases.BASES["mpnet"]
    files = {**real.files, relative: "0" * 64}
    monkeypatch.setitem(bases.BASES, "mpnet", dataclasses.replace(real, files=files))
    with pytest.raises(BaseModelError, match=error):
        bases.model_path("mpnet")
    assert not list(cache.iterdir())  # neither a model folder nor a staging copy


def test_missing_packages_and_unknown_names_get_clear_errors(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = bases.BASES["mpnet"]
    gone = dataclasses.replace(real, packages=(*real.packages[:4], "no-such-package-xyz"))
    monkeypatch.setitem(bases.BASES, "mpnet", gone)
    with pytest.raises(BaseModelError, match=r"pip install -e '\.\[mpnet\]'"):
        bases.model_path("mpnet")
    with pytest.raises(BaseModelError, match="no-such-package-xyz"):
        bases.require("mpnet")
    bases.require("minilm")  # installed with the app itself
    with pytest.raises(ValueError, match="known: minilm, mpnet"):
        bases.model_path("bert")


def test_nlu_train_says_what_to_install_before_reading_any_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from app.cli import cli

    real = bases.BASES["mpnet"]
    gone = dataclasses.replace(real, packages=("no-such-package-xyz",))
    monkeypatch.setitem(bases.BASES, "mpnet", gone)
    out = tmp_path / "model"
    result = CliRunner().invoke(
        cli, ["nlu", "train", "--data", str(tmp_path / "absent.csv"), "--out", str(out)]
    )
    assert result.exit_code == 2  # the CLI's exit code for unusable input
    assert "'full' recipe cannot train here" in result.output
    assert "pip install -e '.[mpnet]'" in result.output and "make test" in result.output
    assert not out.exists()


def test_the_mpnet_encoder_gives_sentence_transformers_own_vectors() -> None:
    from sentence_transformers import SentenceTransformer

    from knowledge.encoding.encoder import SentenceEncoder

    texts = ["hi", "my card still hasn't arrived, what should I do?", "top up failed"]
    encoder = SentenceEncoder.load(base="mpnet")
    assert encoder.dimension == 768
    reference = SentenceTransformer(str(bases.model_path("mpnet")), device="cpu")
    expected = reference.encode(texts, normalize_embeddings=True)
    found = encoder.encode(texts)
    assert found.shape == (3, 768)
    assert np.abs(found - expected).max() < 1e-5
    assert np.abs(encoder.accelerate().encode(texts) - expected).max() < 1e-4
