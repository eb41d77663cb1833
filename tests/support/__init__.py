"""Helpers shared by the tests (no tests here): imported as ``tests.support.<module>``.

Fixtures stay in the ``conftest.py`` files; these are plain functions, builders and samples.
"""

import os
from pathlib import Path

import pytest

# The repository's root, for tests that read its files (README, pyproject, mappings...).
ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() == "true"


def unavailable(message: str) -> None:
    """Fail the test when ``CI=true``, skip it elsewhere: CI must run every test, and a skip
    there would hide a machine that lacks a server, the browser or a data set."""
    if IN_CI:
        pytest.fail(f"{message} (CI=true: tests that need it must run)", pytrace=False)
    pytest.skip(message)
