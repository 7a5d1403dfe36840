"""`com.atproto.sync.getRecord` against another PDS, through the guarded identity client.

The PDS URL comes from a DID document a stranger wrote, so the request is as guarded as
identity lookups are (no private addresses, bounded time and size); what it returns is only
bytes to verify (`domain.repo.record_proof`), never trusted as it comes.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlencode

import httpx

from adapters.identity.safe_http import OutboundError, request
from application.ports.record_proofs import RecordProofUnavailable

MAX_PROOF_BYTES: Final = (1024 + 10) * 1024
"""A record (at most 1 MiB) and its path, as the reference lexicon resolver allows."""


class HttpRecordProofs:
    """Fetches proof CARs with an SSRF-guarded client (`safe_http.guarded_client`)."""

    def __init__(
        self, http: httpx.Client, *, timeout: float, max_bytes: int = MAX_PROOF_BYTES
    ) -> None:
        self.http, self.timeout, self.max_bytes = http, timeout, max_bytes

    def get_record_proof(self, pds_url: str, did: str, collection: str, rkey: str) -> bytes:
        """The CAR the PDS answers with 200, or `RecordProofUnavailable`."""
        query = urlencode({"did": did, "collection": collection, "rkey": rkey})
        url = f"{pds_url.rstrip('/')}/xrpc/com.atproto.sync.getRecord?{query}"
        try:
            fetched = request(
                self.http,
                "GET",
                url,
                max_bytes=self.max_bytes,
                timeout=self.timeout,
                headers={"accept": "application/vnd.ipld.car"},
            )
        except OutboundError as exc:
            raise RecordProofUnavailable(f"{pds_url}: {exc}") from exc
        if fetched.status != 200:
            raise RecordProofUnavailable(f"{pds_url} answered getRecord with {fetched.status}")
        return fetched.body
