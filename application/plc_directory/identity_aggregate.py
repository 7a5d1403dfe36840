"""The PlcIdentity aggregate: one did:plc, id = the DID, one event per accepted operation.

Its events are the directory's operation log: each records the signed operation exactly as
accepted, its CID, the directory's `createdAt`, the rank of the rotation key that signed it
and the CIDs it nullified (non-empty only for a recovery fork). That is every fact the audit
log publishes, so loading the aggregate rebuilds the `PlcState` directly, without verifying
signatures again; `domain.plc.audit_log.validate_audit_log` can re-check the whole log at
any time from the same facts.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from eventsourcing.domain import BaseAggregate

from application.event_base import StrCreated, StrEvent
from domain.plc.audit_log import Applied, AuditedOp, LogEntry, PlcState
from domain.plc.operation import parse_operation


class PlcIdentity(BaseAggregate[str]):
    """A DID's validated operation history, as the directory accepted it."""

    ops: tuple[AuditedOp, ...]
    """Replaced, never mutated, so a reader of a cached aggregate sees one consistent log."""

    class Event(StrEvent):
        """An operation the directory accepted for this DID."""

        operation: dict[str, Any]
        cid: str
        created_at: datetime
        signer_index: int
        nullified: list[str]

        def apply(self, aggregate: Any) -> None:
            aggregate.record(self)

    class Created(StrCreated, Event):
        """The genesis operation: its hash is the DID."""

        def apply(self, aggregate: Any) -> None:
            aggregate.ops = ()
            aggregate.record(self)

    class OperationAccepted(Event):
        """An update, a tombstone, or a recovery fork nullifying later operations."""

    def __init__(self) -> None:
        """State is set by `Created.apply`."""

    def __deepcopy__(self, memo: dict[int, Any]) -> PlcIdentity:
        """A copy for a writer: the log is immutable, so only lists (pending events) are new.

        The repository deep-copies cached aggregates before handing them to a writer; the
        operations' read-only mappings cannot be deep-copied, and need not be.
        """
        clone = object.__new__(type(self))
        clone.__dict__.update(
            {k: list(v) if isinstance(v, list) else v for k, v in self.__dict__.items()}
        )
        return clone

    @classmethod
    def register(cls, applied: Applied) -> PlcIdentity:
        """Start the log of a new DID with its accepted genesis operation."""
        return cls._create(cls.Created, id=applied.state.did, **_facts(applied))

    def accept(self, applied: Applied) -> None:
        """Record an operation accepted on top of this aggregate's state."""
        self.trigger_event(self.OperationAccepted, **_facts(applied))

    def record(self, event: PlcIdentity.Event) -> None:
        """Apply one accepted operation to the in-memory log (used by event `apply`)."""
        nullified = set(event.nullified)
        ops = [
            AuditedOp(replace(op.entry, nullified=True), op.signer_index)
            if op.entry.cid in nullified
            else op
            for op in self.ops
        ]
        entry = LogEntry(
            self.id, parse_operation(event.operation), event.cid, False, event.created_at
        )
        self.ops = (*ops, AuditedOp(entry, event.signer_index))

    def state(self) -> PlcState:
        """The DID's state: every accepted op becomes the head (a fork nullifies the rest)."""
        ops = self.ops
        return PlcState(self.id, ops, len(ops) - 1)


def _facts(applied: Applied) -> dict[str, Any]:
    audited = applied.state.ops[-1]
    entry = audited.entry
    return {
        "operation": entry.operation.to_value(),
        "cid": entry.cid,
        "created_at": entry.created_at,
        "signer_index": audited.signer_index,
        "nullified": list(applied.nullified),
    }
