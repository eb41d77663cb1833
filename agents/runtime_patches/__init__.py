"""agents/runtime_patches."""
