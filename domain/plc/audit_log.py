"""Replaying a DID's audit log: the rules that decide which operations stand.

One replay engine serves both uses. `validate_audit_log` re-runs a whole published log (every
entry, nullified ones included, in the order the directory accepted them) and checks that the
directory's `nullified` flags are what the rules produce. `apply_operation` runs the same rules
for one newly submitted operation, which is how the embedded directory accepts or refuses it.

The rules, as the reference implementations (TypeScript `assureValidNextOp`, Go
`VerifyOperation`) apply them:

- the first operation is a genesis op whose hash is the DID, signed by one of its own keys;
- every later op names a `prev` that is in the log, not nullified and not a tombstone, and is
  signed by a rotation key of that `prev`;
- if `prev` already has a child, the op is a fork that nullifies that child and everything
  after it. It must be signed by a key ranked strictly higher (lower index) than the key that
  signed the child (each accepted child narrows who may overrule it), and arrive at most 72
  hours after the child was accepted (exactly 72 hours is still in time);
- acceptance times strictly increase.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from domain.plc.constraints import check_submission
from domain.plc.did import check_genesis_did, did_for_genesis
from domain.plc.document import PlcData, data_from_operation
from domain.plc.errors import (
    CidMismatch,
    DidMismatch,
    DuplicateOperation,
    InsufficientKeyPriority,
    InvalidLogEntry,
    InvalidPrev,
    InvalidSignature,
    MalformedSignature,
    MisorderedOperation,
    NullificationMismatch,
    NullificationTooLate,
    NullifiedPrev,
    RateLimited,
    TombstonedDid,
)
from domain.plc.operation import (
    JsonObject,
    Operation,
    PlcTombstone,
    parse_operation,
    rotation_keys_of,
)
from domain.plc.signing import decode_sig, find_signer, verify_operation

RECOVERY_WINDOW: Final = timedelta(hours=72)

# Anti-abuse limits of the reference directory, counted over the DID's standing operations.
# Recovery (nullifying) operations are exempt, so an attacker cannot lock out the owner.
RATE_LIMITS: Final = (
    (timedelta(hours=1), 10),
    (timedelta(days=1), 30),
    (timedelta(days=7), 100),
)

_ENTRY_FIELDS: Final = frozenset(("did", "operation", "cid", "nullified", "createdAt"))
_DATETIME: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.(\d{1,9}))?(?:Z|[+-]\d{2}:\d{2})"
)


# -- log entries -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One audit-log line: an operation and the directory's metadata about it."""

    did: str
    operation: Operation
    cid: str
    nullified: bool
    created_at: datetime

    def to_value(self) -> JsonObject:
        return {
            "did": self.did,
            "operation": self.operation.to_value(),
            "cid": self.cid,
            "nullified": self.nullified,
            "createdAt": format_timestamp(self.created_at),
        }


def format_timestamp(moment: datetime) -> str:
    """`YYYY-MM-DDTHH:mm:ss.sssZ`, the directory's format (JavaScript `toISOString`)."""
    t = moment.astimezone(UTC)
    return (
        f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
        f".{t.microsecond // 1000:03d}Z"
    )


def parse_timestamp(text: object) -> datetime:
    """An RFC 3339 timestamp with an explicit offset, as an aware UTC datetime."""
    if type(text) is not str:
        raise InvalidLogEntry("createdAt must be a string")
    match = _DATETIME.fullmatch(text)
    if match is None:
        raise InvalidLogEntry(f"createdAt is not an RFC 3339 timestamp: {text[:40]!r}")
    fraction = match.group(1)
    if fraction is not None and len(fraction) > 6:  # datetime keeps microseconds
        text = text.replace("." + fraction, "." + fraction[:6], 1)
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise InvalidLogEntry(f"createdAt is not a valid date: {text[:40]!r}") from exc


def parse_log_entry(value: object) -> LogEntry:
    """Parse one audit-log entry from JSON (the operation strictly, see `parse_operation`)."""
    if type(value) is not dict:
        raise InvalidLogEntry("log entry must be an object")
    if set(value) != _ENTRY_FIELDS:
        raise InvalidLogEntry(f"log entry must have exactly the fields {sorted(_ENTRY_FIELDS)}")
    did, cid, nullified = value["did"], value["cid"], value["nullified"]
    if type(did) is not str or type(cid) is not str or type(nullified) is not bool:
        raise InvalidLogEntry("log entry did/cid must be strings and nullified a boolean")
    return LogEntry(
        did=did,
        operation=parse_operation(value["operation"]),
        cid=cid,
        nullified=nullified,
        created_at=parse_timestamp(value["createdAt"]),
    )


