"""quire adapters layer."""
