"""did:plc identifiers: the hash of the signed genesis operation, so a DID certifies itself."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Final

from domain.plc.errors import DidMismatch, InvalidOperation
from domain.plc.operation import Operation

DID_PREFIX: Final = "did:plc:"
_SUFFIX_CHARS: Final = 24
_PLC_DID: Final = re.compile(r"did:plc:[a-z2-7]{24}")


def did_for_genesis(op: Operation) -> str:
    """`did:plc:` + the first 24 chars of lowercase base32(sha256(DAG-CBOR of the signed op)).

    A legacy `create` is hashed in its own legacy form, never normalized: that is what the
    DIDs created from it were derived from.
    """
    if not op.is_genesis:
        raise InvalidOperation("only a genesis operation (prev null) defines a DID")
    if op.sig is None:
        raise InvalidOperation("the DID is the hash of the signed genesis operation")
    digest = hashlib.sha256(op.signed_bytes()).digest()
    suffix = base64.b32encode(digest).decode("ascii").lower()[:_SUFFIX_CHARS]
    return DID_PREFIX + suffix


def is_plc_did(did: str) -> bool:
    """Is `did` syntactically a did:plc (lowercase, 24 base32 chars)?"""
    return _PLC_DID.fullmatch(did) is not None


def check_genesis_did(did: str, op: Operation) -> None:
    """Raise `DidMismatch` unless `op` is the genesis operation of `did`."""
    derived = did_for_genesis(op)
    if derived != did:
        raise DidMismatch(f"genesis operation hashes to {derived}, not {did[:80]}")
