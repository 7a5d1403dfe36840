"""Resolving a handle to a DID (DNS TXT or HTTPS well-known), as far as identity updates need.

`adapters.identity.resolver.Resolver` implements it; an updateHandle to a domain this server
does not serve is accepted only if the handle already points at the account's DID.
"""

from __future__ import annotations

from typing import Protocol


class HandleResolver(Protocol):
    """Handle -> DID."""

    def resolve_handle(self, handle: str, *, force_refresh: bool = False) -> str | None:
        """The DID the handle points at, or None when it does not resolve."""
        ...
