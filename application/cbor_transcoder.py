"""A deterministic CBOR transcoder for stored events.

Events carry block bytes and CIDs; JSON would base64 them and lose the link type. CBOR keeps
bytes as bytes and CIDs as tag 42 (the DAG-CBOR form), and canonical key order makes the stored
state a pure function of the event, so a replayed log is byte-for-byte comparable.
Timestamps (the only non-data-model value eventsourcing adds) use RFC 9581 extended time
(tag 1001) with integer seconds and microseconds: exact, and no floats in the log.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import cbor2
from eventsourcing.persistence import Transcoder

from domain.data.cid import CID

_CID_TAG = 42
_TIME_TAG = 1001  # RFC 9581 extended time: {1: seconds, -6: microseconds}


def _encode_cid(encoder: cbor2.CBOREncoder, cid: CID) -> None:
    encoder.encode(cbor2.CBORTag(_CID_TAG, b"\x00" + cid.raw))


def _encode_datetime(encoder: cbor2.CBOREncoder, when: datetime) -> None:
    micros = round(when.timestamp() * 1_000_000) if when.tzinfo else None
    if micros is None:
        raise ValueError("event timestamps must be timezone-aware")
    encoder.encode(cbor2.CBORTag(_TIME_TAG, {1: micros // 1_000_000, -6: micros % 1_000_000}))


def _decode_cid(value: Any, immutable: bool) -> CID:
    return CID(bytes(value[1:]))


def _decode_time(value: Any, immutable: bool) -> datetime:
    micros = value[1] * 1_000_000 + value.get(-6, 0)
    return datetime.fromtimestamp(micros / 1_000_000, tz=UTC).replace(
        microsecond=micros % 1_000_000
    )


_ENCODERS: dict[type, Callable[[cbor2.CBOREncoder, Any], Any]] = {
    CID: _encode_cid,
    datetime: _encode_datetime,
}
_DECODERS = {_CID_TAG: _decode_cid, _TIME_TAG: _decode_time}


class CborTranscoder(Transcoder):
    """Encodes event state dicts as canonical CBOR; bytes native, CIDs as tag 42."""

    def encode(self, obj: Any) -> bytes:
        """Canonical CBOR of an event's state."""
        return cbor2.dumps(obj, canonical=True, encoders=_ENCODERS)

    def decode(self, data: bytes) -> Any:
        """Inverse of `encode`."""
        return cbor2.loads(data, semantic_decoders=_DECODERS)
