"""Delivery layer: the FastAPI app, session auth and the `concierge` CLI."""
