"""Quoting SQL identifiers that statements are built from (schema and table names)."""

from __future__ import annotations


def quoted(identifier: str) -> str:
    """A double-quoted SQL identifier, inner quotes doubled."""
    return '"' + identifier.replace('"', '""') + '"'
