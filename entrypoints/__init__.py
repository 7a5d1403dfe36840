"""quire entrypoints layer."""
