"""The encoder on ONNX Runtime: the same vectors as PyTorch, exported once per weights."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from knowledge.encoding import onnx_runtime as runtime
from knowledge.encoding.encoder import SentenceEncoder

TEXTS = [
    "hi",
    "what's my balance?",
    "how much did I spend on groceries last month",
    "move 5 dollars from checking to savings and then tell me what is left in my account",
]


@pytest.fixture(scope="module")
def torch_encoder() -> SentenceEncoder:
    return SentenceEncoder.load()


def test_onnx_vectors_equal_torch_vectors(
    torch_encoder: SentenceEncoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONCIERGE_ONNX_CACHE", str(tmp_path))
    fast = SentenceEncoder.load().accelerate()
    assert fast.accelerated and not torch_encoder.accelerated
    for batch in ([TEXTS[0]], TEXTS, TEXTS * 20):  # one text, mixed lengths, several batches
        expected = torch_encoder.encode(batch, batch_size=16)
        found = fast.encode(batch, batch_size=16)
        assert found.shape == expected.shape and found.dtype == np.float32
        assert np.abs(found - expected).max() < 1e-4
        assert np.allclose(np.linalg.norm(found, axis=1), 1.0, atol=1e-5)


def test_an_export_is_kept_and_named_by_its_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    monkeypatch.setenv("CONCIERGE_ONNX_CACHE", str(tmp_path))
    first = SentenceEncoder.load().accelerate()
    [kept] = list(tmp_path.glob("*.onnx"))
    made = kept.stat().st_mtime_ns
    calls: list[object] = []
    monkeypatch.setattr(runtime, "_export", lambda model, sink: calls.append(sink))
    again = SentenceEncoder.load().accelerate()
    assert again.accelerated and calls == []  # read from the cache, not exported again
    assert kept.stat().st_mtime_ns == made
    assert np.array_equal(first.encode(TEXTS), again.encode(TEXTS))
    changed = SentenceEncoder.load()
    with torch.no_grad():
        changed.model.pooler.dense.bias.add_(1.0)  # other weights: another export
    assert runtime.weights_sha256(changed.model) != runtime.weights_sha256(again.model)


def test_an_unwritable_cache_exports_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, torch_encoder: SentenceEncoder
) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("CONCIERGE_ONNX_CACHE", str(blocked / "cache"))
    fast = SentenceEncoder.load().accelerate()
    assert fast.accelerated
    assert np.abs(fast.encode(TEXTS) - torch_encoder.encode(TEXTS)).max() < 1e-4


def test_the_runtime_can_be_turned_off_and_a_bad_choice_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CONCIERGE_NLU_RUNTIME", "torch")
    assert not SentenceEncoder.load().accelerate().accelerated
    monkeypatch.setenv("CONCIERGE_NLU_RUNTIME", "tensorflow")
    with pytest.raises(ValueError, match="onnx or torch"):
        SentenceEncoder.load().accelerate()


def test_a_failed_export_keeps_pytorch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(model: object, sink: object) -> None:
        raise RuntimeError("exporter broke")

    monkeypatch.setenv("CONCIERGE_ONNX_CACHE", str(tmp_path))
    monkeypatch.setattr(runtime, "_export", broken)
    encoder = SentenceEncoder.load().accelerate()
    assert not encoder.accelerated and not list(tmp_path.iterdir())  # no half-written export
    assert encoder.encode(TEXTS).shape == (len(TEXTS), 384)


def test_fine_tuning_drops_a_stale_export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from knowledge.encoding.encoder import FineTuneSettings, fine_tune

    monkeypatch.setenv("CONCIERGE_ONNX_CACHE", str(tmp_path))
    encoder = SentenceEncoder.load(max_length=16).accelerate()
    assert encoder.accelerated
    texts = ["hello", "hi there", "my balance", "balance please"] * 4
    targets = np.array([0, 0, 1, 1] * 4)
    fine_tune(encoder, texts, targets, 2, FineTuneSettings(epochs=1, batch_size=8, max_length=16))
    assert not encoder.accelerated  # its vectors would be the old weights'
    expected = encoder.encode(texts)
    encoder.accelerate()
    assert np.abs(encoder.encode(texts) - expected).max() < 1e-4


def test_the_int8_form_is_close_kept_beside_the_float_export_and_made_in_memory_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, torch_encoder: SentenceEncoder
) -> None:
    monkeypatch.setenv("CONCIERGE_ONNX_CACHE", str(tmp_path))
    small = SentenceEncoder.load().accelerate(quantized=True)
    assert small.accelerated
    names = {p.name for p in tmp_path.glob("*.onnx")}
    [plain] = [n for n in names if not n.endswith("-int8.onnx")]
    assert names == {plain, plain.replace(".onnx", "-int8.onnx")}
    expected = torch_encoder.encode(TEXTS * 3)
    found = small.encode(TEXTS * 3)
    cosine = (found * expected).sum(axis=1)
    assert cosine.min() > 0.95  # close to the float32 vectors...
    assert np.abs(found - expected).max() > 1e-4  # ...but another model: not equal
    assert np.allclose(np.linalg.norm(found, axis=1), 1.0, atol=1e-5)
    # read back from the cache the second time
    monkeypatch.setattr(runtime, "_quantize", lambda *args: pytest.fail("again"))
    assert np.array_equal(
        SentenceEncoder.load().accelerate(quantized=True).encode(TEXTS), found[:4]
    )
    monkeypatch.undo()
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("CONCIERGE_ONNX_CACHE", str(blocked / "cache"))
    in_memory = SentenceEncoder.load().accelerate(quantized=True)
    assert np.abs(in_memory.encode(TEXTS) - found[:4]).max() < 1e-5


def test_operators_named_to_keep_float_stay_float_in_the_int8_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, torch_encoder: SentenceEncoder
) -> None:
    import onnx

    monkeypatch.setenv("CONCIERGE_ONNX_CACHE", str(tmp_path))
    keep = (r"layer\.(4|5)/output/dense",)
    mixed = SentenceEncoder.load().accelerate(quantized=True, keep_float=keep)
    everywhere = SentenceEncoder.load().accelerate(quantized=True)
    files = sorted(tmp_path.glob("*-int8*.onnx"))
    assert len(files) == 2  # each form cached under its own name
    [partial] = [f for f in files if not f.name.endswith("-int8.onnx")]
    graph = onnx.load(str(partial)).graph
    kinds = {n.name: n.op_type for n in graph.node}
    float_ones = [n for n, kind in kinds.items() if "output/dense" in n and kind == "MatMul"]
    assert sorted(float_ones) == [f"/model/encoder/layer.{i}/output/dense/MatMul" for i in (4, 5)]
    assert any(kind == "MatMulInteger" for kind in kinds.values())  # the rest is int8
    expected = torch_encoder.encode(TEXTS)
    assert (mixed.encode(TEXTS) * expected).sum(axis=1).min() > 0.95
    assert not np.array_equal(mixed.encode(TEXTS), everywhere.encode(TEXTS))


def test_a_recipe_says_whether_its_encoder_is_int8_and_old_models_were_not() -> None:
    from agents.nlu.profiles import PROFILES, profile_from_json

    assert PROFILES["fast"].quantized and not PROFILES["full"].quantized
    saved = PROFILES["fast"].to_json()
    assert profile_from_json(saved) == PROFILES["fast"]
    del saved["quantized"]  # metadata written before the field existed
    assert not profile_from_json(saved).quantized
    full = PROFILES["full"].to_json()
    assert profile_from_json(json.loads(json.dumps(full))) == PROFILES["full"]
    for name in ("tuned_quantized", "keep_float"):
        del full[name]  # metadata written before these fields existed: float32 throughout
    old = profile_from_json(full)
    assert not old.tuned_quantized and old.keep_float == ()
