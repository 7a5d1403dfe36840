"""Conditional append: record events only if the log still ends where this writer left it.

A writer that caches what it read from the views (an account's status and signing key) may
trust the cache for as long as nobody else has written to the log. Recorders that can check
this cheaply, inside the write transaction, advertise `checks_position = True` and honour a
`follows=<seq>` keyword on insert: the events must get the ids directly after `seq`, or the
transaction is rolled back and `LogMovedOn` raised.
"""

from __future__ import annotations

from collections.abc import Sequence


class LogMovedOn(Exception):
    """Another writer appended to the log after `expected`; nothing was recorded."""

    def __init__(self, expected: int, got: int) -> None:
        super().__init__(f"the log moved on past seq {expected} (this insert got {got})")
        self.expected = expected
        self.got = got


def check_follows(expected: int | None, ids: Sequence[int]) -> None:
    """Raise `LogMovedOn` unless `ids` start right after `expected` (None: no check)."""
    if expected is not None and ids and ids[0] != expected + 1:
        raise LogMovedOn(expected, ids[0])
