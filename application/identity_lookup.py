"""`resolveDid`, `resolveIdentity` and `refreshIdentity`: identities as a client should see them.

A handle is only reported if both directions agree (the DID document claims it and it
resolves back to the DID); otherwise `handle.invalid`, as the reference answers. Handles of
accounts hosted here resolve from the accounts view first (and their DID documents are read
fresh), the way `resolveHandle` and
`/.well-known/atproto-did` already answer for them, so a local account never waits on DNS.
`refreshIdentity` does the same with every cache bypassed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from application.ports.identity_resolver import (
    DidNotFound,
    IdentityError,
    IdentityResolver,
    UnsupportedDid,
)
from application.views import AccountRow
from domain.identity.did_document import INVALID_HANDLE, MalformedDidDocument, atproto_identity


class HostedHandles(Protocol):
    """The accounts view."""

    def get_account(self, did: str) -> AccountRow | None: ...

    def get_account_by_handle(self, handle: str) -> AccountRow | None: ...


class IdentityNotFound(Exception):
    """A lexicon error of the identity methods (`HandleNotFound`, `DidNotFound`)."""

    status = 400

    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error = error


@dataclass(frozen=True, slots=True)
class IdentityInfo:
    """`com.atproto.identity.defs#identityInfo`."""

    did: str
    handle: str
    did_doc: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"did": self.did, "handle": self.handle, "didDoc": self.did_doc}


class IdentityLookup:
    """Resolution for clients, over the caching resolver and the local accounts."""

    def __init__(self, resolver: IdentityResolver, hosted: HostedHandles) -> None:
        self.resolver, self.hosted = resolver, hosted

    def did_document(self, did: str, *, refresh: bool = False) -> dict[str, Any]:
        """The DID document, or `DidNotFound` (also for a DID that cannot be resolved).

        A DID hosted here is always read fresh: this server changes its document (handle
        updates, key rotations) and must not answer from a cache an hour old.
        """
        refresh = refresh or self.hosted.get_account(did) is not None
        try:
            return self.resolver.resolve_did(did, force_refresh=refresh)
        except (DidNotFound, UnsupportedDid) as exc:
            raise IdentityNotFound("DidNotFound", f"DID not found: {did}") from exc
        except IdentityError as exc:
            raise IdentityNotFound("DidNotFound", f"could not resolve {did}: {exc}") from exc

    def handle_did(self, handle: str, *, refresh: bool = False) -> str | None:
        """The DID a handle points to: a hosted account's, else DNS or HTTPS."""
        row = self.hosted.get_account_by_handle(handle)
        if row is not None:
            return row.did
        try:
            return self.resolver.resolve_handle(handle, force_refresh=refresh)
        except IdentityError:
            return None

    def identity(self, identifier: str, *, refresh: bool = False) -> IdentityInfo:
        """DID, verified handle (or `handle.invalid`) and DID document of a DID or handle."""
        if identifier.startswith("did:"):
            did = identifier
        else:
            found = self.handle_did(identifier.lower(), refresh=refresh)
            if found is None:
                raise IdentityNotFound("HandleNotFound", f"Unable to resolve handle: {identifier}")
            did = found
        doc = self.did_document(did, refresh=refresh)
        try:
            claimed = atproto_identity(did, doc).handle
        except MalformedDidDocument:
            claimed = None
        verified = claimed is not None and self.handle_did(claimed, refresh=refresh) == did
        return IdentityInfo(did, claimed if verified and claimed else INVALID_HANDLE, doc)
