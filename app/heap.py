"""Keeping the garbage collector's pauses short in a long-running server.

The server holds millions of long-lived objects once the models, the knowledge index and the
libraries are loaded. Python's full (generation 2) collection walks every one of them, and it
holds the interpreter lock while it does: under ``concierge bench chat`` such a collection
stopped a worker for a noticeable pause several times a run (docs/performance.md), and every
turn in that process waited. Nothing loaded at start-up is ever garbage, so once it is loaded
the objects alive are moved to the collector's permanent generation (:func:`gc.freeze`); later
collections walk only what serving creates. Cycles among the frozen objects are never
collected, which is why the heap is collected once just before.
"""

from __future__ import annotations

import gc
import logging
import time

log = logging.getLogger(__name__)


def freeze_heap() -> int:
    """Collect once, then exempt every object alive now from later collections; their count."""
    started = time.perf_counter()
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.info("froze %d objects in %.0f ms", frozen, (time.perf_counter() - started) * 1000)
    return frozen
