"""Helpers shared by the tests (no tests here): imported as ``tests.support.<module>``.

Fixtures stay in the ``conftest.py`` files; these are plain functions, builders and samples.
"""

from pathlib import Path

# The repository's root, for tests that read its files (README, pyproject, mappings...).
ROOT = Path(__file__).resolve().parents[2]
