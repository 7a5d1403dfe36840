"""Short-lived confirmation tokens, and the channel that carries them to the account owner.

The reference PDS emails a token before it will sign a PLC operation for an account (the
operation can move the account to another host, so a stolen session alone must not be
enough). This server has no mailer: the token goes to the operator's server log instead, and
the operator hands it over out of band. Tokens are secrets outside the log (ADR 0004); the
store keeps only their digests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """The one outstanding token of a DID for a purpose: its digest and expiry (epoch s)."""

    digest: str
    expires_at: int


class OperatorTokenStore(Protocol):
    """At most one token per `(did, purpose)`; every method is its own transaction."""

    def put(self, did: str, purpose: str, digest: str, expires_at: int) -> None:
        """Store a token, replacing any earlier one for the same DID and purpose."""
        ...

    def get(self, did: str, purpose: str) -> TokenRecord | None:
        """The outstanding token, or None."""
        ...

    def take(self, did: str, purpose: str, digest: str) -> bool:
        """Delete the token if it still has this digest; False if it was already used."""
        ...

    def find(self, purpose: str, digest: str) -> str | None:
        """The DID whose outstanding token for `purpose` has this digest, or None."""
        ...

    def delete_all(self, did: str) -> None:
        """Forget every token of `did` (takedown)."""
        ...


class TokenChannel(Protocol):
    """Delivers a token to whoever may approve the request (email in the reference)."""

    def deliver(self, did: str, handle: str, purpose: str, token: str, expires_at: int) -> None:
        """Hand `token` over; it must not be echoed to the requester."""
        ...
