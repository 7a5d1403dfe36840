"""The views a PLC directory serves for a DID: `/data` (PLC state) and the DID document.

The shape follows the reference directory (`formatDidDoc`): verification method ids are the
full `did#name`, service ids are the bare `#name` fragment, and `@context` grows by one suite
per key type present (secp256k1-2019 for k256, ecdsa-2019 for p256), none for other keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Final

from domain.crypto.did_key import parse_did_key
from domain.plc.operation import (
    ATPROTO_KEY,
    ATPROTO_PDS,
    JsonObject,
    Operation,
    PlcTombstone,
    Service,
    normalize,
)

DID_CONTEXT: Final = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT: Final = "https://w3id.org/security/multikey/v1"
K256_CONTEXT: Final = "https://w3id.org/security/suites/secp256k1-2019/v1"
P256_CONTEXT: Final = "https://w3id.org/security/suites/ecdsa-2019/v1"

DID_KEY_PREFIX: Final = "did:key:"
_SUITES: Final = {"k256": K256_CONTEXT, "p256": P256_CONTEXT}


@dataclass(frozen=True, slots=True)
class PlcData:
    """The current PLC state of a DID (the directory's `/:did/data` view)."""

    did: str
    rotation_keys: tuple[str, ...]
    verification_methods: Mapping[str, str] = field(hash=False)
    also_known_as: tuple[str, ...]
    services: Mapping[str, Service] = field(hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rotation_keys", tuple(self.rotation_keys))
        object.__setattr__(self, "also_known_as", tuple(self.also_known_as))
        object.__setattr__(
            self, "verification_methods", MappingProxyType(dict(self.verification_methods))
        )
        object.__setattr__(self, "services", MappingProxyType(dict(self.services)))

    def to_value(self) -> JsonObject:
        """JSON in the reference directory's field order."""
        return {
            "did": self.did,
            "verificationMethods": dict(self.verification_methods),
            "rotationKeys": list(self.rotation_keys),
            "alsoKnownAs": list(self.also_known_as),
            "services": {name: svc.to_value() for name, svc in self.services.items()},
        }

    @property
    def handle(self) -> str | None:
        """The first `at://` alias without its scheme (unverified: check it bi-directionally)."""
        for aka in self.also_known_as:
            if aka.startswith("at://"):
                return aka[len("at://") :]
        return None

    @property
    def pds_endpoint(self) -> str | None:
        svc = self.services.get(ATPROTO_PDS)
        return svc.endpoint if svc is not None else None

    @property
    def signing_key(self) -> str | None:
        """The `atproto` verification method: the key that signs repository commits."""
        return self.verification_methods.get(ATPROTO_KEY)


def data_from_operation(did: str, op: Operation) -> PlcData | None:
    """The state an operation establishes, or None once the DID is tombstoned."""
    if isinstance(op, PlcTombstone):
        return None
    regular = normalize(op)
    return PlcData(
        did=did,
        rotation_keys=regular.rotation_keys,
        verification_methods=regular.verification_methods,
        also_known_as=regular.also_known_as,
        services=regular.services,
    )


@lru_cache(maxsize=4096)
def key_context(did_key: str) -> str | None:
    """The JSON-LD suite for a key's curve; None for a key that is not a valid k256/p256 key.

    Cached: a directory renders the same few keys over and over, and parsing one means
    base58 and a point check.
    """
    try:
        return _SUITES[parse_did_key(did_key).key_type]
    except ValueError:
        return None


def did_document(data: PlcData) -> JsonObject:
    """Render the DID document (`/:did`) for the current state."""
    context = [DID_CONTEXT, MULTIKEY_CONTEXT]
    methods: list[JsonObject] = []
    for name, did_key in data.verification_methods.items():
        suite = key_context(did_key)
        if suite is not None and suite not in context:
            context.append(suite)
        methods.append(
            {
                "id": f"{data.did}#{name}",
                "type": "Multikey",
                "controller": data.did,
                "publicKeyMultibase": did_key.removeprefix(DID_KEY_PREFIX),
            }
        )
    services = [
        {"id": f"#{name}", "type": svc.type, "serviceEndpoint": svc.endpoint}
        for name, svc in data.services.items()
    ]
    return {
        "@context": context,
        "id": data.did,
        "alsoKnownAs": list(data.also_known_as),
        "verificationMethod": methods,
        "service": services,
    }
