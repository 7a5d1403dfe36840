"""Lookup errors of the PLC directory. Refused operations raise `domain.plc.errors.PlcError`."""

from __future__ import annotations


class PlcDirectoryError(LookupError):
    """A read the directory cannot answer for a DID."""

    def __init__(self, message: str, did: str) -> None:
        super().__init__(message)
        self.did = did


class DidNotRegistered(PlcDirectoryError):
    """No operation was ever accepted for this DID (HTTP 404)."""

    def __init__(self, did: str) -> None:
        super().__init__(f"DID not registered: {did}", did)


class DidNotAvailable(PlcDirectoryError):
    """The DID is tombstoned: its log is public, but it has no document (HTTP 410)."""

    def __init__(self, did: str) -> None:
        super().__init__(f"DID not available: {did}", did)


class InvalidExportCursor(ValueError):
    """An `/export` `after` or `count` that is not a timestamp, a sequence number or >= 1."""
