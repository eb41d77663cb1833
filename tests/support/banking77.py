"""BANKING77 (PolyAI, CC BY 4.0), which the knowledge-base tests check the articles against.

The data set is never copied into the repository: the environment variable ``BANKING77`` names
the folder holding its ``train.csv``, ``test.csv`` and ``categories.json`` (``.ci/run`` exports
it). Unset, the tests that need it are skipped with that message; with ``CI=true`` they fail.
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.support import unavailable

FILES = ("train.csv", "test.csv", "categories.json")
HOW = "set BANKING77 to the folder holding BANKING77's train.csv, test.csv and categories.json"


def banking77_file(name: str) -> Path:
    """``name`` (one of FILES) in the ``BANKING77`` folder; skips, or fails in CI, without it."""
    assert name in FILES, name
    folder = os.environ.get("BANKING77", "").strip()
    if not folder:
        unavailable(f"BANKING77 is not set: {HOW}")
    path = Path(folder).expanduser() / name
    if not path.is_file():
        unavailable(f"BANKING77={folder} has no {name}: {HOW}")
    return path
