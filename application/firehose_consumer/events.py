"""Firehose frames decoded into typed events, checked against `subscribeRepos`' schema.

Frames are hostile input. Decoding is strict DAG-CBOR (`split_frame`); every field the
lexicon requires must be present with its type and string format, or the frame is an
`InvalidFrame`, which the event-stream spec makes a hard error (drop the connection). Unknown
`op` or `t` values and unknown fields are ignored, as the spec asks, so a newer server does
not break an older consumer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from domain.data.cid import CID
from domain.firehose.frames import split_frame
from domain.syntax.datetime_syntax import is_valid_datetime
from domain.syntax.did import is_valid_did
from domain.syntax.handle import is_valid_handle
from domain.syntax.tid import is_valid_tid

MAX_SEQ: Final = 2**53
_ACTIONS: Final = frozenset({"create", "update", "delete"})


class InvalidFrame(ValueError):
    """Bad framing, bad DAG-CBOR or a message that breaks its schema."""


@dataclass(frozen=True, slots=True)
class RepoOp:
    """One record operation of a `#commit`."""

    action: str
    path: str
    cid: CID | None
    prev: CID | None


@dataclass(frozen=True, slots=True)
class CommitEvent:
    """`#commit`: a new signed commit with its CAR slice and record ops."""

    seq: int
    repo: str
    rev: str
    since: str | None
    commit: CID
    blocks: bytes
    ops: tuple[RepoOp, ...]
    prev_data: CID | None
    time: str
    too_big: bool = False


@dataclass(frozen=True, slots=True)
class SyncEvent:
    """`#sync`: the repo's current commit (a CAR holding just that block)."""

    seq: int
    did: str
    rev: str
    blocks: bytes
    time: str


@dataclass(frozen=True, slots=True)
class IdentityEvent:
    """`#identity`: re-resolve the DID document and handle."""

    seq: int
    did: str
    time: str
    handle: str | None


@dataclass(frozen=True, slots=True)
class AccountEvent:
    """`#account`: the account's hosting status at this service."""

    seq: int
    did: str
    time: str
    active: bool
    status: str | None


@dataclass(frozen=True, slots=True)
class InfoEvent:
    """`#info`: informational, not persisted, no seq (e.g. `OutdatedCursor`)."""

    name: str
    message: str | None


@dataclass(frozen=True, slots=True)
class ErrorFrame:
    """`op: -1`: the server's last word before it closes the stream."""

    error: str
    message: str | None


SeqEvent = CommitEvent | SyncEvent | IdentityEvent | AccountEvent
FirehoseEvent = SeqEvent | InfoEvent


def decode_frame(frame: bytes) -> FirehoseEvent | ErrorFrame | None:
    """The event in `frame`, an `ErrorFrame`, or None for a type this consumer does not know."""
    try:
        header, body = split_frame(frame)
    except Exception as exc:  # any failure to decode hostile bytes is a framing error
        raise InvalidFrame(f"undecodable frame: {exc}") from exc
    op = header.get("op")
    if op == -1:
        return ErrorFrame(_text(body, "error"), _optional_text(body, "message"))
    if op != 1:
        return None
    kind = header.get("t")
    decoder = _DECODERS.get(kind) if isinstance(kind, str) else None
    return decoder(body) if decoder is not None else None


# -- field checks -------------------------------------------------------------------------


def _field(body: dict[str, Any], name: str) -> Any:
    if name not in body:
        raise InvalidFrame(f"missing field {name!r}")
    return body[name]


def _text(body: dict[str, Any], name: str) -> str:
    value = _field(body, name)
    if type(value) is not str:
        raise InvalidFrame(f"{name!r} must be a string")
    return value


def _optional_text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and type(value) is not str:
        raise InvalidFrame(f"{name!r} must be a string")
    return value


def _seq(body: dict[str, Any]) -> int:
    value = _field(body, "seq")
    if type(value) is not int or not 0 < value < MAX_SEQ:
        raise InvalidFrame(f"seq must be a positive integer below 2^53, got {value!r:.40}")
    return value


