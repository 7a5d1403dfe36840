"""Port: the log read by seq range, from any process (what replay's workers read)."""

from __future__ import annotations

from typing import Any, Protocol

StoredRow = tuple[int, Any, int, str, bytes]
"""(seq, originator_id, originator_version, topic, state): a notification, cheap to pickle."""


class LogPages(Protocol):
    """A picklable reader of stored events by seq range.

    Each worker process opens its own connection on first use, so the caller hands out
    ranges instead of reading and pickling every event itself.
    """

    def __call__(self, after: int, upto: int) -> list[StoredRow]:
        """The stored events with `after < seq <= upto`, ascending."""
        ...
