"""Where the handles the operator holds back are kept (`com.atproto.temp.addReservedHandle`)."""

from __future__ import annotations

from typing import Protocol


class ReservedHandleStore(Protocol):
    """A set of normalized handles; every method is its own transaction."""

    def add(self, handle: str, reserved_at: str) -> None:
        """Reserve `handle`; reserving it again changes nothing (the first time is kept)."""
        ...

    def remove(self, handle: str) -> bool:
        """Lift the reservation of `handle`; whether there was one."""
        ...

    def contains(self, handle: str) -> bool:
        """Whether `handle` is reserved."""
        ...
