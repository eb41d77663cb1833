"""Dialogue acts: what a customer's message does, read against what the assistant just did.

The same words mean different things after different assistant acts: "yes" after a proposed
transfer approves it, "savings" after "which account?" answers the question, "what's in savings?"
in the middle of a task is a question to answer before going on. :class:`ActModel` names the
*move* of a message given the assistant's last act (its *context*):

* contexts — ``START`` (nothing pending), ``CONFIRM`` (an action waits for approval),
  ``REQUEST`` (a detail was asked for), ``OFFER`` (a suggestion or a yes/no offer),
  ``REQ_MORE`` ("anything else?"), ``OTHER``;
* moves — ``accept``, ``accept_ask`` (accepts and asks something), ``refuse``, ``correct``
  (changes a detail of what was proposed), ``inform`` (gives a detail), ``ask``, ``new_task``,
  ``thanks``, ``bye``.

It is a linear model over word and character n-grams, with the n-grams also crossed with the
``CONFIRM`` context (the words of a reply to a proposal weigh differently), trained in seconds.
Its training data is the curated seed ``agents/offline/data/acts.csv`` (``context,text,move``),
plus, when the environment variable ``CONCIERGE_SGD_USER_TURNS`` names the Schema-Guided
Dialogue user-turn file (``user_turns.jsonl.gz``: each user turn with the system's preceding
acts and the user's acts), that file's ``train`` and ``dev`` splits — never its ``test`` split,
which :func:`evaluate_sgd` scores. The trained model is kept under ``var/acts/`` keyed by its
data and recipe, like the intent model (:mod:`agents.offline.classifier`), so it is trained once.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import os
import pickle
import random
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SEED = Path(__file__).parent / "data" / "acts.csv"
SGD_ENV = "CONCIERGE_SGD_USER_TURNS"
RECIPE = "acts-v1"
CONTEXTS = ("START", "CONFIRM", "REQUEST", "OFFER", "REQ_MORE", "OTHER")
MOVES = (
    "accept",
    "accept_ask",
    "refuse",
    "correct",
    "inform",
    "ask",
    "new_task",
    "thanks",
    "bye",
)
# SGD turns kept per (context, move) for training: enough for every pattern, trained in seconds
PER_CELL = 4000
SEED_WEIGHT = 5  # the curated seed is repeated so its banking words count beside SGD's


@dataclass(frozen=True)
class Example:
    """One customer message with the assistant's last act and the move it made."""

    context: str
    text: str
    move: str


def sgd_context(system: dict[str, Any] | None) -> str:
    """The context of an SGD user turn from the system turn before it."""
    if not system:
        return "START"
    kinds = {str(a).split(":")[0] for a in system.get("acts", [])}
    for kind, context in (
        ("CONFIRM", "CONFIRM"),
        ("REQUEST", "REQUEST"),
        ("OFFER_INTENT", "OFFER"),
        ("OFFER", "OFFER"),
        ("REQ_MORE", "REQ_MORE"),
    ):
        if kind in kinds:
            return context
    return "OTHER"


def sgd_move(context: str, acts: Iterable[str]) -> str:
    """The move of an SGD user turn from its annotated acts (``AFFIRM``, ``INFORM:amount``...)."""
    kinds = {str(a).split(":")[0] for a in acts}
    if "INFORM_INTENT" in kinds:
        return "new_task"
    if kinds & {"AFFIRM", "AFFIRM_INTENT", "SELECT"}:
        return "accept_ask" if "REQUEST" in kinds else "accept"
    if kinds & {"NEGATE", "NEGATE_INTENT", "REQUEST_ALTS"}:
        if "INFORM" in kinds:
            return "correct"
        if kinds & {"THANK_YOU", "GOODBYE"}:
            return "bye"
        return "refuse"
    if "INFORM" in kinds:
        return "correct" if context == "CONFIRM" else "inform"
    if "REQUEST" in kinds:
        return "ask"
    if "GOODBYE" in kinds:
        return "bye"
    return "thanks"


def read_seed(path: Path = SEED) -> list[Example]:
    """The curated examples (``context,text,move`` rows)."""
    with path.open(encoding="utf-8", newline="") as handle:
        return [Example(r["context"], r["text"], r["move"]) for r in csv.DictReader(handle)]


def read_sgd(path: Path, splits: Iterable[str]) -> Iterator[Example]:
    """The SGD user turns of ``splits`` as examples."""
    wanted = set(splits)
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if row.get("split") not in wanted:
                continue
            context = sgd_context(row.get("system"))
            yield Example(context, str(row["text"]), sgd_move(context, row.get("acts", [])))


def training_examples(sgd: Path | None, *, seed: Path = SEED) -> list[Example]:
    """The seed, plus a balanced sample of SGD's ``train`` and ``dev`` turns when given."""
    examples = read_seed(seed) * SEED_WEIGHT
    if sgd is not None:
        cells: dict[tuple[str, str], list[Example]] = defaultdict(list)
        for example in read_sgd(sgd, ("train", "dev")):
            cells[(example.context, example.move)].append(example)
        rng = random.Random(0)
        for key in sorted(cells):
            rows = cells[key]
            rng.shuffle(rows)
            examples.extend(rows[:PER_CELL])
    return examples


def _normal(text: str) -> str:
    return " ".join(text.lower().replace("’", "'").split())