def _did(body: dict[str, Any], name: str) -> str:
    value = _text(body, name)
    if not is_valid_did(value):
        raise InvalidFrame(f"{name!r} is not a DID: {value!r:.100}")
    return value


def _tid(value: object, name: str) -> str:
    if type(value) is not str or not is_valid_tid(value):
        raise InvalidFrame(f"{name!r} is not a TID: {value!r:.40}")
    return value


def _time(body: dict[str, Any]) -> str:
    value = _text(body, "time")
    if not is_valid_datetime(value):
        raise InvalidFrame(f"'time' is not a datetime: {value!r:.60}")
    return value


def _cid(value: object, name: str, *, nullable: bool = False) -> CID | None:
    if value is None and nullable:
        return None
    if type(value) is not CID:
        raise InvalidFrame(f"{name!r} must be a CID link")
    return value


def _bytes(body: dict[str, Any], name: str) -> bytes:
    value = _field(body, name)
    if type(value) is not bytes:
        raise InvalidFrame(f"{name!r} must be bytes")
    return value


def _op(value: object) -> RepoOp:
    if type(value) is not dict:
        raise InvalidFrame("each op must be a map")
    action = _text(value, "action")
    if action not in _ACTIONS:
        raise InvalidFrame(f"unknown op action {action!r:.20}")
    path = _text(value, "path")
    if path.count("/") != 1:
        raise InvalidFrame(f"op path must be collection/rkey: {path!r:.100}")
    cid = _cid(_field(value, "cid"), "cid", nullable=True)
    prev = _cid(value.get("prev"), "prev", nullable=True)
    return RepoOp(action, path, cid, prev)


# -- message types ------------------------------------------------------------------------


def _commit(body: dict[str, Any]) -> CommitEvent:
    ops = _field(body, "ops")
    if type(ops) is not list:
        raise InvalidFrame("'ops' must be a list")
    since = body.get("since")
    too_big = body.get("tooBig", False)
    if type(too_big) is not bool:
        raise InvalidFrame("'tooBig' must be a boolean")
    commit = _cid(_field(body, "commit"), "commit")
    assert commit is not None
    return CommitEvent(
        seq=_seq(body),
        repo=_did(body, "repo"),
        rev=_tid(_field(body, "rev"), "rev"),
        since=None if since is None else _tid(since, "since"),
        commit=commit,
        blocks=_bytes(body, "blocks"),
        ops=tuple(_op(op) for op in ops),
        prev_data=_cid(body.get("prevData"), "prevData", nullable=True),
        time=_time(body),
        too_big=too_big,
    )


def _sync(body: dict[str, Any]) -> SyncEvent:
    return SyncEvent(
        seq=_seq(body),
        did=_did(body, "did"),
        rev=_tid(_field(body, "rev"), "rev"),
        blocks=_bytes(body, "blocks"),
        time=_time(body),
    )


def _identity(body: dict[str, Any]) -> IdentityEvent:
    handle = _optional_text(body, "handle")
    if handle is not None and not is_valid_handle(handle):
        raise InvalidFrame(f"'handle' is not a handle: {handle!r:.100}")
    return IdentityEvent(seq=_seq(body), did=_did(body, "did"), time=_time(body), handle=handle)


def _account(body: dict[str, Any]) -> AccountEvent:
    active = _field(body, "active")
    if type(active) is not bool:
        raise InvalidFrame("'active' must be a boolean")
    return AccountEvent(
        seq=_seq(body),
        did=_did(body, "did"),
        time=_time(body),
        active=active,
        status=_optional_text(body, "status"),
    )


def _info(body: dict[str, Any]) -> InfoEvent:
    return InfoEvent(_text(body, "name"), _optional_text(body, "message"))


_DECODERS: Final[dict[str, Callable[[dict[str, Any]], FirehoseEvent]]] = {
    "#commit": _commit,
    "#sync": _sync,
    "#identity": _identity,
    "#account": _account,
    "#info": _info,
}
