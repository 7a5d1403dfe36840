"""Strict DAG-CBOR as the atproto data model defines it, on cbor2's C codec.

Strictness comes from one observation: a value has exactly one valid DAG-CBOR encoding. So
decoding is `cbor2.loads`, a walk that checks the value is in the data model and its maps
arrived in canonical key order, and a re-encode that must give back the input bytes. That
single comparison rejects non-minimal integers and lengths, indefinite lengths, foreign tags
(bignums, shared values, string references), trailing bytes and anything else cbor2 is
lenient about, without a hand-written parser on the hot path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeAlias

import cbor2

from domain.data.cbor_head import cbor_head
from domain.data.cid import CID
from domain.data.errors import DecodeError, EncodeError, InvalidCid

Value: TypeAlias = Any
"""A data-model value: None, bool, int, str, bytes, CID, list of values, dict[str, value]."""

MAX_DEPTH: Final = 128
_INT_MIN: Final = -(2**63)
_INT_MAX: Final = 2**63 - 1  # the data model's integers are signed 64-bit
_CID_TAG: Final = 42


def _encode_cid(encoder: cbor2.CBOREncoder, cid: CID) -> None:
    encoder.encode(cbor2.CBORTag(_CID_TAG, b"\x00" + cid.raw))


def _canonical_key(key: str) -> tuple[int, bytes]:
    raw = key.encode("utf-8")
    return (len(raw), raw)


def _check(value: Value, depth: int) -> None:
    """Check that a decoded `value` is in the data model with every map in canonical order."""
    kind = type(value)
    if kind is str or kind is bytes or kind is bool or value is None or kind is CID:
        return
    if kind is int:
        if not _INT_MIN <= value <= _INT_MAX:
            raise EncodeError("integer out of the signed 64-bit range")
        return
    if depth > MAX_DEPTH:
        raise EncodeError(f"nesting deeper than {MAX_DEPTH}")
    if kind is list:
        for item in value:
            _check(item, depth + 1)
        return
    if kind is dict:
        previous: tuple[int, bytes] | None = None
        for key, item in value.items():
            if type(key) is not str:
                raise EncodeError("map keys must be strings")
            current = _canonical_key(key)
            if previous is not None and current <= previous:
                raise DecodeError("map keys are not in canonical order")
            previous = current
            _check(item, depth + 1)
        return
    if kind is float:
        raise EncodeError("floats are not allowed in the atproto data model")
    raise EncodeError(f"{kind.__name__} is not a data-model type")


def encode(value: Value) -> bytes:
    """Encode a data-model value as canonical DAG-CBOR bytes (EncodeError if it is not one).

    Written directly while checking the data model, in one walk: cbor2 called back into
    Python for every CID and sorted every map again after a separate check had walked the
    value; a record took about three times as long. Tests hold the bytes equal to cbor2's
    canonical encoding.
    """
    return encode_extended(value, None)


Extension: TypeAlias = Callable[[Any, list[bytes]], bool]
"""Writes a value of a type outside the data model into `out` and returns True, or returns
False for a type it does not know either."""


def encode_extended(value: Any, extension: Extension | None) -> bytes:
    """`encode`, with `extension` writing the types the data model lacks (the event
    transcoder's timestamps); any other value outside the model is an `EncodeError`."""
    out: list[bytes] = []
    try:
        _write(value, out, 0, extension)
    except RecursionError as exc:
        raise EncodeError("value nested too deeply") from exc
    return b"".join(out)


def encode_ordered(value: Value) -> bytes:
    """`encode`, for hot paths that build their maps in canonical order from validated parts.

    Kept as its own name for those callers; the direct writer costs the same either way.
    """
    return encode(value)


_KEY_ORDERS: dict[tuple[str, ...], tuple[tuple[str, bytes], ...]] = {}
"""Canonical key order per map shape, with each key's encoding: records and the maps inside
them come in a few shapes, so a shape is sorted once."""
_MAX_SHAPES: Final = 4096


def canonical_key_order(keys: tuple[Any, ...]) -> tuple[tuple[str, bytes], ...]:
    """A map's keys (as iterated) in DAG-CBOR order, each with its encoding."""
    order = _KEY_ORDERS.get(keys)
    if order is not None:
        return order
    encoded = []
    for key in keys:
        if type(key) is not str:
            raise EncodeError("map keys must be strings")
        raw = _utf8(key)
        encoded.append((key, cbor_head(3, len(raw)) + raw))
    # DAG-CBOR order: shorter keys first, then bytewise
    order = tuple(sorted(encoded, key=lambda item: (len(item[1]), item[1])))
    if len(_KEY_ORDERS) < _MAX_SHAPES:
        _KEY_ORDERS[keys] = order
    return order


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:  # JSON can carry lone surrogates; UTF-8 cannot
        raise EncodeError("text is not valid Unicode (a lone surrogate)") from exc


def _write(value: Value, out: list[bytes], depth: int, extension: Extension | None) -> None:
    kind = type(value)
    if kind is str:
        raw = _utf8(value)
        out.append(cbor_head(3, len(raw)))
        out.append(raw)
    elif kind is bytes:
        out.append(cbor_head(2, len(value)))
        out.append(value)
    elif kind is CID:
        raw = value.raw
        out.append(b"\xd8\x2a" + cbor_head(2, len(raw) + 1) + b"\x00" + raw)
    elif value is None:
        out.append(b"\xf6")
    elif kind is bool:
        out.append(b"\xf5" if value else b"\xf4")
    elif kind is int:
        if not _INT_MIN <= value <= _INT_MAX:
            raise EncodeError("integer out of the signed 64-bit range")
        out.append(cbor_head(0, value) if value >= 0 else cbor_head(1, -1 - value))
    elif depth > MAX_DEPTH:
        raise EncodeError(f"nesting deeper than {MAX_DEPTH}")
    elif kind is list:
        out.append(cbor_head(4, len(value)))
        for item in value:
            _write(item, out, depth + 1, extension)
    elif kind is dict:
        out.append(cbor_head(5, len(value)))
        for key, encoded_key in canonical_key_order(tuple(value)):
            out.append(encoded_key)
            _write(value[key], out, depth + 1, extension)
    elif kind is float:
        raise EncodeError("floats are not allowed in the atproto data model")
    elif extension is None or not extension(value, out):
        raise EncodeError(f"{kind.__name__} is not a data-model type")


def _decode_cid(value: object, immutable: bool) -> CID:
    if type(value) is not bytes or not value or value[0] != 0:
        raise InvalidCid("tag 42 must wrap bytes with a 0x00 multibase prefix")
    return CID.decode(value[1:])


def _reject_tag(tag: cbor2.CBORTag, immutable: bool) -> object:
    raise DecodeError(f"CBOR tag {tag.tag} is not allowed (only 42)")


_ENCODERS: Final[dict[type, Callable[[cbor2.CBOREncoder, Any], Any]]] = {CID: _encode_cid}
_SEMANTIC: Final = {_CID_TAG: _decode_cid}


def decode(data: bytes) -> Value:
    """Decode strict DAG-CBOR bytes into a data-model value, or raise `DecodeError`."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise DecodeError("DAG-CBOR input must be bytes")
    data = bytes(data)
    if not data:
        raise DecodeError("empty input")
    try:
        value = cbor2.loads(
            data,
            tag_hook=_reject_tag,
            semantic_decoders=_SEMANTIC,
            allow_indefinite=False,
            allow_duplicate_keys=False,
            max_depth=MAX_DEPTH + 2,
        )
    except DecodeError:
        raise
    except Exception as exc:  # cbor2 raises a wide range of types on hostile input
        cause = exc.__cause__ if isinstance(exc.__cause__, DecodeError) else None
        if cause is not None:
            raise cause from exc
        raise DecodeError(f"invalid CBOR: {exc}") from exc
    try:
        _check(value, 0)
    except EncodeError as exc:
        raise DecodeError(str(exc)) from exc
    except RecursionError as exc:
        raise DecodeError("value nested too deeply") from exc
    if cbor2.dumps(value, encoders=_ENCODERS) != data:
        raise DecodeError("not the canonical DAG-CBOR encoding of its value")
    return value


def decode_trusted(data: bytes) -> Value:
    """Decode bytes this system validated when they were written (e.g. stored MST nodes).

    Skips the strictness checks of `decode`; never use it on bytes from the network.
    """
    return cbor2.loads(data, semantic_decoders=_SEMANTIC)


def cid_of(value: Value) -> CID:
    """The dag-cbor CID of a value (encode, then one sha256)."""
    return CID.for_dag_cbor(encode(value))
