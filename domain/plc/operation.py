"""did:plc operations as frozen values, parsed strictly from their JSON form.

The CID of an operation is the hash of its DAG-CBOR encoding, and the directory hashes what
it was sent. So parsing accepts exactly the fields the spec names, each with exactly its JSON
type: anything looser would let two different payloads stand for one operation, or let a
value that re-encodes differently slip past the CID check.

Parsing enforces only what holds for every operation ever accepted (shape and the spec's
7500-byte limit); historical logs contain empty and duplicated rotation keys, which the
reference implementations accept. The tighter rules for new submissions live in
`domain.plc.constraints`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, Final, Literal, TypeAlias

import cbor2

from domain.data.cid import CID, DAG_CBOR
from domain.data.errors import DataModelError
from domain.plc.errors import InvalidOperation, OperationTooLarge

MAX_OP_BYTES: Final = 7500
"""The spec's limit on an operation's DAG-CBOR size ("The current limit is 7500 bytes")."""

ATPROTO_PDS: Final = "atproto_pds"
ATPROTO_PDS_TYPE: Final = "AtprotoPersonalDataServer"
ATPROTO_KEY: Final = "atproto"

JsonObject: TypeAlias = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Service:
    """A service entry: the `#id` is the key it is stored under."""

    type: str
    endpoint: str

    def to_value(self) -> JsonObject:
        return {"type": self.type, "endpoint": self.endpoint}


def _frozen_map(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(value))


class _Signed:
    """The encodings every operation kind derives from its unsigned value and `sig`."""

    __slots__ = ()
    sig: str | None

    def to_unsigned_value(self) -> JsonObject:  # pragma: no cover - each kind defines it
        raise NotImplementedError

    def to_value(self) -> JsonObject:
        """The operation as signed (with `sig`, when there is one)."""
        return _with_sig(self.to_unsigned_value(), self.sig)

    def unsigned_bytes(self) -> bytes:
        """DAG-CBOR of the unsigned operation: what `sig` signs."""
        return _encode(self.to_unsigned_value())

    def signed_bytes(self) -> bytes:
        """DAG-CBOR of the signed operation."""
        return _encode(self.to_value())

    def cid(self) -> CID:
        """CID of the signed operation: `prev` of the next one."""
        return CID.for_dag_cbor(self.signed_bytes())


@dataclass(frozen=True, slots=True)
class PlcOperation(_Signed):
    """A `plc_operation`: a genesis (prev None) or an update carrying the whole new state."""

    TYPE: ClassVar[str] = "plc_operation"

    rotation_keys: tuple[str, ...]
    verification_methods: Mapping[str, str] = field(hash=False)
    also_known_as: tuple[str, ...]
    services: Mapping[str, Service] = field(hash=False)
    prev: str | None
    sig: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "rotation_keys", tuple(self.rotation_keys))
        object.__setattr__(self, "also_known_as", tuple(self.also_known_as))
        object.__setattr__(self, "verification_methods", _frozen_map(self.verification_methods))
        object.__setattr__(self, "services", _frozen_map(self.services))
        _check_strings(self.rotation_keys, "rotationKeys")
        _check_strings(self.also_known_as, "alsoKnownAs")
        _check_strings(self.verification_methods, "verificationMethods ids")
        _check_strings(self.verification_methods.values(), "verificationMethods keys")
        _check_strings(self.services, "service ids")
        for svc in self.services.values():
            if type(svc) is not Service:
                raise InvalidOperation("services must be Service values")
            _check_strings((svc.type, svc.endpoint), "service type and endpoint")
        _check_optional_strings(self.prev, self.sig)

    @property
    def type(self) -> Literal["plc_operation"]:
        return "plc_operation"

    @property
    def is_genesis(self) -> bool:
        return self.prev is None

    def to_unsigned_value(self) -> JsonObject:
        """The operation without `sig` (the field absent, not null): the bytes that get signed."""
        return {
            "type": "plc_operation",
            "rotationKeys": list(self.rotation_keys),
            "verificationMethods": dict(self.verification_methods),
            "alsoKnownAs": list(self.also_known_as),
            "services": {name: svc.to_value() for name, svc in self.services.items()},
            "prev": self.prev,
        }

    def with_sig(self, sig: str) -> PlcOperation:
        return PlcOperation(
            self.rotation_keys,
            self.verification_methods,
            self.also_known_as,
            self.services,
            self.prev,
            sig,
        )


@dataclass(frozen=True, slots=True)
class PlcTombstone(_Signed):
    """A `plc_tombstone`: deactivates the DID; `prev` is never null."""

    TYPE: ClassVar[str] = "plc_tombstone"

    prev: str
    sig: str | None = None

    def __post_init__(self) -> None:
        _check_strings((self.prev,), "prev")
        _check_optional_strings(self.sig)

    @property
    def type(self) -> Literal["plc_tombstone"]:
        return "plc_tombstone"

    @property
    def is_genesis(self) -> bool:
        return False

    def to_unsigned_value(self) -> JsonObject:
        return {"type": "plc_tombstone", "prev": self.prev}

    def with_sig(self, sig: str) -> PlcTombstone:
        return PlcTombstone(self.prev, sig)


@dataclass(frozen=True, slots=True)
class LegacyCreate(_Signed):
    """The deprecated `create` genesis format; many DIDs are the hash of one, so it stays."""

    TYPE: ClassVar[str] = "create"

    signing_key: str
    recovery_key: str
    handle: str
    service: str
    sig: str | None = None

    def __post_init__(self) -> None:
        _check_strings((self.signing_key, self.recovery_key, self.handle, self.service), "fields")
        _check_optional_strings(self.sig)

    @property
    def type(self) -> Literal["create"]:
        return "create"

    @property
    def prev(self) -> None:
        return None

    @property
    def is_genesis(self) -> bool:
        return True

    def to_unsigned_value(self) -> JsonObject:
        return {
            "type": "create",
            "signingKey": self.signing_key,
            "recoveryKey": self.recovery_key,
            "handle": self.handle,
            "service": self.service,
            "prev": None,
        }

    def with_sig(self, sig: str) -> LegacyCreate:
        return LegacyCreate(self.signing_key, self.recovery_key, self.handle, self.service, sig)


Operation: TypeAlias = PlcOperation | PlcTombstone | LegacyCreate
"""Any operation an audit log may hold."""


def _with_sig(unsigned: JsonObject, sig: str | None) -> JsonObject:
    if sig is None:
        raise InvalidOperation("operation is not signed")
    unsigned["sig"] = sig
    return unsigned


def _encode(value: JsonObject) -> bytes:
    """DAG-CBOR of an operation value, without the generic data-model walk.

    Operation values hold only strings, null, arrays of strings and string-keyed maps (the
    constructors check it), so canonical key order is all DAG-CBOR adds to plain CBOR: put
    the keys in order here and cbor2 writes them as given, several times cheaper than
    `dag_cbor.encode` on this hot path (tests hold the two byte-identical).
    """
    try:
        return cbor2.dumps(_canonical(value))
    except (UnicodeError, ValueError, TypeError, cbor2.CBOREncodeError) as exc:
        raise InvalidOperation(f"operation cannot be encoded as DAG-CBOR: {exc}") from exc


def _canonical(value: JsonObject) -> JsonObject:
    return {
        key: _canonical(item) if type(item) is dict else item
        for key, item in sorted(value.items(), key=_canonical_key)
    }


def _canonical_key(item: tuple[str, object]) -> tuple[int, bytes]:
    raw = item[0].encode("utf-8", "surrogatepass")
    return (len(raw), raw)


def _check_optional_strings(*values: object) -> None:
    for value in values:
        if value is not None and type(value) is not str:
            raise InvalidOperation("prev and sig must be strings or None")


def _check_strings(values: Iterable[object], what: str) -> None:
    for value in values:
        if type(value) is not str:
            raise InvalidOperation(f"{what} must be strings")


# -- semantics shared by every consumer -------------------------------------------------------


def rotation_keys_of(op: Operation) -> tuple[str, ...]:
    """The keys an operation empowers to sign the next one, in priority order.

    A legacy create names its recovery key before its signing key (the reference `normalizeOp`
    order); a tombstone empowers no one.
    """
    if isinstance(op, PlcOperation):
        return op.rotation_keys
    if isinstance(op, LegacyCreate):
        return (op.recovery_key, op.signing_key)
    return ()


def normalize(op: PlcOperation | LegacyCreate) -> PlcOperation:
    """The `plc_operation` equivalent of an operation (legacy creates converted, sig kept)."""
    if isinstance(op, PlcOperation):
        return op
    return PlcOperation(
        rotation_keys=(op.recovery_key, op.signing_key),
        verification_methods={ATPROTO_KEY: op.signing_key},
        also_known_as=(ensure_atproto_prefix(op.handle),),
        services={ATPROTO_PDS: Service(ATPROTO_PDS_TYPE, ensure_http_prefix(op.service))},
        prev=None,
        sig=op.sig,
    )


def ensure_atproto_prefix(handle: str) -> str:
    """`at://` + a bare handle (stripping a URL scheme), as the reference normalizes it."""
    if handle.startswith("at://"):
        return handle
    return "at://" + handle.replace("http://", "", 1).replace("https://", "", 1)


def ensure_http_prefix(endpoint: str) -> str:
    """An endpoint with an explicit scheme (`https://` when none was given)."""
    if endpoint.startswith(("http://", "https://")):
        return endpoint
    return "https://" + endpoint


# -- strict parsing ---------------------------------------------------------------------------

_REGULAR_FIELDS: Final = frozenset(
    ("type", "rotationKeys", "verificationMethods", "alsoKnownAs", "services", "prev", "sig")
)
_TOMBSTONE_FIELDS: Final = frozenset(("type", "prev", "sig"))
_LEGACY_FIELDS: Final = frozenset(
    ("type", "signingKey", "recoveryKey", "handle", "service", "prev", "sig")
)
_SERVICE_FIELDS: Final = frozenset(("type", "endpoint"))


def parse_operation(value: object) -> Operation:
    """Parse a signed operation from its JSON value, or raise a typed `PlcError`."""
    if type(value) is not dict:
        raise InvalidOperation("operation must be a JSON object")
    kind = value.get("type")
    op: Operation
    if kind == PlcOperation.TYPE:
        op = _parse_regular(value)
    elif kind == PlcTombstone.TYPE:
        _check_fields(value, _TOMBSTONE_FIELDS, "plc_tombstone")
        op = PlcTombstone(prev=_prev(value["prev"], nullable=False) or "", sig=_sig(value))
    elif kind == LegacyCreate.TYPE:
        _check_fields(value, _LEGACY_FIELDS, "create")
        if value["prev"] is not None:
            raise InvalidOperation("a legacy create operation must have a null prev")
        op = LegacyCreate(
            signing_key=_str(value["signingKey"], "signingKey"),
            recovery_key=_str(value["recoveryKey"], "recoveryKey"),
            handle=_str(value["handle"], "handle"),
            service=_str(value["service"], "service"),
            sig=_sig(value),
        )
    else:
        raise InvalidOperation(f"unknown operation type {str(kind)[:64]!r}")
    check_size(op)
    return op


def check_size(op: Operation, limit: int = MAX_OP_BYTES) -> int:
    """The operation's DAG-CBOR size, or `OperationTooLarge` if it is over `limit`."""
    size = len(op.signed_bytes() if op.sig is not None else op.unsigned_bytes())
    if size > limit:
        raise OperationTooLarge(f"operation is {size} bytes of DAG-CBOR (limit {limit})")
    return size