def parse_audit_log(value: object) -> tuple[LogEntry, ...]:
    """Parse a `/:did/log/audit` response body (a JSON array of entries)."""
    if type(value) is not list:
        raise InvalidLogEntry("audit log must be an array")
    if not value:
        raise InvalidLogEntry("audit log is empty")
    return tuple(parse_log_entry(item) for item in value)


# -- state -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditedOp:
    """A replayed entry with its computed `nullified` flag and who signed it.

    `signer_index` is the index of the signing key among the rotation keys of the operation
    it builds on (for the genesis op, among its own): the rank a later fork must beat.
    """

    entry: LogEntry
    signer_index: int


@dataclass(frozen=True, slots=True)
class PlcState:
    """A DID's validated history: every operation in acceptance order, and which one stands."""

    did: str
    ops: tuple[AuditedOp, ...]
    head: int

    @property
    def current(self) -> LogEntry:
        """The latest standing operation (possibly a tombstone)."""
        return self.ops[self.head].entry

    @property
    def tombstoned(self) -> bool:
        return isinstance(self.current.operation, PlcTombstone)

    def data(self) -> PlcData | None:
        """The `/data` view, or None if the DID is tombstoned."""
        return data_from_operation(self.did, self.current.operation)

    def audit_log(self) -> tuple[LogEntry, ...]:
        """Every entry, nullified ones included (`/:did/log/audit`)."""
        return tuple(op.entry for op in self.ops)

    def operation_log(self) -> tuple[Operation, ...]:
        """The standing operations only, oldest first (`/:did/log`)."""
        return tuple(op.entry.operation for op in self.ops if not op.entry.nullified)


@dataclass(frozen=True, slots=True)
class Applied:
    """The result of accepting one operation."""

    state: PlcState
    entry: LogEntry
    nullified: tuple[str, ...]
    """CIDs of the operations this one nullified (non-empty only for a recovery fork)."""


# -- the replay engine -----------------------------------------------------------------------


class _Replay:
    """Mutable working copy of a log while rules are applied (never escapes this module)."""

    def __init__(self, did: str) -> None:
        self.did = did
        self.entries: list[LogEntry] = []
        self.signers: list[int] = []
        self.index_of: dict[str, int] = {}
        self.last_child: dict[int, int] = {}
        self.head: int | None = None

    @classmethod
    def from_state(cls, state: PlcState) -> _Replay:
        replay = cls(state.did)
        for audited in state.ops:
            position = len(replay.entries)
            replay.entries.append(audited.entry)
            replay.signers.append(audited.signer_index)
            replay.index_of[audited.entry.cid] = position
            prev = audited.entry.operation.prev
            if prev is not None:
                replay.last_child[replay.index_of[prev]] = position
        replay.head = state.head
        return replay

    def freeze(self) -> PlcState:
        if self.head is None:
            raise InvalidLogEntry("audit log is empty")
        ops = tuple(AuditedOp(e, s) for e, s in zip(self.entries, self.signers, strict=True))
        return PlcState(self.did, ops, self.head)

    def append(self, op: Operation, created_at: datetime, cid: str) -> tuple[int, list[int]]:
        """Apply the rules to `op`; on success record it and return (index, nullified)."""
        if cid in self.index_of:
            raise DuplicateOperation(f"operation {cid} is already in the log")
        if self.head is None:
            return self._genesis(op, created_at, cid), []
        if op.prev is None:
            raise InvalidPrev("the DID already exists: only its first operation may be genesis")
        prev = self.index_of.get(op.prev)
        if prev is None:
            raise InvalidPrev(f"prev {op.prev} is not an operation of {self.did}")
        prev_entry = self.entries[prev]
        if isinstance(prev_entry.operation, PlcTombstone):
            raise TombstonedDid(f"{self.did} is tombstoned: nothing may follow {op.prev}")
        if prev_entry.nullified:
            raise NullifiedPrev(f"prev {op.prev} has been nullified")

        keys = rotation_keys_of(prev_entry.operation)
        child = self.last_child.get(prev)
        allowed = keys if child is None else keys[: self.signers[child]]
        signer = _verify(op, keys, allowed)

        head_entry = self.entries[self.head]
        if created_at <= head_entry.created_at:
            raise MisorderedOperation("operation is not later than the latest standing one")
        nullified: list[int] = []
        if child is not None:
            lapsed = created_at - self.entries[child].created_at
            if lapsed > RECOVERY_WINDOW:
                raise NullificationTooLate(
                    f"cannot nullify {self.entries[child].cid} after {lapsed} (72h window)"
                )
            walk: int | None = child
            while walk is not None:
                nullified.append(walk)
                walk = self.last_child.get(walk)

        for index in nullified:
            self.entries[index] = replace(self.entries[index], nullified=True)
        position = self._record(op, created_at, cid, signer)
        self.last_child[prev] = position
        return position, nullified

    def _genesis(self, op: Operation, created_at: datetime, cid: str) -> int:
        if not op.is_genesis:
            raise InvalidPrev("the first operation of a DID must be a genesis operation")
        check_genesis_did(self.did, op)
        signer = verify_operation(op, rotation_keys_of(op))
        return self._record(op, created_at, cid, signer)

    def _record(self, op: Operation, created_at: datetime, cid: str, signer: int) -> int:
        position = len(self.entries)
        self.entries.append(LogEntry(self.did, op, cid, False, created_at))
        self.signers.append(signer)
        self.index_of[cid] = position
        self.head = position
        return position


