"""quire domain layer."""
