"""What the firehose consumer needs from outside: a stream of frames and signing keys."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol


class FrameSourceError(Exception):
    """The connection failed or dropped (not the server's error frame): reconnect."""


class FrameSource(Protocol):
    """A remote `subscribeRepos` stream, one connection per call."""

    def frames(self, cursor: int | None) -> AsyncIterator[bytes]:
        """Connect with `cursor` and yield each binary message until the server closes.

        Ends normally on a clean close; raises `FrameSourceError` on a transport failure.
        """
        ...


class SigningKeyNotFound(Exception):
    """The DID resolved, but its document has no usable `#atproto` key."""


class DidKeyResolver(Protocol):
    """The current `#atproto` signing key of a DID, from its DID document."""

    async def signing_key(self, did: str) -> str:
        """The key as `did:key:...`; raises `SigningKeyNotFound` or an identity error."""
        ...
