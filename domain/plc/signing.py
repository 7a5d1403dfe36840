"""Signing and strictly verifying did:plc operations.

The signature is part of the signed bytes, so the CID of an operation changes with its `sig`
string. If two strings could carry one signature (padding, a newline, non-zero trailing bits,
a high-S twin, a DER form), anyone could mint a second valid operation with a different CID
from a published one. Verification therefore accepts exactly one encoding: 64 bytes `r||s`
with low S, in unpadded base64url whose unused trailing bits are zero (spec, v0.2.1).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from typing import Final, TypeVar

from domain.crypto.keys import Keypair, verify_signature
from domain.plc.errors import InvalidSignature, MalformedSignature
from domain.plc.operation import LegacyCreate, Operation, PlcOperation, PlcTombstone

SIGNATURE_BYTES: Final = 64

_BASE64URL: Final = re.compile(r"[A-Za-z0-9_-]*")

OpT = TypeVar("OpT", PlcOperation, PlcTombstone, LegacyCreate)


def encode_sig(sig: bytes) -> str:
    """base64url without `=` padding, as the spec asks."""
    return base64.urlsafe_b64encode(sig).rstrip(b"=").decode("ascii")


def decode_sig(text: str) -> bytes:
    """Decode a `sig` string, accepting only the one canonical encoding of 64 bytes."""
    if not _BASE64URL.fullmatch(text):
        raise MalformedSignature("sig must be unpadded base64url (no '=', whitespace or '+/')")
    if len(text) % 4 == 1:
        raise MalformedSignature("sig has an impossible base64 length")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:  # pragma: no cover - the regex excludes these
        raise MalformedSignature(f"sig is not base64url: {exc}") from exc
    if encode_sig(raw) != text:
        raise MalformedSignature("sig has non-zero trailing padding bits")
    if len(raw) != SIGNATURE_BYTES:
        raise MalformedSignature(f"sig must be {SIGNATURE_BYTES} bytes (r||s), got {len(raw)}")
    return raw


def sign_operation(op: OpT, keypair: Keypair) -> OpT:
    """Sign the DAG-CBOR of the operation without `sig` and return it with `sig` set."""
    return op.with_sig(encode_sig(keypair.sign(op.unsigned_bytes())))


def verify_operation(op: Operation, did_keys: Sequence[str]) -> int:
    """The index of the first of `did_keys` whose signature is on `op`.

    The first index matters: a fork must be signed by a key that outranks the signer of the
    operation it overrules, and with duplicated keys the highest-priority slot counts.
    """
    if op.sig is None:
        raise InvalidSignature("operation is not signed")
    sig = decode_sig(op.sig)
    if not did_keys:
        raise InvalidSignature("no rotation keys to verify against")
    index = find_signer(op.unsigned_bytes(), sig, did_keys)
    if index is None:
        raise InvalidSignature("signature does not verify against any allowed rotation key")
    return index


def find_signer(message: bytes, sig: bytes, did_keys: Sequence[str]) -> int | None:
    """The index of the first key that verifies `sig` over `message`, or None."""
    tried: set[str] = set()
    for index, did_key in enumerate(did_keys):
        if did_key in tried:
            continue
        tried.add(did_key)
        try:
            valid = verify_signature(did_key, message, sig)
        except ValueError as exc:
            raise InvalidSignature(f"rotation key is not a usable did:key: {did_key[:80]}") from exc
        if valid:
            return index
    return None
