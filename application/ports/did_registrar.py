"""Creating an account's DID: did:plc through a PLC directory (embedded or remote)."""

from __future__ import annotations

from typing import Protocol


class DidRegistrar(Protocol):
    """Registers a new identity and returns its DID."""

    def register(
        self,
        *,
        handle: str,
        signing_key: str,
        pds_endpoint: str,
        recovery_key: str | None = None,
    ) -> str:
        """Create the DID with its `#atproto` key, handle and `#atproto_pds` service."""
        ...
