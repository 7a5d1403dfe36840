"""Typed errors of the repository layer, so edges can map each to its protocol error.

All derive from `RepoError(ValueError)`: they describe bad input (a hostile CAR, a forged
commit, a write that conflicts with the repository), never a bug or an I/O failure.
"""

from __future__ import annotations


class RepoError(ValueError):
    """Input is not acceptable to a repository operation."""


class InvalidCar(RepoError):
    """Bytes are not a well-formed CAR v1 archive, or break its limits or its CIDs."""


class UnsupportedCidHash(InvalidCar):
    """A CAR block is addressed by a hash function the reader cannot verify (not sha2-256)."""


class InvalidCommit(RepoError):
    """A commit object has missing, extra or ill-typed fields or an unknown version."""


class BadCommitSignature(InvalidCommit):
    """A commit's signature does not verify against the account's current signing key."""


class InvalidSwap(RepoError):
    """A compare-and-swap precondition (swapCommit/swapRecord) does not hold."""


class RecordNotFound(RepoError):
    """An update or delete names a record path that is not in the repository."""


class RecordAlreadyExists(RepoError):
    """A create names a record path that is already in the repository."""


class InvalidWrite(RepoError):
    """A write is malformed: bad collection or record key, or a record that is not a map."""


class RepoNotFound(RepoError):
    """No repository is hosted for the requested DID."""
