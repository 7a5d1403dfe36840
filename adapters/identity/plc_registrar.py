"""`DidRegistrar` for did:plc: the server signs a genesis operation and submits it.

Rotation keys follow the reference PDS (`createAccount.ts`, `formatDidAndPlcOp`): the
user's recovery key, when given, first (highest authority: it can overrule the server for 72
hours), then the server's rotation key. The DID is read back from the directory before it
is returned, as the reference PDS resolves the new document before creating the account, so
an account is never recorded under a DID the directory does not serve as intended.
"""

from __future__ import annotations

from application.ports.plc_client import PlcClient
from domain.crypto.k256 import K256Keypair
from domain.plc.builder import build_genesis
from domain.plc.operation import ensure_atproto_prefix, ensure_http_prefix


class DidRegistrationError(Exception):
    """The directory accepted the genesis op but does not serve the DID as submitted."""


class PlcRegistrar:
    """Creates did:plc identities through any `PlcClient` (embedded or remote)."""

    def __init__(self, plc: PlcClient, rotation_key: K256Keypair) -> None:
        self.plc = plc
        self.rotation_key = rotation_key

    @property
    def rotation_key_did(self) -> str:
        """The server's rotation key as it appears in `rotationKeys`."""
        return self.rotation_key.did()

    def register(
        self,
        *,
        handle: str,
        signing_key: str,
        pds_endpoint: str,
        recovery_key: str | None = None,
    ) -> str:
        """Build, sign and submit the genesis op; return the DID once the directory has it.

        Raises `domain.plc.errors.PlcError` for bad inputs (say, a recovery key that is not
        a k256/p256 did:key), and the `PlcClient` errors if the directory refuses or fails.
        """
        genesis = build_genesis(
            signing_key=signing_key,
            handle=handle,
            pds_endpoint=pds_endpoint,
            server_rotation_key=self.rotation_key,
            recovery_key=recovery_key,
        )
        self.plc.submit(genesis.did, genesis.operation)
        data = self.plc.get_data(genesis.did)
        expected_aka = ensure_atproto_prefix(handle)
        if (
            data.signing_key != signing_key
            or data.pds_endpoint != ensure_http_prefix(pds_endpoint)
            or expected_aka not in data.also_known_as
        ):
            raise DidRegistrationError(f"directory serves {genesis.did} differently from its op")
        return genesis.did
