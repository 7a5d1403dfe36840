"""Typed did:plc errors, one class per rule, so a directory can say exactly why it refused.

Every error is a `PlcError` (a `ValueError`), so an edge can map the whole family to a 400.
"""

from __future__ import annotations


class PlcError(ValueError):
    """An operation, log or document violates the did:plc method."""


class InvalidOperation(PlcError):
    """The operation's shape is wrong: fields, types, or a limit of the spec or directory."""


class OperationTooLarge(InvalidOperation):
    """The operation's DAG-CBOR encoding is over the size limit."""


class InvalidSignature(PlcError):
    """No allowed rotation key verifies the operation's signature."""


class MalformedSignature(InvalidSignature):
    """The `sig` string is not canonical unpadded base64url (padding, newline, stray bits)."""


class InsufficientKeyPriority(InvalidSignature):
    """A rotation key signed a fork, but it does not outrank the key it would overrule."""


class InvalidPrev(PlcError):
    """`prev` does not point at an operation this operation may build on."""


class NullifiedPrev(InvalidPrev):
    """`prev` points at an operation that has been nullified."""


class TombstonedDid(PlcError):
    """The operation builds on a tombstone: a deactivated DID takes no further updates."""


class NullificationTooLate(PlcError):
    """A fork would nullify an operation more than 72 hours after it was accepted."""


class MisorderedOperation(PlcError):
    """Timestamps do not strictly increase along the log."""


class DidMismatch(PlcError):
    """The DID does not match the genesis operation's hash, or entries name other DIDs."""


class CidMismatch(PlcError):
    """A log entry's `cid` is not the CID of its operation."""


class NullificationMismatch(PlcError):
    """A log entry's `nullified` flag disagrees with what the rules make of the log."""


class InvalidLogEntry(PlcError):
    """An audit-log entry is malformed (missing fields, bad timestamp, empty log)."""


class DuplicateOperation(PlcError):
    """The operation is already in the log."""


class RateLimited(PlcError):
    """Too many operations for this DID in a recent window (the reference directory's limits)."""
