"""Talking to a did:plc directory: the embedded one in-process, or any directory over HTTP.

Results are domain values (parsed strictly), except the DID document, which is JSON by
nature. Failures are the typed errors below, the same whichever directory answered, so a
caller can tell "no such DID" from "deactivated" from "refused" from "unreachable".
"""

from __future__ import annotations

from typing import Any, Protocol

from domain.plc.audit_log import LogEntry
from domain.plc.document import PlcData
from domain.plc.operation import Operation


class PlcClientError(Exception):
    """A PLC directory request did not succeed."""


class PlcDidNotFound(PlcClientError):
    """The directory has no operation for the DID (HTTP 404)."""


class PlcDidDeactivated(PlcDidNotFound):
    """The DID is tombstoned: no document, no data (HTTP 410; some directories say 404)."""


class PlcOperationRejected(PlcClientError):
    """The directory refused a submitted operation (HTTP 400); the message says why."""


class PlcUnavailable(PlcClientError):
    """The directory could not be reached, failed, or answered something unparseable."""


class PlcClient(Protocol):
    """The directory operations a PDS needs."""

    def submit(self, did: str, op: Operation) -> None:
        """Submit a signed operation for `did` (`POST /:did`)."""
        ...

    def get_document(self, did: str) -> dict[str, Any]:
        """The DID document (`GET /:did`)."""
        ...

    def get_data(self, did: str) -> PlcData:
        """The current PLC data (`GET /:did/data`)."""
        ...

    def get_last_op(self, did: str) -> Operation:
        """The latest standing operation (`GET /:did/log/last`), possibly a tombstone."""
        ...

    def get_audit_log(self, did: str) -> tuple[LogEntry, ...]:
        """Every operation with its metadata (`GET /:did/log/audit`), unvalidated: run
        `domain.plc.audit_log.validate_audit_log` on it to trust a remote directory less."""
        ...
