"""services/features."""
