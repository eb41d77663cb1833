"""Named training recipes: what an :class:`~agents.nlu.model.IntentModel` is made of.

Every number here was chosen on a stratified 15% held-out part of BANKING77's train.csv
(seed 0), never on its test set.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from knowledge.encoding.encoder import FineTuneSettings


@dataclass(frozen=True)
class Profile:
    """A training recipe.

    Attributes:
        name: How the CLI and the metadata call it.
        svm_c: Regularisation of the linear SVM over the lexical (+ frozen embedding) features.
        embedding_weight: How much the frozen sentence embedding counts next to the TF-IDF
            parts in the SVM's features (0 leaves the frozen encoder out entirely).
        fine_tune: How to fine-tune the encoder, or None for no fine-tuned component.
        weights: How much each component's scores count in the combined logits.
        temperature: The combined logits are multiplied by this before the softmax, so the
            confidences are calibrated (fitted on the held-out part).
        quantized: The frozen encoder runs in int8 on ONNX Runtime, in training and serving
            alike (see :mod:`knowledge.encoding.onnx_runtime`): several times faster per query.
        tuned_quantized: The fine-tuned encoder is served in int8 (it is trained in float).
        keep_float: Name patterns of the operators an int8 encoder keeps in float32.
    """

    name: str
    svm_c: float = 1.0
    embedding_weight: float = 2.0
    fine_tune: FineTuneSettings | None = None
    weights: dict[str, float] = field(default_factory=lambda: {"svm": 1.0})
    temperature: float = 1.0
    quantized: bool = False
    tuned_quantized: bool = False
    keep_float: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The recipe as JSON-ready data (recorded in the model's metadata)."""
        return asdict(self)


PROFILES: dict[str, Profile] = {
    # Lexical + frozen embeddings under one linear SVM: trains in well under a minute, one
    # encoder pass per query, in int8 (held-out accuracy 92.8%; 93.1% with the float32
    # encoder, at three times the cost per query: the chat's classifier wants the speed).
    "fast": Profile(name="fast", svm_c=1.0, embedding_weight=2.0, temperature=4.0, quantized=True),
    # all-mpnet-base-v2 fine-tuned under a cosine head (3 epochs, bf16), plus a lexical-only
    # SVM counting twice. Held-out 94.00% and 94.20% (seeds 0 and 1) where ``compact`` scored
    # 93.60% on the same split. Served in int8 except the feed-forward outputs of layers 6-8:
    # quantizing those moved the sentence vector most (alone, each left in float32 raised the
    # mean cosine to the float32 vectors from 0.89 to 0.91-0.95 on training texts); with them
    # in float32 held-out accuracy was that of the float32 model, at about half its latency.
    # (Those held-out runs used foreach AdamW and float32 start vectors; the fused optimizer
    # and bf16 start vectors train the same recipe faster: docs/performance.md.)
    "full": Profile(
        name="full",
        svm_c=1.0,
        embedding_weight=0.0,
        fine_tune=FineTuneSettings(epochs=3, learning_rate=5e-5, bf16=True, base="mpnet"),
        weights={"svm": 2.0, "tuned": 1.0},
        temperature=0.7,
        tuned_quantized=True,
        keep_float=(r"layer\.(6|7|8)/output/dense",),
    ),
    # all-MiniLM-L6-v2 fine-tuned under a cosine head, plus a lexical-only SVM, scores
    # summed with the SVM counting twice (held-out 93.7%; BANKING77 test 94.38%): less than
    # half of ``full``'s training time and latency per query, a fifth of its weights. One
    # encoder pass per query: the frozen embedding in the SVM (held-out 93.8%) needs a second.
    "compact": Profile(
        name="compact",
        svm_c=1.0,
        embedding_weight=0.0,
        fine_tune=FineTuneSettings(epochs=4, learning_rate=1e-4),
        weights={"svm": 2.0, "tuned": 1.0},
        temperature=0.7,
    ),
}
DEFAULT_PROFILE = "full"


def profile_from_json(data: dict[str, Any]) -> Profile:
    """Rebuild a :class:`Profile` from :meth:`Profile.to_json`'s output."""
    tune = data.get("fine_tune")
    return Profile(
        name=str(data["name"]),
        svm_c=float(data["svm_c"]),
        embedding_weight=float(data["embedding_weight"]),
        fine_tune=FineTuneSettings(**tune) if tune else None,
        weights={str(k): float(v) for k, v in data["weights"].items()},
        temperature=float(data["temperature"]),
        quantized=bool(data.get("quantized", False)),  # models saved before it were float32
        tuned_quantized=bool(data.get("tuned_quantized", False)),
        keep_float=tuple(str(p) for p in data.get("keep_float", ())),
    )
