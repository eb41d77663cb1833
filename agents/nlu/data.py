"""Reading and checking a CSV of labelled utterances (columns ``text`` and ``category``)."""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from pathlib import Path

TEXT_COLUMN = "text"
LABEL_COLUMN = "category"


class NluDataError(ValueError):
    """A CSV of labelled utterances (or a model directory) that cannot be used."""


def read_labelled_csv(path: str | Path, *, min_per_label: int = 1) -> tuple[list[str], list[str]]:
    """Read the utterances and their labels from a ``text,category`` CSV.

    Args:
        path: The CSV file; its header must have a ``text`` and a ``category`` column (others
            are ignored).
        min_per_label: The fewest examples a label may have (2 for training, so that every
            intent is learned from more than one phrasing).

    Returns:
        The texts and their labels, in file order, stripped of surrounding whitespace.

    Raises:
        NluDataError: The file is missing, unreadable, not UTF-8, lacks a column, has a row
            with an empty text or label, has no rows, or a label with too few examples.
    """
    path = Path(path)
    if not path.is_file():
        raise NluDataError(f"{path}: no such file")
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            columns = [name.strip() for name in reader.fieldnames or []]
            missing = [c for c in (TEXT_COLUMN, LABEL_COLUMN) if c not in columns]
            if missing:
                raise NluDataError(
                    f"{path}: missing column(s) {', '.join(missing)} (header: {','.join(columns)})"
                )
            reader.fieldnames = columns
            texts: list[str] = []
            labels: list[str] = []
            for row in reader:
                text = (row.get(TEXT_COLUMN) or "").strip()
                label = (row.get(LABEL_COLUMN) or "").strip()
                if not text and not label:
                    continue  # a blank line
                if not text or not label:
                    raise NluDataError(f"{path}:{reader.line_num}: empty text or category")
                texts.append(text)
                labels.append(label)
    except UnicodeDecodeError as exc:
        raise NluDataError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except csv.Error as exc:
        raise NluDataError(f"{path}: not a valid CSV ({exc})") from None
    if not texts:
        raise NluDataError(f"{path}: no labelled rows")
    counts = Counter(labels)
    scarce = sorted(label for label, n in counts.items() if n < min_per_label)
    if scarce:
        shown = ", ".join(scarce[:5]) + (" ..." if len(scarce) > 5 else "")
        raise NluDataError(
            f"{path}: {len(scarce)} label(s) with fewer than {min_per_label} examples: {shown}"
        )
    return texts, labels


def check_trainable(texts: list[str], labels: list[str]) -> None:
    """Refuse training data that cannot make a classifier.

    Raises:
        NluDataError: The lists differ in length, there are fewer than two labels, or a label
            has fewer than two examples.
    """
    if len(texts) != len(labels):
        raise NluDataError(f"{len(texts)} texts but {len(labels)} labels")
    counts = Counter(labels)
    if len(counts) < 2:
        raise NluDataError(f"need at least 2 labels to train, got {len(counts)}")
    scarce = sorted(label for label, n in counts.items() if n < 2)
    if scarce:
        raise NluDataError(f"label(s) with fewer than 2 examples: {', '.join(scarce[:5])}")


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, in hex (recorded with a model to tell its data)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def texts_sha256(texts: list[str], labels: list[str]) -> str:
    """The SHA-256 of labelled texts (for a model trained from lists rather than a file)."""
    digest = hashlib.sha256()
    for text, label in zip(texts, labels, strict=True):
        digest.update(f"{label}\t{text}\n".encode())
    return digest.hexdigest()
