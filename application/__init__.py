"""quire application layer."""
