"""Fetching a record's proof (`com.atproto.sync.getRecord` CAR) from the PDS hosting it."""

from __future__ import annotations

from typing import Protocol


class RecordProofUnavailable(Exception):
    """The PDS could not be reached or did not answer a proof (network, status, size)."""


class RemoteRecordProofs(Protocol):
    """`sync.getRecord` against another server; the caller verifies what comes back."""

    def get_record_proof(self, pds_url: str, did: str, collection: str, rkey: str) -> bytes:
        """The CAR the PDS at `pds_url` answers, or `RecordProofUnavailable`."""
        ...
