"""The sentence encoder's inference on ONNX Runtime: the same vectors, faster on a CPU.

PyTorch runs a BERT layer as dozens of small Python calls; for one short chat message that
overhead is most of the time. The encoder (token ids in, the normalised mean-pooled vector
out) is exported once to ONNX and run by ONNX Runtime, which fuses the layers: one sentence
takes less than half its PyTorch time (docs/performance.md), and the vectors are equal to
1e-4 (the tests hold them so).

An export is kept on disk under ``CONCIERGE_ONNX_CACHE`` (default ``~/.cache/concierge/onnx``),
named by the SHA-256 of the weights it was made from, so each distinct encoder is exported
once per machine. Where that folder cannot be written, the export is made in memory instead.
``CONCIERGE_NLU_RUNTIME=torch`` turns all of this off.

A recipe may ask for the encoder's int8 form (``Profile.quantized``: the ``fast`` recipe of
the chat's own classifier does), several times faster again; its vectors are close to, not equal
to, the float32 ones, so a model is trained and served on the same form.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

EXPORT_VERSION = "1"  # bump when the exported graph changes
OPSET = 17


def enabled() -> bool:
    """Whether encoders should run on ONNX Runtime (``CONCIERGE_NLU_RUNTIME``, default onnx)."""
    choice = os.environ.get("CONCIERGE_NLU_RUNTIME", "onnx").strip().lower()
    if choice not in {"onnx", "torch"}:
        raise ValueError(f"CONCIERGE_NLU_RUNTIME must be onnx or torch, not {choice!r}")
    return choice == "onnx"


def cache_dir() -> Path:
    """Where exports are kept (``CONCIERGE_ONNX_CACHE``, default ``~/.cache/concierge/onnx``)."""
    configured = os.environ.get("CONCIERGE_ONNX_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "concierge" / "onnx"


def weights_sha256(model: Any) -> str:
    """A digest of every weight of ``model`` (names, shapes and values)."""
    import torch

    digest = hashlib.sha256(f"{EXPORT_VERSION}:{torch.__version__}".encode())
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(f"{name}:{tuple(tensor.shape)}:{tensor.dtype}".encode())
        digest.update(tensor.detach().contiguous().cpu().numpy().tobytes())
    return digest.hexdigest()


def _pooled(model: Any) -> Any:
    """``model`` wrapped so that the exported graph ends in the sentence vector."""
    import torch

    from knowledge.encoding.pooling import sentence_vector

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return sentence_vector(self.model, input_ids, attention_mask)

    return Pooled().eval()


def _export(model: Any, sink: Any) -> None:
    import warnings

    import torch

    example = torch.tensor([[101, 7592, 102]], dtype=torch.long)
    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        warnings.simplefilter("ignore")  # the exporter's notes on tracing are not ours to fix
        torch.onnx.export(
            _pooled(model),
            (example, torch.ones_like(example)),
            sink,
            input_names=["input_ids", "attention_mask"],
            output_names=["sentence"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                "sentence": {0: "batch"},
            },
            opset_version=OPSET,
            dynamo=False,
        )


def exported(
    model: Any, *, quantized: bool = False, keep_float: tuple[str, ...] = ()
) -> bytes | Path:
    """The ONNX export of ``model``: a cached file when the cache can be written, else bytes.

    ``quantized`` gives the export with its weights in int8 (:func:`_quantize`), except the
    operators whose names match one of the ``keep_float`` patterns.
    """
    kind = str(getattr(getattr(model, "config", None), "model_type", "encoder"))
    name = f"{kind}-{weights_sha256(model)[:32]}"
    return _exported(model, name, quantized=quantized, keep_float=keep_float)


def _int8_suffix(keep_float: tuple[str, ...]) -> str:
    if not keep_float:
        return "-int8"
    return "-int8-" + hashlib.sha256("\n".join(keep_float).encode()).hexdigest()[:12]


def _exported(
    model: Any, name: str, *, quantized: bool, keep_float: tuple[str, ...] = ()
) -> bytes | Path:
    # ``name`` is the weights' digest (hashing them once: an int8 export starts from the float one)
    folder = cache_dir()
    target = folder / f"{name}{_int8_suffix(keep_float) if quantized else ''}.onnx"
    if target.is_file():
        return target
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, staging = tempfile.mkstemp(prefix=".export-", suffix=".onnx", dir=folder)
    except OSError:
        log.info("cannot write %s: exporting the encoder in memory", folder)
        return _in_memory(model, quantized=quantized, keep_float=keep_float)
    os.close(handle)
    try:
        if quantized:
            source = _exported(model, name, quantized=False)
            assert isinstance(source, Path)  # the cache is writable: the export is a file
            _quantize(source, Path(staging), keep_float)
        else:
            _export(model, staging)
        os.replace(staging, target)  # atomic: a reader sees the whole file or none
    finally:
        if os.path.exists(staging):
            os.unlink(staging)
    return target


def _in_memory(model: Any, *, quantized: bool, keep_float: tuple[str, ...] = ()) -> bytes:
    if not quantized:
        buffer = io.BytesIO()
        _export(model, buffer)
        return buffer.getvalue()
    # ONNX Runtime's quantizer reads and writes files: a private temporary folder, then bytes
    with tempfile.TemporaryDirectory(prefix="concierge-onnx-") as scratch:
        plain, small = Path(scratch) / "plain.onnx", Path(scratch) / "int8.onnx"
        _export(model, plain)
        _quantize(plain, small, keep_float)
        return small.read_bytes()


def _quantize(source: Path, target: Path, keep_float: tuple[str, ...] = ()) -> None:
    """Write ``source`` with its weights as int8 (dynamic quantization, one scale per channel).

    Activations are quantized on the fly per batch. Operators whose names match a
    ``keep_float`` pattern stay in float32: all-mpnet-base-v2 has a few feed-forward outputs
    whose activations have outliers one int8 scale cannot hold (quantized everywhere, its
    vectors' cosine to the float32 ones averaged 0.87; see :mod:`agents.nlu.profiles`).

    all-MiniLM-L6-v2 in int8 encodes one chat message in about a third of its float32 time
    (docs/performance.md); over the 2,000 utterances of
    ``agents/offline/data/utterances.csv`` the vectors' cosine to the float32 ones averages 0.990
    (1st percentile 0.964). The ``fast`` recipe trained and tested on int8 vectors scored as
    on float32 ones on those utterances (held-out accuracy 90.5% and 90.4%, three 80/20
    splits) and 0.3 points lower on BANKING77 (92.8% and 93.1%, a 15% held-out part of its
    train.csv).
    """
    import re

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model: Path | onnx.ModelProto = source
    excluded = []
    if keep_float:  # read the graph once: its operators' names, then the quantizer's input
        model = onnx.load(str(source))
        excluded = [
            n.name for n in model.graph.node if any(re.search(p, n.name) for p in keep_float)
        ]

    quiet = logging.getLogger()  # the quantizer advises pre-processing on the root logger
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        quantize_dynamic(
            model,
            target,
            weight_type=QuantType.QInt8,
            per_channel=True,
            nodes_to_exclude=excluded,
        )
    finally:
        quiet.setLevel(level)


class OnnxEncoder:
    """Runs an exported encoder: ``vectors(ids, mask)`` → normalised float32 rows."""

    def __init__(self, source: bytes | Path, threads: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only
        # No busy-waiting between operators: in a server the other threads need that CPU
        # (with two threads on one busy core, spinning made a sentence several times slower).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        what = str(source) if isinstance(source, Path) else source
        self.session = ort.InferenceSession(what, options, providers=["CPUExecutionProvider"])

    def vectors(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        """Sentence vectors of a padded batch (int64 ids and mask, same shape)."""
        found = self.session.run(None, {"input_ids": input_ids, "attention_mask": attention_mask})[
            0
        ]
        return np.asarray(found, dtype=np.float32)


def accelerate(
    model: Any, *, quantized: bool = False, keep_float: tuple[str, ...] = ()
) -> OnnxEncoder | None:
    """An ONNX Runtime encoder equal to ``model``; None (PyTorch is kept) if that fails.

    ``quantized`` runs its int8 form (:func:`_quantize`, ``keep_float`` left in float32):
    close to ``model``, not equal.
    """
    import torch

    threads = torch.get_num_threads()
    try:
        source = exported(model, quantized=quantized, keep_float=keep_float)
        return OnnxEncoder(source, threads=threads)
    except Exception:  # noqa: BLE001 - a missing package or a failed export: stay on PyTorch
        log.warning("ONNX Runtime unavailable: the encoder runs on PyTorch", exc_info=True)
        return None