def _parse_regular(value: JsonObject) -> PlcOperation:
    _check_fields(value, _REGULAR_FIELDS, "plc_operation")
    methods = _object(value["verificationMethods"], "verificationMethods")
    services = _object(value["services"], "services")
    parsed_services: dict[str, Service] = {}
    for name, svc in services.items():
        svc_obj = _object(svc, f"services.{name}")
        _check_fields(svc_obj, _SERVICE_FIELDS, f"service {name!r}")
        parsed_services[name] = Service(
            _str(svc_obj["type"], "service type"), _str(svc_obj["endpoint"], "service endpoint")
        )
    return PlcOperation(
        rotation_keys=_str_list(value["rotationKeys"], "rotationKeys"),
        verification_methods={
            name: _str(key, f"verificationMethods.{name}") for name, key in methods.items()
        },
        also_known_as=_str_list(value["alsoKnownAs"], "alsoKnownAs"),
        services=parsed_services,
        prev=_prev(value["prev"], nullable=True),
        sig=_sig(value),
    )


def _check_fields(value: JsonObject, expected: frozenset[str], what: str) -> None:
    keys = set(value)
    if keys != expected:
        missing = sorted(str(k) for k in expected - keys)
        extra = sorted(str(k)[:64] for k in keys - expected)
        raise InvalidOperation(f"{what}: missing fields {missing}, unexpected fields {extra}")


