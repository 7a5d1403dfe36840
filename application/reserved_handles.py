"""Handles the operator holds back (`com.atproto.temp.addReservedHandle`).

A reserved handle cannot be taken by a sign-up (`createAccount`) or by an account's own
`updateHandle`, and `checkHandleAvailability` reports it unavailable. The operator can still
give it out (`quire account create`, `admin.updateAccountHandle`): reserving is how a name is
kept for whoever the operator means it for. No XRPC method lifts a reservation; the operator
does, with `quire account release-handle`. An account already holding the handle keeps it.
Reservations are operator state in a small table beside the credentials, not events in the
log (ADR 0004).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from application.identity_errors import IdentityRequestError
from application.ports.reserved_handles import ReservedHandleStore
from domain.syntax.handle import is_valid_handle, normalize_handle


class ReservedHandles:
    """Reserve handles and answer whether one is reserved."""

    def __init__(self, store: ReservedHandleStore, clock: Callable[[], float]) -> None:
        self.store, self.clock = store, clock

    def reserve(self, handle: str) -> str:
        """Reserve `handle` (idempotent); return it normalized."""
        handle = normalize_handle(handle.strip())
        if not is_valid_handle(handle):
            raise IdentityRequestError("Input/handle must be a valid handle")
        now = datetime.fromtimestamp(self.clock(), UTC).isoformat(timespec="milliseconds")
        self.store.add(handle, now.replace("+00:00", "Z"))
        return handle

    def release(self, handle: str) -> bool:
        """Lift the reservation of `handle` (any case); whether it was reserved."""
        return self.store.remove(normalize_handle(handle.strip()))

    def is_reserved(self, handle: str) -> bool:
        """Whether `handle` (any case) is reserved."""
        return self.store.contains(normalize_handle(handle))
