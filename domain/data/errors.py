"""Typed errors of the data model, so edges can map them to protocol errors."""


class DataModelError(ValueError):
    """A value is not valid in the atproto data model."""


class DecodeError(DataModelError):
    """Bytes are not strict DAG-CBOR (or not a valid CID, or not atproto JSON)."""


class EncodeError(DataModelError):
    """A Python value cannot be represented in the atproto data model."""


class InvalidCid(DecodeError):
    """A CID in binary or text form is malformed or not supported."""
