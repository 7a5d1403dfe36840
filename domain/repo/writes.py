"""Record writes as a client asks for them, validated before any tree is touched."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from domain.data import dag_cbor
from domain.data.cid import CID
from domain.data.errors import DataModelError
from domain.repo.errors import InvalidWrite
from domain.syntax import is_valid_nsid, is_valid_record_key

MAX_WRITES: Final = 200
MAX_RECORD_BYTES: Final = 1_000_000


@dataclass(frozen=True, slots=True)
class RecordWrite:
    """A create, update or delete of one record, with an optional swap precondition.

    `swap` is the CID the record must currently have (update/delete); for a create, a
    non-None `swap` is invalid since there is no current record to compare against.
    """

    action: str  # "create" | "update" | "put" (create or update) | "delete"
    collection: str
    rkey: str
    record: dict[str, Any] | None = None
    swap: CID | None = None

    @property
    def path(self) -> str:
        """`collection/rkey`, the MST key."""
        return f"{self.collection}/{self.rkey}"


@dataclass(frozen=True, slots=True)
class PreparedWrite:
    """A validated write with its record's encoded bytes and CID."""

    write: RecordWrite
    data: bytes | None
    cid: CID | None


def prepare_writes(writes: list[RecordWrite]) -> list[PreparedWrite]:
    """Validate a batch: 1..200 writes, valid paths, records with the right `$type`, <= 1 MB."""
    if not 1 <= len(writes) <= MAX_WRITES:
        raise InvalidWrite(f"a commit must have between 1 and {MAX_WRITES} writes")
    seen: set[str] = set()
    prepared = []
    for write in writes:
        if write.path in seen:
            raise InvalidWrite(f"record {write.path} is written twice in one commit")
        seen.add(write.path)
        prepared.append(_prepare(write))
    return prepared


def _prepare(write: RecordWrite) -> PreparedWrite:
    if write.action not in ("create", "update", "put", "delete"):
        raise InvalidWrite(f"unknown write action {write.action!r}")
    if not is_valid_nsid(write.collection):
        raise InvalidWrite(f"invalid collection NSID: {write.collection!r}")
    if not is_valid_record_key(write.rkey):
        raise InvalidWrite(f"invalid record key: {write.rkey!r}")
    if write.action == "delete":
        if write.record is not None:
            raise InvalidWrite("a delete carries no record")
        return PreparedWrite(write, None, None)
    record = write.record
    if type(record) is not dict:
        raise InvalidWrite("record must be an object")
    record_type = record.get("$type")
    if type(record_type) is not str or not record_type:
        raise InvalidWrite("record must have a $type")
    if record_type != write.collection:
        raise InvalidWrite(f"record $type {record_type!r} does not match {write.collection!r}")
    try:
        data = dag_cbor.encode(record)
    except DataModelError as exc:
        raise InvalidWrite(f"record is not valid data: {exc}") from exc
    if len(data) > MAX_RECORD_BYTES:
        raise InvalidWrite(f"record is larger than {MAX_RECORD_BYTES} bytes")
    return PreparedWrite(write, data, CID.for_dag_cbor(data))
