"""`at-identifier`: a handle or a DID. Unambiguous, since handles can never contain ':'."""

from __future__ import annotations

from domain.syntax.did import is_valid_did
from domain.syntax.errors import InvalidAtIdentifier
from domain.syntax.handle import is_valid_handle


def is_valid_at_identifier(s: str) -> bool:
    """Whether `s` is a valid DID (if it starts with `did:`) or else a valid handle."""
    return is_valid_did(s) if s.startswith("did:") else is_valid_handle(s)


def ensure_valid_at_identifier(s: str) -> None:
    """Raise `InvalidAtIdentifier` unless `s` is a valid DID or handle."""
    if not is_valid_at_identifier(s):
        kind = "DID" if s.startswith("did:") else "handle"
        raise InvalidAtIdentifier(f"invalid at-identifier ({kind}): {s!r}")


def is_did_identifier(s: str) -> bool:
    """For a valid at-identifier: whether it is a DID (rather than a handle)."""
    return s.startswith("did:")
