"""knowledge/encoding."""
