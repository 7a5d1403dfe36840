"""PlcDirectory: an embedded did:plc directory whose notification log is the PLC op log.

Every accepted operation is one event of the DID's `PlcIdentity` aggregate, so the directory's
notification id is the `seq` of `/export` and the stored events are the audit logs. Nothing
else is stored: documents, `/data` and the logs are computed from the events.

Acceptance times (`createdAt`) are assigned by the directory and strictly increase across the
whole directory (a submission in the same millisecond as the newest recorded one is stamped
one millisecond later). So notification order is `createdAt` order, which lets the legacy
timestamp-cursor `/export` find its page by binary search over notification ids and never
skip or repeat an operation that shares a timestamp with the page boundary. Writes are
serialized by an in-process lock; two processes writing at the same instant could still
interleave (the per-DID rules hold regardless, by optimistic concurrency).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import ClassVar, Final, cast

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, Notification, Transcoder

from application.cbor_transcoder import CborTranscoder
from application.plc_directory.errors import (
    DidNotAvailable,
    DidNotRegistered,
    InvalidExportCursor,
)
from application.plc_directory.identity_aggregate import PlcIdentity
from domain.plc.audit_log import (
    LogEntry,
    PlcState,
    apply_operation,
    format_timestamp,
    parse_timestamp,
)
from domain.plc.did import is_plc_did
from domain.plc.document import PlcData, did_document
from domain.plc.errors import InvalidLogEntry
from domain.plc.operation import JsonObject, Operation, parse_operation

MAX_EXPORT_COUNT: Final = 1000
MAX_SAVE_ATTEMPTS: Final = 5
_TICK: Final = timedelta(milliseconds=1)


class PlcDirectory(Application[str]):
    """Accepts signed did:plc operations and serves documents, logs and the export."""

    name = "PlcDirectory"
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": "10000"}

    def __init__(
        self, env: dict[str, str] | None = None, *, enforce_rate_limits: bool = True
    ) -> None:
        super().__init__(env)
        self.enforce_rate_limits = enforce_rate_limits
        self._write_lock = threading.Lock()

    def construct_transcoder(self) -> Transcoder:
        """Deterministic CBOR, so a replayed log is byte-for-byte the stored one."""
        return CborTranscoder()

    # -- commands ---------------------------------------------------------------------------

    def submit(self, did: str, op_json: object, now: datetime | None = None) -> LogEntry:
        """Validate and record an operation for `did` (the `POST /:did` of the directory).

        Raises a `domain.plc.errors.PlcError` subclass naming the broken rule, in which case
        nothing is recorded. `now` (default: the clock) is when the directory received it.
        """
        op = parse_operation(op_json)
        with self._write_lock:
            for attempt in range(MAX_SAVE_ATTEMPTS):
                identity = self._find(did, for_update=True)
                state = identity.state() if identity is not None else None
                applied = apply_operation(
                    state,
                    op,
                    self._acceptance_time(now),
                    did=did,
                    enforce_rate_limits=self.enforce_rate_limits,
                )
                if identity is None:
                    identity = PlcIdentity.register(applied)
                else:
                    identity.accept(applied)
                try:
                    self.save(identity)
                except IntegrityError:
                    # Another writer got there first: decide again over the fresh log.
                    if attempt + 1 == MAX_SAVE_ATTEMPTS:
                        raise
                    continue
                return applied.entry
        raise AssertionError("unreachable")  # pragma: no cover

    def _acceptance_time(self, now: datetime | None) -> datetime:
        """`now` in milliseconds, moved past the newest recorded op if not already later.

        The newest op is read from the store each time (two indexed queries, small beside a
        signature check), so another process's writes are seen too.
        """
        if now is not None and now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        moment = (now or datetime.now(UTC)).astimezone(UTC)
        moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
        last = self._last_notification()
        if last is not None:
            newest: datetime = self._event(last).created_at
            if moment <= newest:
                moment = newest + _TICK
        return moment

    # -- reads ------------------------------------------------------------------------------

    def _find(self, did: str, *, for_update: bool = False) -> PlcIdentity | None:
        if not is_plc_did(did):
            return None
        try:
            # Readers share the cached aggregate (its log is replaced, never mutated);
            # a writer gets its own copy to add an event to.
            return cast(PlcIdentity, self.repository.get(did, deepcopy_from_cache=for_update))
        except AggregateNotFoundError:
            return None

    def state(self, did: str) -> PlcState:
        """The DID's validated history (raises `DidNotRegistered`)."""
        identity = self._find(did)
        if identity is None:
            raise DidNotRegistered(did)
        return identity.state()

    def data(self, did: str) -> PlcData:
        """Current PLC data (`/:did/data`); `DidNotAvailable` once tombstoned."""
        data = self.state(did).data()
        if data is None:
            raise DidNotAvailable(did)
        return data

    def document(self, did: str) -> JsonObject:
        """The DID document (`/:did`); `DidNotAvailable` once tombstoned."""
        return did_document(self.data(did))

    def operation_log(self, did: str) -> tuple[Operation, ...]:
        """The standing operations, oldest first (`/:did/log`), tombstone included."""
        return self.state(did).operation_log()

    def audit_log(self, did: str) -> tuple[LogEntry, ...]:
        """Every accepted operation with its metadata, nullified ones too (`/:did/log/audit`)."""
        return self.state(did).audit_log()

    def last_op(self, did: str) -> Operation:
        """The latest standing operation (`/:did/log/last`), possibly a tombstone."""
        return self.state(did).current.operation

    # -- export -----------------------------------------------------------------------------

    def export(
        self, after: str | int | None = None, count: int = MAX_EXPORT_COUNT
    ) -> list[JsonObject]:
        """A page of `/export`: `after` a sequence number gives `sequenced_op` lines in seq
        order; a timestamp (or nothing) gives the legacy lines in `createdAt` order, with
        each operation's current `nullified` flag. `count` is capped at 1000.
        """
        if type(count) is not int or count < 1:
            raise InvalidExportCursor("Invalid count parameter")
        count = min(count, MAX_EXPORT_COUNT)
        if isinstance(after, bool):
            raise InvalidExportCursor("Invalid after parameter")
        if isinstance(after, int):
            if after < 0:
                raise InvalidExportCursor("Invalid after parameter")
            page = self.recorder.select_notifications(
                start=after, limit=count, inclusive_of_start=False
            )
            return [self._sequenced(n) for n in page]
        start = 1 if after is None else self._first_after(_parse_cursor(after))
        if start is None:
            return []
        return self._legacy(self.recorder.select_notifications(start=start, limit=count))

    def _event(self, notification: Notification) -> PlcIdentity.Event:
        return cast(PlcIdentity.Event, self.mapper.to_domain_event(notification))

    def _sequenced(self, notification: Notification) -> JsonObject:
        event = self._event(notification)
        return {
            "type": "sequenced_op",
            "seq": notification.id,
            "did": event.originator_id,
            "operation": parse_operation(event.operation).to_value(),
            "cid": event.cid,
            "createdAt": format_timestamp(event.created_at),
        }

    def _legacy(self, page: Sequence[Notification]) -> list[JsonObject]:
        events = [self._event(n) for n in page]
        nullified: dict[str, set[str]] = {}
        for did in {e.originator_id for e in events}:
            state = self.state(did)
            nullified[did] = {op.entry.cid for op in state.ops if op.entry.nullified}
        return [
            {
                "did": e.originator_id,
                "operation": parse_operation(e.operation).to_value(),
                "cid": e.cid,
                "nullified": e.cid in nullified[e.originator_id],
                "createdAt": format_timestamp(e.created_at),
            }
            for e in events
        ]

    def _last_notification(self) -> Notification | None:
        last_id = self.recorder.max_notification_id()
        if not last_id:
            return None
        page = self.recorder.select_notifications(start=last_id, limit=1)
        return page[0] if page else None

    def _first_after(self, moment: datetime) -> int | None:
        """The id of the first operation accepted after `moment` (ids may have gaps)."""
        low, high = 1, self.recorder.max_notification_id() or 0
        found: int | None = None
        while low <= high:
            middle = (low + high) // 2
            page = self.recorder.select_notifications(start=middle, limit=1)
            if not page:  # pragma: no cover - ids up to the max exist by definition
                break
            if self._event(page[0]).created_at > moment:
                found, high = page[0].id, middle - 1
            else:
                low = page[0].id + 1
        return found


def _parse_cursor(text: str) -> datetime:
    """A timestamp cursor: RFC 3339 with an offset, or (like JavaScript `Date`) without."""
    try:
        return parse_timestamp(text)
    except InvalidLogEntry:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidExportCursor("Invalid after parameter") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