def _str(value: object, what: str) -> str:
    if type(value) is not str:
        raise InvalidOperation(f"{what} must be a string")
    return value


def _str_list(value: object, what: str) -> tuple[str, ...]:
    if type(value) is not list:
        raise InvalidOperation(f"{what} must be an array of strings")
    return tuple(_str(item, what) for item in value)


def _object(value: object, what: str) -> JsonObject:
    if type(value) is not dict:
        raise InvalidOperation(f"{what} must be an object")
    for key in value:
        if type(key) is not str:
            raise InvalidOperation(f"{what} keys must be strings")
    return value


def _sig(value: JsonObject) -> str:
    return _str(value["sig"], "sig")


def _prev(value: object, *, nullable: bool) -> str | None:
    if value is None:
        if nullable:
            return None
        raise InvalidOperation("prev must not be null")
    text = _str(value, "prev")
    parse_prev_cid(text)
    return text


def parse_prev_cid(text: str) -> CID:
    """A `prev` must be the canonical string of a CIDv1 dag-cbor sha2-256 (what ops hash to)."""
    try:
        cid = CID.parse(text)
    except DataModelError as exc:
        raise InvalidOperation(f"prev is not a CID: {text[:80]!r}") from exc
    if not cid.is_blessed or cid.codec != DAG_CBOR or str(cid) != text:
        raise InvalidOperation(f"prev is not a base32 dag-cbor sha2-256 CIDv1: {text[:80]!r}")
    return cid
