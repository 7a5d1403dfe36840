"""Lexicon validation of records on write, behind a port so tests can swap schemas."""

from __future__ import annotations

from typing import Any, Protocol


class RecordValidator(Protocol):
    """Validates a record against its collection's lexicon."""

    def validate(self, collection: str, rkey: str, record: Any, validate: bool | None) -> str:
        """Return "valid" or "unknown"; raise `InvalidRecord` when it fails.

        `validate=True` requires a known schema, `False` skips validation (result "unknown"),
        `None` validates known types and passes unknown ones.
        """
        ...


class InvalidRecord(ValueError):
    """A record does not match its lexicon (or `validate: true` names an unknown type)."""
