"""Where account signing keys (secrets, so not in the log) are kept."""

from __future__ import annotations

from typing import Protocol

from domain.crypto.keys import Keypair


class KeyStore(Protocol):
    """Private signing keys by DID."""

    def put(self, did: str, keypair: Keypair) -> None:
        """Store (or replace) the signing key of `did`."""
        ...

    def get(self, did: str) -> Keypair | None:
        """The signing key of `did`, or None."""
        ...
