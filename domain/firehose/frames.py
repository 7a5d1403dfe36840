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
from domain.data.cid import CID

MAX_OPS: Final = 200
MAX_BLOCKS_BYTES: Final = 2_000_000

_HEADERS: Final = {
    kind: dag_cbor.encode({"op": 1, "t": kind})
    for kind in ("#commit", "#sync", "#identity", "#account", "#info")
}
_ERROR_HEADER: Final = dag_cbor.encode({"op": -1})
_tag = dag_cbor.cid_tag


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

    def to_encodable(self) -> dict[str, Any]:
        """`to_value` with CIDs as tag 42, ready for `encode_ordered`."""
        cid = None if self.cid is None else _tag(self.cid)
        if self.prev is None:
            return {"cid": cid, "path": self.path, "action": self.action}
        return {"cid": cid, "path": self.path, "prev": _tag(self.prev), "action": self.action}


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
    """A `#commit` frame; `blocks` is the CAR slice (commit, new nodes/records, proof)."""
    too_big = len(ops) > MAX_OPS or len(blocks) > MAX_BLOCKS_BYTES
    # Keys in DAG-CBOR order (length, then bytes) so the trusted encoder can skip the walk.
    body: dict[str, Any] = {
        "ops": [] if too_big else [op.to_encodable() for op in ops],
        "rev": rev,
        "seq": seq,
        "repo": repo,
        "time": time,
        "blobs": [_tag(blob) for blob in blobs],
        "since": since,
        "blocks": b"" if too_big else blocks,
        "commit": _tag(commit),
        "rebase": False,
        "tooBig": too_big,
    }
    if prev_data is not None:
        body["prevData"] = _tag(prev_data)
    return _HEADERS["#commit"] + dag_cbor.encode_ordered(body)


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
