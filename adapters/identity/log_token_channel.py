"""`TokenChannel` to the server log: the operator relays the token to the account owner.

This machine sends no email, so the confirmation the reference PDS mails for a PLC
operation is written to the `quire.operator` logger at WARNING, which reaches stderr (the
server log) under uvicorn's logging and under Python's default handler alike.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

log = logging.getLogger("quire.operator")


class LogTokenChannel:
    """Logs each token with the account and expiry, for the operator to pass on."""

    def deliver(self, did: str, handle: str, purpose: str, token: str, expires_at: int) -> None:
        until = datetime.fromtimestamp(expires_at, UTC).isoformat(timespec="seconds")
        log.warning("%s token for %s (%s): %s (valid until %s)", purpose, did, handle, token, until)