def _verify(op: Operation, keys: tuple[str, ...], allowed: tuple[str, ...]) -> int:
    """Verify against the allowed keys; tell a too-weak rotation key from a stranger's."""
    try:
        return verify_operation(op, allowed)
    except MalformedSignature:
        raise
    except InvalidSignature:
        if len(allowed) < len(keys) and op.sig is not None:
            weaker = find_signer(op.unsigned_bytes(), decode_sig(op.sig), keys)
            if weaker is not None:
                raise InsufficientKeyPriority(
                    f"signed by rotation key #{weaker}, which does not outrank the signer of "
                    f"the operation it would nullify (needs one of the first {len(allowed)})"
                ) from None
        raise


# -- public entry points ---------------------------------------------------------------------


def validate_audit_log(entries: Sequence[LogEntry]) -> PlcState:
    """Check a full audit log and return the DID's current state.

    Checks the DID against the genesis hash, recomputes every CID, verifies every signature
    against the keys it was allowed, replays forks and the 72h window, and finally requires
    every `nullified` flag to be what the rules make of the log.
    """
    if not entries:
        raise InvalidLogEntry("audit log is empty")
    did = entries[0].did
    replay = _Replay(did)
    for entry in entries:
        if entry.did != did:
            raise DidMismatch(f"log mixes {did} with {entry.did[:80]}")
        cid = str(entry.operation.cid())
        if cid != entry.cid:
            raise CidMismatch(f"entry claims {entry.cid[:80]} but the operation hashes to {cid}")
        replay.append(entry.operation, entry.created_at, cid)
    for claimed, computed in zip(entries, replay.entries, strict=True):
        if claimed.nullified != computed.nullified:
            raise NullificationMismatch(
                f"{claimed.cid} is marked nullified={claimed.nullified}, "
                f"but the rules make it nullified={computed.nullified}"
            )
    return replay.freeze()


def validate_audit_log_json(value: Any) -> PlcState:
    """Parse and validate a `/:did/log/audit` JSON body."""
    return validate_audit_log(parse_audit_log(value))


def apply_operation(
    state: PlcState | None,
    op: Operation,
    now: datetime,
    *,
    did: str | None = None,
    enforce_rate_limits: bool = True,
) -> Applied:
    """Accept a newly submitted operation onto `state` (None for a new DID) at time `now`.

    Runs the submission constraints, then the log rules. `did` is the DID the submitter named
    (the path of `POST /:did`); for a genesis op it must be the op's hash. The new entry's
    `createdAt` is `now` truncated to milliseconds, the precision the log is published in.
    """
    check_submission(op)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(UTC)
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    if state is None:
        derived = did_for_genesis(op) if op.is_genesis and op.sig is not None else did
        if derived is None:
            raise InvalidPrev("a DID's first operation must be a genesis operation")
        if did is not None and did != derived:
            raise DidMismatch(f"genesis operation hashes to {derived}, not {did[:80]}")
        replay = _Replay(derived)
    else:
        if did is not None and did != state.did:
            raise DidMismatch(f"operation submitted for {did[:80]} but the log is {state.did}")
        replay = _Replay.from_state(state)
    cid = str(op.cid())
    position, nullified = replay.append(op, now, cid)
    if enforce_rate_limits and state is not None and not nullified:
        check_rate_limits(state, now)
    new_state = replay.freeze()
    return Applied(
        state=new_state,
        entry=new_state.ops[position].entry,
        nullified=tuple(new_state.ops[i].entry.cid for i in nullified),
    )


def check_rate_limits(state: PlcState, now: datetime) -> None:
    """Refuse a non-recovery operation if the DID's standing ops hit a window's limit."""
    standing = [op.entry.created_at for op in state.ops if not op.entry.nullified]
    for window, limit in RATE_LIMITS:
        recent = sum(1 for created in standing if created > now - window)
        if recent >= limit:
            raise RateLimited(f"too many operations in the last {window} (max {limit})")