class ActModel:
    """Names the move of a message given the assistant's last act."""

    def __init__(self) -> None:
        """An untrained model."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import SGDClassifier

        self.words = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True)
        self.chars = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 4), min_df=2, sublinear_tf=True, max_features=20000
        )
        self.model = SGDClassifier(
            loss="modified_huber", alpha=5e-5, max_iter=20, tol=None, random_state=0
        )
        self.info: dict[str, Any] = {}

    def _features(self, contexts: list[str], texts: list[str], *, fit: bool = False) -> Any:
        import numpy as np
        from scipy.sparse import csr_matrix, hstack

        norm = [_normal(t) for t in texts]
        if fit:
            words, chars = self.words.fit_transform(norm), self.chars.fit_transform(norm)
        else:
            words, chars = self.words.transform(norm), self.chars.transform(norm)
        lexical = hstack([words, chars]).tocsr()
        onehot = np.zeros((len(texts), len(CONTEXTS)), dtype=np.float64)
        for i, context in enumerate(contexts):
            onehot[i, CONTEXTS.index(context if context in CONTEXTS else "OTHER")] = 1.0
        confirming = csr_matrix(onehot[:, [CONTEXTS.index("CONFIRM")]])
        return hstack([lexical, lexical.multiply(confirming), csr_matrix(onehot)]).tocsr()

    def fit(self, examples: list[Example]) -> ActModel:
        """Train on ``examples``."""
        contexts = [e.context for e in examples]
        texts = [e.text for e in examples]
        self.model.fit(self._features(contexts, texts, fit=True), [e.move for e in examples])
        self.info = {"examples": len(examples), "moves": dict(Counter(e.move for e in examples))}
        return self

    def predict_many(self, contexts: list[str], texts: list[str]) -> list[tuple[str, float]]:
        """``(move, confidence)`` of each message."""
        scores = self.model.predict_proba(self._features(contexts, texts))
        labels = list(self.model.classes_)
        out = []
        for row in scores:
            best = int(row.argmax())
            out.append((str(labels[best]), float(row[best])))
        return out

    def predict(self, text: str, context: str) -> tuple[str, float]:
        """The move of ``text`` after an assistant act of ``context``, with a confidence."""
        return self.predict_many([context], [text])[0]

    def save(self, folder: Path) -> None:
        """Keep the model in ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "model.pkl").write_bytes(pickle.dumps(self))
        (folder / "info.json").write_text(json.dumps({"recipe": RECIPE, **self.info}, indent=1))

    @classmethod
    def load(cls, folder: Path) -> ActModel:
        """The model :meth:`save` kept in ``folder`` (a file this project wrote)."""
        found = pickle.loads((folder / "model.pkl").read_bytes())  # noqa: S301 - our own file
        if not isinstance(found, cls):
            raise TypeError(f"{folder} does not hold an act model")
        return found


def sgd_path() -> Path | None:
    """The SGD user-turn file named by ``CONCIERGE_SGD_USER_TURNS``, if it is there."""
    value = os.environ.get(SGD_ENV, "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    return path if path.is_file() else None


def model_dir(var_dir: Path, sgd: Path | None, seed: Path = SEED) -> Path:
    """Where the act model for this seed, this SGD file (if any) and this recipe lives."""
    digest = hashlib.sha256(seed.read_bytes())
    digest.update(RECIPE.encode())
    if sgd is not None:
        stat = sgd.stat()
        digest.update(f"{sgd.name}:{stat.st_size}:{int(stat.st_mtime)}".encode())
    return var_dir / "acts" / f"acts-{digest.hexdigest()[:16]}"


def default_act_model(var_dir: Path, *, sgd: Path | None = None, seed: Path = SEED) -> ActModel:
    """The act model for the seed (and ``sgd`` when given), trained and kept if missing."""
    folder = model_dir(var_dir, sgd, seed)
    if (folder / "model.pkl").is_file():
        try:
            return ActModel.load(folder)
        except (OSError, TypeError, pickle.UnpicklingError, AttributeError, EOFError):
            pass  # unreadable: trained again below
    model = ActModel().fit(training_examples(sgd, seed=seed))
    try:
        model.save(folder)
    except OSError:
        pass  # a read-only var/ still gets a working model, trained each start
    return model


_LOCK = threading.Lock()
_SHARED: dict[Path, ActModel] = {}


def shared_act_model() -> ActModel:
    """One act model per process: ``var_dir`` from the settings, SGD from the environment."""
    from services.settings import Settings

    var_dir = Settings().var_dir
    sgd = sgd_path()
    key = model_dir(var_dir, sgd)
    with _LOCK:
        if key not in _SHARED:
            _SHARED[key] = default_act_model(var_dir, sgd=sgd)
        return _SHARED[key]


def evaluate_sgd(model: ActModel, path: Path, split: str = "test") -> dict[str, Any]:
    """Move accuracy of ``model`` on one split of the SGD user-turn file, overall and by move."""
    examples = list(read_sgd(path, (split,)))
    predicted = model.predict_many([e.context for e in examples], [e.text for e in examples])
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for example, (move, _) in zip(examples, predicted, strict=True):
        total[example.move] += 1
        right[example.move] += move == example.move
    confirm = [(e, p) for e, p in zip(examples, predicted, strict=True) if e.context == "CONFIRM"]
    return {
        "split": split,
        "n": len(examples),
        "accuracy": round(sum(right.values()) / max(1, len(examples)), 4),
        "confirm_context_accuracy": round(
            sum(e.move == p[0] for e, p in confirm) / max(1, len(confirm)), 4
        ),
        "by_move": {m: round(right[m] / total[m], 4) for m in sorted(total)},
    }
