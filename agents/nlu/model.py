"""The intent classifier: lexical TF-IDF + sentence embeddings, optionally fine-tuned, combined.

Components, each a linear scorer whose class scores are summed with the profile's weights:

* ``svm``: a linear SVM over word and character TF-IDF, next to the frozen all-MiniLM-L6-v2
  embedding scaled by ``embedding_weight`` (profile ``fast``; ``full`` and ``compact`` leave
  it out, so a query costs one encoder pass);
* ``tuned`` (profiles ``full`` and ``compact``): an encoder (the profile's ``fine_tune.base``,
  see :mod:`knowledge.encoding.bases`) fine-tuned under a cosine head.

The combined scores, times the profile's temperature, go through a softmax: the largest is
the prediction, its probability the confidence. A saved model is plain data: JSON, ``.npz``
(read with ``allow_pickle=False``) and safetensors; loading it runs no stored code.
"""

from __future__ import annotations

import json
import platform
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from agents.nlu.data import NluDataError, check_trainable, texts_sha256
from agents.nlu.lexical import LexicalFeatures
from agents.nlu.profiles import DEFAULT_PROFILE, PROFILES, Profile, profile_from_json
from knowledge.encoding import bases
from knowledge.encoding.bases import DEFAULT_BASE
from knowledge.encoding.encoder import Progress, SentenceEncoder, fine_tune

FORMAT = "concierge-nlu/1"
METADATA, LEXICAL, WEIGHTS, ENCODER = "metadata.json", "lexical.json", "weights.npz", "encoder"


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    names = ["numpy", "scikit-learn", "torch", "transformers", "onnxruntime"]
    for name in names + [p for base in bases.BASES.values() for p in base.packages[:1]]:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def _softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


