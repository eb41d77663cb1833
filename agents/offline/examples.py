"""More examples for the offline model's intent classifier, from a file the bank names.

The project's own utterances (``agents/offline/data/utterances.csv``) give each intent a few
dozen phrasings, and the ``out_of_scope`` class a few hundred every-day requests. A bank knows
far more about what its customers ask, and about what they ask that is not banking: the
setting ``CONCIERGE_NLU_EXAMPLES`` names a file of such examples, read when the classifier is
trained (:func:`agents.offline.classifier.default_classifier`). Two forms are read:

* a ``text,category`` CSV, such as a labelled log of customers' requests: a category that is
  one of Concierge's intents (:mod:`agents.offline.intents`, ``out_of_scope`` among them)
  trains that intent, and any other category is a question for the knowledge base, learned
  as ``faq`` (as BANKING77's topics, which the articles carry, are);
* a ``.json`` file in CLINC150's form (``data_full.json``): only its ``train`` and
  ``oos_train`` lists are read, each intent mapped by ``agents/offline/data/clinc150_intents.yaml``
  (the banking and credit-card intents to Concierge's, the shared conversation moves to
  theirs; every other domain's requests, and the out-of-scope list, as ``out_of_scope``).

A file's examples outnumber the project's own many times over (CLINC150's other domains give
``out_of_scope`` over eleven thousand), so :func:`training_set` weighs them: a label's
examples count at most ``LABEL_CAP`` together, and the project's own utterances count
``OWN_WEIGHT`` times each, so the curated phrasings of Concierge's intents are not swallowed
by the file's larger classes. Both numbers were chosen on CLINC150's validation splits and on
held-out parts of the project's own utterances.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import yaml

from agents.nlu import NluDataError, file_sha256, read_labelled_csv
from agents.offline.intents import INTENTS

CLINC_INTENTS = Path(__file__).parent / "data" / "clinc150_intents.yaml"
CLINC_SPLITS = ("train", "oos_train")  # never the val or test lists: those score the model
OUT_OF_SCOPE = "out_of_scope"
FAQ = "faq"
OWN_WEIGHT = 3.0
LABEL_CAP = 2000.0

Labelled = list[tuple[str, str]]


def clinc_mapping(path: Path = CLINC_INTENTS) -> dict[str, str | None]:
    """CLINC150 intent → Concierge intent (``None``: left out of training).

    Raises:
        NluDataError: A mapped label is not one of Concierge's intents.
    """
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    found: dict[str, str | None] = {}
    for intent, label in raw.items():
        if label is not None and str(label) not in INTENTS:
            raise NluDataError(f"{path.name}: {intent} maps to unknown intent {label!r}")
        found[str(intent)] = None if label is None else str(label)
    return found


def read_clinc(path: Path, mapping: dict[str, str | None] | None = None) -> Labelled:
    """The ``train`` and ``oos_train`` requests of a CLINC150 ``data_full.json``, relabelled.

    Raises:
        NluDataError: The file is not JSON with a ``train`` list of ``[text, intent]`` pairs.
    """
    table = clinc_mapping() if mapping is None else mapping
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise NluDataError(f"{path}: not a readable JSON file ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("train"), list):
        raise NluDataError(f"{path}: no 'train' list (CLINC150's data_full.json form)")
    found: Labelled = []
    for split in CLINC_SPLITS:
        for row in data.get(split) or []:
            if not (isinstance(row, list) and len(row) == 2 and str(row[0]).strip()):
                raise NluDataError(f"{path}: {split} rows must be [text, intent] pairs")
            text, intent = str(row[0]).strip(), str(row[1])
            label = OUT_OF_SCOPE if split.startswith("oos") else table.get(intent, OUT_OF_SCOPE)
            if label is not None:
                found.append((text, label))
    return found


def read_examples(path: Path) -> Labelled:
    """The labelled examples in ``path``: CLINC150's JSON form, else a ``text,category`` CSV.

    Raises:
        NluDataError: The file is missing or in neither form.
    """
    if not path.is_file():
        raise NluDataError(f"{path}: no such file")
    if path.suffix.lower() == ".json":
        return read_clinc(path)
    texts, categories = read_labelled_csv(path)
    return [(t, c if c in INTENTS else FAQ) for t, c in zip(texts, categories, strict=True)]


def fingerprint(path: Path) -> str:
    """What the examples in ``path`` depend on: the file, its mapping and the weighting."""
    parts = [file_sha256(path), f"own={OWN_WEIGHT}", f"cap={LABEL_CAP}"]
    if path.suffix.lower() == ".json":
        parts.append(file_sha256(CLINC_INTENTS))
    return ":".join(parts)


def training_set(
    texts: list[str], labels: list[str], extra: Labelled
) -> tuple[list[str], list[str], list[float]]:
    """The project's utterances and ``extra`` together, with a weight for each example.

    Each label's examples count at most ``LABEL_CAP`` together (weighed down evenly when
    there are more), and the project's own count ``OWN_WEIGHT`` times that. An extra example
    whose text is one of the project's own is left out: the curated label stands.
    """
    own = {t.casefold() for t in texts}
    seen: set[str] = set()
    added: Labelled = []
    for text, label in extra:
        key = text.casefold()
        if key not in own and key not in seen:
            seen.add(key)
            added.append((text, label))
    all_texts = [*texts, *(t for t, _ in added)]
    all_labels = [*labels, *(label for _, label in added)]
    counts = Counter(all_labels)
    weights = [min(1.0, LABEL_CAP / counts[label]) for label in all_labels]
    for i in range(len(texts)):
        weights[i] *= OWN_WEIGHT
    return all_texts, all_labels, weights
