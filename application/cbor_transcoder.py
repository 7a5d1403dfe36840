"""A deterministic CBOR transcoder for stored events.

Events carry block bytes and CIDs; JSON would base64 them and lose the link type. CBOR keeps
bytes as bytes and CIDs as tag 42 (the DAG-CBOR form), and canonical key order makes the stored
state a pure function of the event, so a replayed log is byte-for-byte comparable.
Timestamps (the only non-data-model value eventsourcing adds) use RFC 9581 extended time
(tag 1001) with integer seconds and microseconds: exact, and no floats in the log.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import cbor2
from eventsourcing.persistence import Transcoder

from domain.data.cbor_head import cbor_head
from domain.data.cid import CID
from domain.data.dag_cbor import encode_extended
from domain.data.errors import EncodeError

_CID_TAG = 42
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_TIME_TAG = 1001  # RFC 9581 extended time: {1: seconds, -6: microseconds}


def _encode_cid(encoder: cbor2.CBOREncoder, cid: CID) -> None:
    encoder.encode(cbor2.CBORTag(_CID_TAG, b"\x00" + cid.raw))


def _encode_datetime(encoder: cbor2.CBOREncoder, when: datetime) -> None:
    micros = _micros(when)
    encoder.encode(cbor2.CBORTag(_TIME_TAG, {1: micros // 1_000_000, -6: micros % 1_000_000}))


def _decode_cid(value: Any, immutable: bool) -> CID:
    return CID(bytes(value[1:]))


def _decode_time(value: Any, immutable: bool) -> datetime:
    return _EPOCH + timedelta(seconds=value[1], microseconds=value.get(-6, 0))


_ENCODERS: dict[type, Callable[[cbor2.CBOREncoder, Any], Any]] = {
    CID: _encode_cid,
    datetime: _encode_datetime,
}
_DECODERS = {_CID_TAG: _decode_cid, _TIME_TAG: _decode_time}


_TIME_HEAD = b"\xd9\x03\xe9\xa2\x01"  # tag 1001, map of 2, key 1 (then seconds, key -6)
_MICROS_KEY = b"\x25"  # -6


def _write_time(value: Any, out: list[bytes]) -> bool:
    """Timestamps, the one type events hold outside the data model, as cbor2 writes them."""
    if type(value) is not datetime:
        return False
    seconds, fraction = divmod(_micros(value), 1_000_000)
    out.append(_TIME_HEAD)
    out.append(cbor_head(0, seconds) if seconds >= 0 else cbor_head(1, -1 - seconds))
    out.append(_MICROS_KEY)
    out.append(cbor_head(0, fraction))
    return True


def _micros(when: datetime) -> int:
    """Exact microseconds since the epoch (a float timestamp drifts by a microsecond or so
    past the year 2106)."""
    if when.tzinfo is None:
        raise ValueError("event timestamps must be timezone-aware")
    return (when - _EPOCH) // _MICROSECOND


def fast_canonical(obj: Any) -> bytes | None:
    """`cbor2.dumps(obj, canonical=True, encoders=_ENCODERS)`, byte for byte, or None.

    Event states are data-model values plus a timestamp, and canonical CBOR orders map keys
    as DAG-CBOR does, so the domain's direct DAG-CBOR writer encodes them, with timestamps
    added. cbor2 called back into Python for every CID and timestamp and sorted every map
    again: 42 µs for a commit event, against 12. Anything the data model refuses (a float,
    a tuple, an int past 64 bits) returns None and cbor2 encodes the whole value, so the
    bytes never depend on which path ran (tests hold the two equal).
    """
    try:
        return encode_extended(obj, _write_time)
    except EncodeError:
        return None


class CborTranscoder(Transcoder):
    """Encodes event state dicts as canonical CBOR; bytes native, CIDs as tag 42."""

    def encode(self, obj: Any) -> bytes:
        """Canonical CBOR of an event's state."""
        encoded = fast_canonical(obj)
        if encoded is None:
            encoded = cbor2.dumps(obj, canonical=True, encoders=_ENCODERS)
        return encoded

    def decode(self, data: bytes) -> Any:
        """Inverse of `encode`."""
        return cbor2.loads(data, semantic_decoders=_DECODERS)
