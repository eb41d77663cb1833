"""services/reads."""
