"""Where account signing keys (secrets, so not in the log) are kept."""

from __future__ import annotations

from typing import Protocol

from domain.crypto.keys import Keypair


class KeyStore(Protocol):
    """Private signing keys by DID and public key.

    Keys are looked up by the public key the log says is current (the Account's
    `signing_key`), so a crash between storing a new key and recording its rotation can
    never make the server sign with a key the log does not know.
    """

    def put(self, did: str, keypair: Keypair) -> None:
        """Store a signing key of `did` (keys are added, never overwritten)."""
        ...

    def get(self, did: str, public_key: str) -> Keypair | None:
        """The private key of `did` whose did:key is `public_key`, or None."""
        ...
