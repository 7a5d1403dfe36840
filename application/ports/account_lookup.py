"""How the session use cases find an account's public facts (kept in the log's views)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """What login needs to know about an account; no secrets here (ADR 0004)."""

    did: str
    handle: str
    email: str | None
    status: str  # "active", "deactivated", "takendown", "suspended", "deleted"


class AccountLookup(Protocol):
    """Accounts by each identifier `createSession` accepts; None when there is no such account."""

    def by_did(self, did: str) -> AccountInfo | None:
        """The account with this DID."""
        ...

    def by_handle(self, handle: str) -> AccountInfo | None:
        """The account with this (already lower-cased) handle."""
        ...

    def by_email(self, email: str) -> AccountInfo | None:
        """The account with this (already lower-cased) email address."""
        ...