class IntentModel:
    """Classifies an utterance into one of the labels it was trained on.

    Example:
        >>> model = IntentModel(profile="fast").fit(texts, labels)  # doctest: +SKIP
        >>> model.predict("my card has not arrived yet")  # doctest: +SKIP
        ('card_arrival', 0.97)
    """

    def __init__(self, profile: str | Profile = DEFAULT_PROFILE) -> None:
        if isinstance(profile, str):
            if profile not in PROFILES:
                raise ValueError(f"unknown profile {profile!r} (known: {', '.join(PROFILES)})")
            profile = PROFILES[profile]
        self.profile = profile
        self.labels: list[str] = []
        self.train_seconds: float | None = None
        self.data_sha256: str | None = None
        self.n_train = 0
        self._lexical = LexicalFeatures()
        self._weights: dict[str, np.ndarray] = {}
        self._base: SentenceEncoder | None = None
        self._tuned: SentenceEncoder | None = None

    # --- training ---------------------------------------------------------------------------

    def fit(
        self,
        texts: list[str],
        labels: list[str],
        progress: Progress | None = None,
        weights: list[float] | None = None,
    ) -> IntentModel:
        """Learn every component of the profile from labelled ``texts``; return ``self``.

        ``weights``, one per text, is how much each example counts in the linear model (all
        count once when None): a label given thousands of examples can be weighed down so it
        does not swallow the labels with a few dozen.

        Raises:
            NluDataError: Fewer than two labels, or a label with fewer than two examples.
        """
        from sklearn.svm import LinearSVC

        check_trainable(texts, labels)
        if weights is not None and len(weights) != len(texts):
            raise NluDataError(f"{len(texts)} texts but {len(weights)} weights")
        started = time.perf_counter()
        tell = progress or (lambda stage, done, total: None)
        self.labels = sorted(set(labels))
        index = {label: i for i, label in enumerate(self.labels)}
        targets = np.array([index[label] for label in labels])
        tell("lexical features", 0, 1)
        self._lexical = LexicalFeatures().fit(texts)
        tell("lexical features", 1, 1)
        frozen = None
        tune = self.profile.fine_tune
        if self.profile.embedding_weight > 0 or (tune is not None and tune.base == DEFAULT_BASE):
            self._base = SentenceEncoder.load().accelerate(quantized=self.profile.quantized)
            frozen = self._base.encode(texts, progress=tell, stage="frozen embeddings")
        tell("linear model", 0, 1)
        features = self._svm_features(texts, frozen)
        svm = LinearSVC(C=self.profile.svm_c).fit(
            features, targets, sample_weight=None if weights is None else np.asarray(weights)
        )
        coef = svm.coef_ if len(self.labels) > 2 else np.vstack([-svm.coef_, svm.coef_])
        bias = svm.intercept_ if len(self.labels) > 2 else np.r_[-svm.intercept_, svm.intercept_]
        # Stored features x labels (C order), so scoring one query reads no transposed copy.
        self._weights = {
            "svm_w": np.ascontiguousarray(coef.T, dtype=np.float32),
            "svm_b": bias.astype(np.float32),
        }
        tell("linear model", 1, 1)
        if self.profile.fine_tune is not None:
            settings = self.profile.fine_tune
            self._tuned = SentenceEncoder.load(max_length=settings.max_length, base=settings.base)
            if settings.base != DEFAULT_BASE:  # the head starts from the base's own vectors
                frozen = self._tuned.encode(
                    texts, progress=tell, stage="frozen embeddings", bf16=settings.bf16
                )
            head = fine_tune(self._tuned, texts, targets, len(self.labels), settings, tell, frozen)
            self._serve_tuned()
            self._weights["tuned_w"] = np.ascontiguousarray(settings.scale * head.T)
        if self.profile.embedding_weight <= 0:
            self._base = None  # needed only to start the fine-tuning
        self.data_sha256 = texts_sha256(texts, labels)
        self.n_train = len(texts)
        self.train_seconds = time.perf_counter() - started
        return self

    # --- scoring ----------------------------------------------------------------------------

    def _svm_features(self, texts: list[str], frozen: np.ndarray | None = None) -> sp.csr_matrix:
        lexical = self._lexical.transform(texts)
        weight = self.profile.embedding_weight
        if weight <= 0:
            return lexical
        if frozen is None:
            assert self._base is not None
            frozen = self._base.encode(texts)
        return sp.hstack([lexical, sp.csr_matrix(weight * frozen)], format="csr")

    def scores(self, texts: list[str]) -> dict[str, np.ndarray]:
        """Each component's raw class scores, ``(len(texts), len(labels))`` each."""
        return self._scores(texts)

    def _scores(self, texts: list[str], frozen: np.ndarray | None = None) -> dict[str, np.ndarray]:
        if not self.labels:
            raise RuntimeError("IntentModel used before fit or load")
        features = self._svm_features(texts, frozen)
        found = {"svm": np.asarray(features @ self._weights["svm_w"]) + self._weights["svm_b"]}
        if self._tuned is not None:
            found["tuned"] = self._tuned.encode(texts) @ self._weights["tuned_w"]
        return found

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """Class probabilities, ``(len(texts), len(labels))``, columns in ``labels`` order."""
        return self.analyse(texts)[0]

    def analyse(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray | None]:
        """Class probabilities, and the frozen MiniLM embeddings of ``texts`` when computed.

        A recipe with the frozen float32 all-MiniLM-L6-v2 encodes each text with it anyway;
        handing the unit vectors back lets the knowledge index search with them instead of
        encoding the text a second time. Recipes without it (no frozen encoder, or its int8
        form, whose vectors are close to the index's but not equal) return ``None`` for them.
        """
        if not texts:
            return np.zeros((0, len(self.labels)), dtype=np.float64), None
        frozen = None
        if self._base is not None and self.profile.embedding_weight > 0:
            frozen = self._base.encode(texts)
        parts = self._scores(texts, frozen)
        combined = sum(self.profile.weights.get(name, 0.0) * s for name, s in parts.items())
        probabilities = _softmax(self.profile.temperature * np.asarray(combined, dtype=np.float64))
        return probabilities, None if self.profile.quantized else frozen

    def predict(self, text: str) -> tuple[str, float]:
        """The most likely label of ``text`` and its probability."""
        probabilities = self.predict_proba([text])[0]
        best = int(np.argmax(probabilities))
        return self.labels[best], float(probabilities[best])

    # --- persistence ------------------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        """What ``metadata.json`` records: labels, recipe, timing, data hash and versions."""
        return {
            "format": FORMAT,
            "labels": self.labels,
            "profile": self.profile.to_json(),
            "train_seconds": None if self.train_seconds is None else round(self.train_seconds, 2),
            "n_train": self.n_train,
            "data_sha256": self.data_sha256,
            "base_model": self.base_models(),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "versions": _versions(),
        }

    def base_models(self) -> list[str]:
        """The pretrained encoders this model is built on, with the packages they come from."""
        used = []
        if self.profile.embedding_weight > 0:
            used.append(DEFAULT_BASE)
        if self.profile.fine_tune is not None and self.profile.fine_tune.base not in used:
            used.append(self.profile.fine_tune.base)
        return [f"{bases.get(n).title} ({', '.join(bases.get(n).packages)})" for n in used]

    def save(self, directory: str | Path, extra: dict[str, Any] | None = None) -> Path:
        """Write the model into ``directory`` (replacing a model saved there before).

        The files are written into a temporary sibling first and moved into place at the end,
        so a failure leaves nothing half-written. ``extra`` is merged into the metadata.

        Raises:
            NluDataError: ``directory`` exists and is neither empty nor a saved model.
        """
        if not self.labels:
            raise RuntimeError("IntentModel.save before fit")
        target = Path(directory)
        if target.exists() and not is_model_dir(target):
            if not target.is_dir() or any(target.iterdir()):
                raise NluDataError(f"{target}: exists and is not a model directory")
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            staging.chmod(0o755)  # mkdtemp makes it private; a model is an ordinary directory
            self._lexical.save(staging / LEXICAL)
            arrays: dict[str, Any] = dict(self._weights)
            np.savez_compressed(staging / WEIGHTS, allow_pickle=False, **arrays)
            if self._tuned is not None:
                self._tuned.save(staging / ENCODER)
            metadata = {**self.metadata(), **(extra or {})}
            (staging / METADATA).write_text(json.dumps(metadata, indent=2), encoding="utf-8")
            if target.exists():
                shutil.rmtree(target)
            staging.rename(target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return target

    @classmethod
    def load(cls, directory: str | Path) -> IntentModel:
        """Read a model written by :meth:`save`.

        Raises:
            NluDataError: ``directory`` is not a saved model (or a damaged one).
        """
        where = Path(directory)
        if not is_model_dir(where):
            raise NluDataError(f"{where}: not a model directory (no {FORMAT} {METADATA})")
        try:
            metadata = json.loads((where / METADATA).read_text(encoding="utf-8"))
            model = cls(profile_from_json(metadata["profile"]))
            model.labels = [str(label) for label in metadata["labels"]]
            model.train_seconds = metadata.get("train_seconds")
            model.data_sha256 = metadata.get("data_sha256")
            model.n_train = int(metadata.get("n_train", 0))
            model._lexical = LexicalFeatures.load(where / LEXICAL)
            with np.load(where / WEIGHTS, allow_pickle=False) as stored:
                model._weights = {name: stored[name] for name in stored.files}
        except (OSError, KeyError, TypeError, ValueError) as exc:
            raise NluDataError(f"{where}: damaged model directory ({exc})") from None
        if model._weights["svm_w"].shape[1] != len(model.labels):
            raise NluDataError(f"{where}: weights do not match the {len(model.labels)} labels")
        if model.profile.embedding_weight > 0:
            model._base = SentenceEncoder.load().accelerate(quantized=model.profile.quantized)
        if "tuned_w" in model._weights:
            if not (where / ENCODER).is_dir():
                raise NluDataError(f"{where}: the fine-tuned encoder is missing")
            settings = model.profile.fine_tune
            length = settings.max_length if settings is not None else 64
            model._tuned = SentenceEncoder.load(where / ENCODER, max_length=length)
            model._serve_tuned()
        return model

    def _serve_tuned(self) -> None:
        assert self._tuned is not None
        self._tuned.accelerate(
            quantized=self.profile.tuned_quantized, keep_float=self.profile.keep_float
        )


def is_model_dir(directory: str | Path) -> bool:
    """Whether ``directory`` holds a model saved by :meth:`IntentModel.save`."""
    path = Path(directory) / METADATA
    if not path.is_file():
        return False
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False
