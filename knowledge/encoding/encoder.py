"""The sentence encoder (all-MiniLM-L6-v2, mean pooled) and its fine-tuning on labelled texts.

torch and transformers are imported inside the functions: importing them takes seconds, and
only the code paths that really encode pay for it. Weights are read and written as
safetensors through ``from_pretrained`` / ``save_pretrained``: loading runs no stored code.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.encoding import bases
from knowledge.encoding.bases import DEFAULT_BASE
from knowledge.encoding.pooling import sentence_vector

Progress = Callable[[str, int, int], None]
"""Told ``(stage, done, total)`` as work advances."""


def base_model_path(base: str = DEFAULT_BASE) -> Path:
    """Where the packaged base encoder lives (no hub download, ever; see :mod:`.bases`)."""
    return bases.model_path(base)


@dataclass(frozen=True)
class FineTuneSettings:
    """How the encoder is fine-tuned under a cosine classification head.

    The head starts at the normalised class centroids of the frozen embeddings, so training
    begins from a nearest-centroid classifier instead of from noise.

    ``rdrop`` > 0 runs each batch twice (two dropout masks) and adds that weight times the
    symmetric KL divergence between the two predictions to their mean cross-entropy (R-Drop,
    Liang et al. 2021). ``average_last`` > 0 keeps, as the result, the mean of the weights at
    the end of each of the last that-many epochs (stochastic weight averaging). ``bf16`` runs
    the encoder's forward and backward passes in bfloat16 autocast (the loss and the optimizer
    stay in float32): faster on CPUs with AVX-512 BF16, at no measured accuracy cost.
    ``base`` names the pretrained encoder to start from (see :mod:`knowledge.encoding.bases`).
    """

    epochs: int = 4
    batch_size: int = 32
    learning_rate: float = 1e-4
    head_learning_rate: float = 3e-3
    warmup: float = 0.1
    weight_decay: float = 0.01
    label_smoothing: float = 0.0
    scale: float = 20.0
    max_length: int = 64
    seed: int = 0
    rdrop: float = 0.0
    average_last: int = 0
    bf16: bool = False
    base: str = DEFAULT_BASE


class SentenceEncoder:
    """A BERT-style encoder whose sentence vector is the L2-normalised mean of its tokens."""

    def __init__(self, tokenizer: Any, model: Any, max_length: int = 64) -> None:
        self.tokenizer = tokenizer
        self.model = model.eval()
        self.max_length = max_length
        self._onnx: Any = None  # knowledge.encoding.onnx_runtime.OnnxEncoder once accelerated

    @property
    def dimension(self) -> int:
        """The length of a sentence vector (the model's hidden size: 384 for MiniLM)."""
        return int(self.model.config.hidden_size)

    @property
    def accelerated(self) -> bool:
        """Whether :meth:`encode` runs on ONNX Runtime (:mod:`.onnx_runtime`)."""
        return self._onnx is not None

    def accelerate(
        self, *, quantized: bool = False, keep_float: tuple[str, ...] = ()
    ) -> SentenceEncoder:
        """Encode with ONNX Runtime from now on, unless turned off or unavailable; ``self``.

        ``quantized`` runs the encoder's int8 form, with the operators matching ``keep_float`` left
        in float32 (see :mod:`knowledge.encoding.onnx_runtime`). Fine-tuning the weights afterwards
        drops the export (:func:`fine_tune` does).
        """
        from knowledge.encoding import onnx_runtime as runtime

        if runtime.enabled():
            self._onnx = runtime.accelerate(self.model, quantized=quantized, keep_float=keep_float)
        return self

    @classmethod
    def load(
        cls, path: str | Path | None = None, max_length: int = 64, base: str = DEFAULT_BASE
    ) -> SentenceEncoder:
        """Load a saved encoder, or the packaged base model ``base`` when ``path`` is None."""
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # our callers draw their own progress
        where = str(path) if path is not None else str(base_model_path(base))
        tokenizer = AutoTokenizer.from_pretrained(where, local_files_only=True)
        model = AutoModel.from_pretrained(where, local_files_only=True, use_safetensors=True)
        return cls(tokenizer, model, max_length)

    def save(self, path: Path) -> None:
        """Write the weights (safetensors), configuration and tokenizer into ``path``."""
        self.model.save_pretrained(str(path), safe_serialization=True)
        self.tokenizer.save_pretrained(str(path))

    def token_ids(self, texts: list[str]) -> list[list[int]]:
        """Each text's token ids, truncated to ``max_length``."""
        encoded = self.tokenizer(texts, truncation=True, max_length=self.max_length)
        return [list(ids) for ids in encoded["input_ids"]]

    def _pooled(self, batch: list[list[int]]) -> Any:
        import torch

        input_ids, mask = (torch.from_numpy(a) for a in padded(batch))
        return sentence_vector(self.model, input_ids, mask)

    def encode(
        self,
        texts: list[str],
        batch_size: int = 64,
        progress: Progress | None = None,
        stage: str = "embedding",
        bf16: bool = False,
    ) -> np.ndarray:
        """Normalised sentence vectors of ``texts``, ``(len(texts), dimension)``, float32.

        ``bf16`` runs PyTorch under bfloat16 autocast instead of ONNX Runtime: for batches of
        a large encoder, about half the time of float32 (docs/performance.md), with vectors
        whose cosine to the float32 ones rounds to 1.0000. Fine-tuning in
        bf16 starts its head from such vectors.
        """
        import contextlib

        import torch

        ids = self.token_ids(texts)
        order = np.argsort([len(x) for x in ids], kind="stable")  # little padding per batch
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        autocast = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
        with torch.inference_mode(), autocast:
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                batch = [ids[i] for i in rows]
                out[rows] = self._vectors(batch, on_torch=bf16)
                if progress is not None:
                    progress(stage, min(start + batch_size, len(order)), len(order))
        return out

    def _vectors(self, batch: list[list[int]], on_torch: bool = False) -> np.ndarray:
        if self._onnx is None or on_torch:
            return np.asarray(self._pooled(batch).float().numpy())
        return self._onnx.vectors(*padded(batch))


def padded(batch: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Token ids padded with zeros to the longest, and the attention mask (int64 both)."""
    width = max(len(ids) for ids in batch)
    input_ids = np.zeros((len(batch), width), dtype=np.int64)
    mask = np.zeros((len(batch), width), dtype=np.int64)
    for row, ids in enumerate(batch):
        input_ids[row, : len(ids)] = ids
        mask[row, : len(ids)] = 1
    return input_ids, mask


def _batches(lengths: np.ndarray, size: int, rng: np.random.Generator) -> list[np.ndarray]:
    # Sort by length with a little jitter, cut into batches, shuffle the batches: each batch
    # pads to nearly its own length, and the order still changes from epoch to epoch.
    order = np.argsort(lengths + rng.uniform(0.0, 3.0, len(lengths)), kind="stable")
    batches = [order[i : i + size] for i in range(0, len(order), size)]
    rng.shuffle(batches)
    return batches


def fine_tune(
    encoder: SentenceEncoder,
    texts: list[str],
    targets: np.ndarray,
    n_classes: int,
    settings: FineTuneSettings,
    progress: Progress | None = None,
    start_embeddings: np.ndarray | None = None,
) -> np.ndarray:
    """Fine-tune ``encoder`` in place under a cosine head; return the head, ``(n_classes, 384)``.

    The class scores are ``settings.scale * encode(text) @ head.T`` (the head rows are unit
    vectors), so the tuned classifier is a linear model over the tuned embeddings.
    ``start_embeddings`` (the untuned encoder's vectors of ``texts``) saves encoding them again.
    """
    import torch
    import torch.nn.functional as F

    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    frozen = start_embeddings
    if frozen is None:
        frozen = encoder.encode(texts, progress=progress, stage="fine-tuning: head")
    encoder._onnx = None  # the weights are about to change: an export of them would be stale
    centroids = np.stack([frozen[targets == k].mean(0) for k in range(n_classes)])
    head = torch.nn.Parameter(F.normalize(torch.tensor(centroids), dim=-1))
    model = encoder.model
    # The word-embedding table holds half the weights: frozen, it saves most optimizer work.
    model.get_input_embeddings().weight.requires_grad_(False)
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    no_decay = ("bias", "LayerNorm.weight")
    groups: list[dict[str, Any]] = [
        {"params": [p for n, p in named if not n.endswith(no_decay)]},
        {"params": [p for n, p in named if n.endswith(no_decay)], "weight_decay": 0.0},
        {"params": [head], "lr": settings.head_learning_rate, "weight_decay": 0.0},
    ]
    # fused: one kernel per step instead of a loop over tensors (a third of the optimizer time)
    optimizer = torch.optim.AdamW(
        groups, lr=settings.learning_rate, weight_decay=settings.weight_decay, fused=True
    )
    ids = encoder.token_ids(texts)
    lengths = np.array([len(x) for x in ids], dtype=np.float64)
    per_epoch = -(-len(ids) // settings.batch_size)
    total = per_epoch * settings.epochs
    warm = max(1, int(settings.warmup * total))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda s: (s + 1) / warm if s < warm else max(0.0, (total - s) / max(1, total - warm)),
    )
    labels = torch.as_tensor(targets, dtype=torch.long)
    tracked = [p for _, p in named] + [head]
    averaged: list[Any] | None = None
    kept = 0
    step = 0
    model.train()
    try:
        for epoch in range(settings.epochs):
            for rows in _batches(lengths, settings.batch_size, rng):
                batch = [ids[i] for i in rows]
                loss = _loss(encoder, batch, labels[rows], F.normalize(head, dim=-1), settings)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                schedule.step()
                optimizer.zero_grad(set_to_none=True)
                step += 1
                if progress is not None:
                    progress("fine-tuning", step, total)
            if settings.average_last and epoch >= settings.epochs - settings.average_last:
                with torch.no_grad():
                    now = [p.detach().clone() for p in tracked]
                    if averaged is None:
                        averaged = now
                    else:
                        torch._foreach_add_(averaged, now)
                    kept += 1
        if averaged is not None:
            with torch.no_grad():
                for p, total_of in zip(tracked, averaged, strict=True):
                    p.copy_(total_of / kept)
    finally:
        model.eval()
        model.get_input_embeddings().weight.requires_grad_(True)
    return F.normalize(head.detach(), dim=-1).numpy().astype(np.float32)


def _loss(
    encoder: SentenceEncoder, batch: list[list[int]], y: Any, head: Any, settings: FineTuneSettings
) -> Any:
    """The training loss of one batch (see :class:`FineTuneSettings` for the options)."""
    import contextlib

    import torch
    import torch.nn.functional as F

    autocast = (
        torch.autocast("cpu", dtype=torch.bfloat16) if settings.bf16 else contextlib.nullcontext()
    )
    smoothing = settings.label_smoothing
    if settings.rdrop <= 0:
        with autocast:
            pooled = encoder._pooled(batch)
        logits = settings.scale * pooled.float() @ head.T
        return F.cross_entropy(logits, y, label_smoothing=smoothing)
    with autocast:
        pooled = encoder._pooled(batch + batch)  # one pass, two dropout masks per text
    logits = settings.scale * pooled.float() @ head.T
    first, second = logits[: len(batch)], logits[len(batch) :]
    ce = 0.5 * (
        F.cross_entropy(first, y, label_smoothing=smoothing)
        + F.cross_entropy(second, y, label_smoothing=smoothing)
    )
    a, b = F.log_softmax(first, -1), F.log_softmax(second, -1)
    kl = 0.5 * (
        F.kl_div(a, b, log_target=True, reduction="batchmean")
        + F.kl_div(b, a, log_target=True, reduction="batchmean")
    )
    return ce + settings.rdrop * kl
