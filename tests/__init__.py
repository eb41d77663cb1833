"""Concierge's tests. Every folder is a package, so that test modules named alike in different
folders (``unit/services/ingest/test_mapping.py``, ``integration/services/ingest/
test_mapping.py``) do not clash, and the shared helpers import as ``tests.support.<module>``."""
