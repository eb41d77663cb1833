"""Whether the browser tests (tests/e2e) can run here, and how to make them.

They drive Debian's chromium through Playwright; Playwright's own browser download is not used.
"""

from __future__ import annotations

import importlib.util
import os

# Debian's package puts the browser here; CONCIERGE_TEST_CHROMIUM points at another binary.
CHROMIUM = os.environ.get("CONCIERGE_TEST_CHROMIUM", "/usr/bin/chromium")
INSTALL = (
    "install Debian's chromium with `apt-get install chromium` "
    "(Playwright's own browser download is not used)"
)


def browser_missing() -> str | None:
    """Why the browser tests cannot run on this machine, or None when they can."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"{CHROMIUM} is missing: {INSTALL}"
    if importlib.util.find_spec("playwright") is None:
        return "Playwright is missing: install the dev extra with `pip install -e '.[dev]'`"
    return None
