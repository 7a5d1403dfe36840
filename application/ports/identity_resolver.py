"""Resolving identities: DIDs to DID documents, handles to DIDs, and the two-way check.

A handle is only an account's name if both directions agree: the DID document claims the
handle and the handle resolves to the DID. `verified_handle` performs that check and answers
`handle.invalid` when it fails, which is what API responses show for such accounts.
"""

from __future__ import annotations

from typing import Any, Protocol


class IdentityError(Exception):
    """An identity could not be resolved."""


class UnsupportedDid(IdentityError):
    """Not a DID atproto resolves: bad syntax, another method, a did:web path or port."""


class DidNotFound(IdentityError):
    """The DID's method positively says there is no such DID (or it is deactivated)."""


class InvalidDidDocument(IdentityError):
    """What was served is not a DID document for the DID asked for."""


class ResolutionFailed(IdentityError):
    """The lookup could not complete: timeout, refused address, oversized or bad response."""


class IdentityResolver(Protocol):
    """DID and handle resolution with caching."""

    def resolve_did(self, did: str, *, force_refresh: bool = False) -> dict[str, Any]:
        """The DID document of `did`, checked to be a document whose `id` is `did`."""
        ...

    def resolve_handle(self, handle: str, *, force_refresh: bool = False) -> str | None:
        """The DID a handle points to (DNS TXT `_atproto.` or HTTPS well-known), or None."""
        ...

    def verified_handle(self, did: str) -> str:
        """The handle the DID claims if it resolves back to the DID, else `handle.invalid`."""
        ...
