"""What a directory demands of a newly submitted operation, beyond what any stored op obeys.

Stored history predates some rules (empty and duplicated rotation keys exist and stay valid),
so these checks run only on submissions. They combine the spec (1 to 5 distinct rotation
keys, each k256 or p256; at most 10 verification methods, each a syntactic did:key; no new
legacy `create` ops) with the reference directory's anti-abuse limits (`constraints.ts`:
4000 bytes of DAG-CBOR, and caps on alias, service and id counts and lengths). Lengths are
counted in UTF-16 code units, as the reference (JavaScript) counts them.
"""

from __future__ import annotations

import re
from typing import Final

from domain.crypto.did_key import parse_did_key
from domain.plc.errors import InvalidOperation
from domain.plc.operation import LegacyCreate, Operation, PlcOperation, check_size

MAX_SUBMITTED_OP_BYTES: Final = 4000
MIN_ROTATION_KEYS: Final = 1
MAX_ROTATION_KEYS: Final = 5
MAX_AKA_ENTRIES: Final = 10
MAX_AKA_LENGTH: Final = 258  # a 253-char handle plus "at://"
MAX_SERVICE_ENTRIES: Final = 10
MAX_SERVICE_TYPE_LENGTH: Final = 256
MAX_SERVICE_ENDPOINT_LENGTH: Final = 512
MAX_VERIFICATION_METHODS: Final = 10
MAX_ID_LENGTH: Final = 32
MAX_DID_KEY_LENGTH: Final = 256

_SYNTACTIC_DID_KEY: Final = re.compile(
    r"did:key:z[123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz]+"
)


def check_submission(op: Operation) -> None:
    """Raise `InvalidOperation` (or `OperationTooLarge`) unless `op` may be submitted now."""
    if isinstance(op, LegacyCreate):
        raise InvalidOperation("legacy 'create' operations are no longer accepted")
    check_size(op, MAX_SUBMITTED_OP_BYTES)
    if isinstance(op, PlcOperation):
        _check_rotation_keys(op.rotation_keys)
        _check_also_known_as(op.also_known_as)
        _check_services(op)
        _check_verification_methods(op)


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _check_rotation_keys(keys: tuple[str, ...]) -> None:
    if not MIN_ROTATION_KEYS <= len(keys) <= MAX_ROTATION_KEYS:
        raise InvalidOperation(
            f"rotationKeys must hold {MIN_ROTATION_KEYS} to {MAX_ROTATION_KEYS} keys"
        )
    if len(set(keys)) != len(keys):
        raise InvalidOperation("rotationKeys must not repeat a key")
    for key in keys:
        try:
            parse_did_key(key)
        except ValueError as exc:
            raise InvalidOperation(f"rotation key is not a k256/p256 did:key: {key[:80]}") from exc


def _check_also_known_as(akas: tuple[str, ...]) -> None:
    if len(akas) > MAX_AKA_ENTRIES:
        raise InvalidOperation(f"too many alsoKnownAs entries (max {MAX_AKA_ENTRIES})")
    if len(set(akas)) != len(akas):
        raise InvalidOperation("alsoKnownAs must not repeat an entry")
    for aka in akas:
        if _utf16_len(aka) > MAX_AKA_LENGTH:
            raise InvalidOperation(f"alsoKnownAs entry too long (max {MAX_AKA_LENGTH})")


def _check_services(op: PlcOperation) -> None:
    if len(op.services) > MAX_SERVICE_ENTRIES:
        raise InvalidOperation(f"too many services (max {MAX_SERVICE_ENTRIES})")
    for name, svc in op.services.items():
        if _utf16_len(name) > MAX_ID_LENGTH:
            raise InvalidOperation(f"service id too long (max {MAX_ID_LENGTH})")
        if _utf16_len(svc.type) > MAX_SERVICE_TYPE_LENGTH:
            raise InvalidOperation(f"service type too long (max {MAX_SERVICE_TYPE_LENGTH})")
        if _utf16_len(svc.endpoint) > MAX_SERVICE_ENDPOINT_LENGTH:
            raise InvalidOperation(f"service endpoint too long (max {MAX_SERVICE_ENDPOINT_LENGTH})")


def _check_verification_methods(op: PlcOperation) -> None:
    if len(op.verification_methods) > MAX_VERIFICATION_METHODS:
        raise InvalidOperation(f"too many verificationMethods (max {MAX_VERIFICATION_METHODS})")
    for name, key in op.verification_methods.items():
        if _utf16_len(name) > MAX_ID_LENGTH:
            raise InvalidOperation(f"verification method id too long (max {MAX_ID_LENGTH})")
        if _utf16_len(key) > MAX_DID_KEY_LENGTH:
            raise InvalidOperation(f"verification method key too long (max {MAX_DID_KEY_LENGTH})")
        if _SYNTACTIC_DID_KEY.fullmatch(key) is None:
            raise InvalidOperation(f"verification method is not a base58btc did:key: {key[:80]}")
