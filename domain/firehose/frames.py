"""Firehose frames: a DAG-CBOR header followed by a DAG-CBOR body, one per WebSocket message.

Frames are rendered once, when their event is recorded, and stored pre-encoded in the seq view;
serving a subscriber is then a copy of bytes. `seq` is only known inside the recording
transaction, so renderers take it as an argument.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from domain.data import dag_cbor
from domain.data.cbor_head import cbor_head
from domain.data.cid import CID

MAX_OPS: Final = 200
MAX_BLOCKS_BYTES: Final = 2_000_000

_HEADERS: Final = {
    kind: dag_cbor.encode({"op": 1, "t": kind})
    for kind in ("#commit", "#sync", "#identity", "#account", "#info")
}
_ERROR_HEADER: Final = dag_cbor.encode({"op": -1})


@dataclass(frozen=True, slots=True)
class FrameOp:
    """One `repoOp` of a `#commit` frame."""

    action: str  # "create" | "update" | "delete"
    path: str
    cid: CID | None
    prev: CID | None

    def to_value(self) -> dict[str, Any]:
        """The lexicon's repoOp object in canonical key order; `prev` only when present."""
        if self.prev is None:
            return {"cid": self.cid, "path": self.path, "action": self.action}
        return {"cid": self.cid, "path": self.path, "prev": self.prev, "action": self.action}


def message_frame(kind: str, body: dict[str, Any]) -> bytes:
    """Header `{op: 1, t: kind}` + body."""
    return _HEADERS[kind] + dag_cbor.encode(body)


def error_frame(error: str, message: str | None = None) -> bytes:
    """Header `{op: -1}` + `{error, message}`; the server closes the socket after it."""
    body: dict[str, Any] = {"error": error}
    if message is not None:
        body["message"] = message
    return _ERROR_HEADER + dag_cbor.encode(body)


def commit_frame(
    *,
    seq: int,
    repo: str,
    commit: CID,
    rev: str,
    since: str | None,
    blocks: bytes,
    ops: Sequence[FrameOp],
    prev_data: CID | None,
    time: str,
    blobs: Sequence[CID] = (),
) -> bytes:
    """A `#commit` frame; `blocks` is the CAR slice (commit, new nodes/records, proof).

    Written byte by byte: one frame per commit is rendered when it is recorded and again
    for every event a replay projects, and a generic encoder spends most of its time on the
    CIDs. The keys are in DAG-CBOR order (length, then bytes); tests hold the output equal to
    `dag_cbor.encode` of the same body.
    """
    too_big = len(ops) > MAX_OPS or len(blocks) > MAX_BLOCKS_BYTES
    parts = [
        _HEADERS["#commit"],
        _COMMIT_MAP_12 if prev_data is not None else _COMMIT_MAP_11,
        b"cops",
    ]
    if too_big:
        parts.append(b"\x80")
    else:
        parts.append(cbor_head(4, len(ops)))
        parts.extend(_op(op) for op in ops)
    parts += [b"crev", _text(rev), b"cseq", cbor_head(0, seq), b"drepo", _text(repo)]
    parts += [b"dtime", _text(time), b"eblobs", cbor_head(4, len(blobs))]
    parts.extend(_link(blob) for blob in blobs)
    parts += [b"esince", b"\xf6" if since is None else _text(since)]
    parts += [b"fblocks", b"\x40" if too_big else cbor_head(2, len(blocks))]
    if not too_big:
        parts.append(blocks)
    parts += [b"fcommit", _link(commit), b"frebase\xf4ftooBig", b"\xf5" if too_big else b"\xf4"]
    if prev_data is not None:
        parts += [b"hprevData", _link(prev_data)]
    return b"".join(parts)


_COMMIT_MAP_11: Final = b"\xab"
_COMMIT_MAP_12: Final = b"\xac"


def _text(value: str) -> bytes:
    raw = value.encode("utf-8")
    return cbor_head(3, len(raw)) + raw


def _link(cid: CID) -> bytes:
    """Tag 42 over the CID bytes with the 0x00 multibase prefix."""
    raw = cid.raw
    return b"\xd8\x2a" + cbor_head(2, len(raw) + 1) + b"\x00" + raw


def _op(op: FrameOp) -> bytes:
    cid = b"\xf6" if op.cid is None else _link(op.cid)
    if op.prev is None:
        return b"\xa3ccid" + cid + b"dpath" + _text(op.path) + b"faction" + _text(op.action)
    return (
        b"\xa4ccid" + cid + b"dpath" + _text(op.path) + b"dprev" + _link(op.prev)
        + b"faction" + _text(op.action)
    )  # fmt: skip


def sync_frame(*, seq: int, did: str, blocks: bytes, rev: str, time: str) -> bytes:
    """A `#sync` frame: the current commit, as a CAR holding just the commit block."""
    return message_frame(
        "#sync", {"seq": seq, "did": did, "blocks": blocks, "rev": rev, "time": time}
    )


def identity_frame(*, seq: int, did: str, time: str, handle: str | None) -> bytes:
    """An `#identity` frame: consumers should re-resolve the DID document and handle."""
    body: dict[str, Any] = {"seq": seq, "did": did, "time": time}
    if handle is not None:
        body["handle"] = handle
    return message_frame("#identity", body)


def account_frame(*, seq: int, did: str, time: str, active: bool, status: str | None) -> bytes:
    """An `#account` frame: hosting status changed (status omitted when active)."""
    body: dict[str, Any] = {"seq": seq, "did": did, "time": time, "active": active}
    if status is not None and not active:
        body["status"] = status
    return message_frame("#account", body)


def info_frame(name: str, message: str | None = None) -> bytes:
    """An `#info` frame, e.g. `OutdatedCursor`."""
    body: dict[str, Any] = {"name": name}
    if message is not None:
        body["message"] = message
    return message_frame("#info", body)


def split_frame(frame: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """Decode a frame into (header, body), strictly; raises DecodeError on bad bytes."""
    import cbor2

    from domain.data.errors import DataModelError, DecodeError

    try:
        decoder_value = cbor2.loads(frame)  # only to find the header's length cheaply
    except Exception as exc:
        raise DecodeError(f"invalid frame header: {exc}") from exc
    try:
        header_bytes = dag_cbor.encode(decoder_value) if isinstance(decoder_value, dict) else b""
    except DataModelError as exc:  # floats, tags, ...: not a data-model header
        raise DecodeError(f"invalid frame header: {exc}") from exc
    if not header_bytes or not frame.startswith(header_bytes):
        raise DecodeError("frame does not start with a canonical header")
    header = dag_cbor.decode(header_bytes)
    body = dag_cbor.decode(frame[len(header_bytes) :])
    if type(body) is not dict:
        raise DecodeError("frame body must be a map")
    return header, body
