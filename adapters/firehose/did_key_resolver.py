"""`DidKeyResolver` over the identity resolver: the `#atproto` key of a DID document.

The identity resolver is synchronous (HTTP and DNS with its own cache), so lookups run in a
worker thread; the consumer keeps its own per-DID key cache on top.
"""

from __future__ import annotations

import asyncio

from application.firehose_consumer.ports import SigningKeyNotFound
from application.ports.identity_resolver import IdentityResolver
from domain.identity.did_document import signing_key


class ResolverSigningKeys:
    """Signing keys from resolved DID documents."""

    def __init__(self, resolver: IdentityResolver) -> None:
        self.resolver = resolver

    async def signing_key(self, did: str) -> str:
        """The did:key of `did`'s `#atproto` verification method (fresh document)."""
        document = await asyncio.to_thread(self.resolver.resolve_did, did, force_refresh=True)
        key = signing_key(did, document)
        if key is None:
            raise SigningKeyNotFound(f"{did} has no usable #atproto key")
        return key
