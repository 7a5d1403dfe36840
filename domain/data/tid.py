"""TID generation: 13-char base32-sortable, 53-bit microsecond timestamp + 10-bit clock id.

The clock is injected so the domain stays deterministic. The generator never trusts it to
move forward: it remembers the last timestamp it used (or observed) and issues
max(now, last + 1), so TIDs strictly increase through stalls, NTP steps and smears, and a
repo's next rev beats a previous rev minted by some other clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from domain.syntax.tid import TID_ALPHABET, ensure_valid_tid

MAX_TIMESTAMP_US = (1 << 53) - 1
MAX_CLOCK_ID = (1 << 10) - 1

_DIGIT_VALUE = {char: value for value, char in enumerate(TID_ALPHABET)}


def _system_now_us() -> int:
    return time.time_ns() // 1000


def tid_from(timestamp_us: int, clock_id: int) -> str:
    """Encode a timestamp (microseconds since the epoch) and clock id as a TID string."""
    if not 0 <= timestamp_us <= MAX_TIMESTAMP_US:
        raise ValueError(f"TID timestamp out of range: {timestamp_us}")
    if not 0 <= clock_id <= MAX_CLOCK_ID:
        raise ValueError(f"TID clock id out of range: {clock_id}")
    value = (timestamp_us << 10) | clock_id
    return "".join(TID_ALPHABET[(value >> (5 * shift)) & 31] for shift in range(12, -1, -1))


def _tid_value(tid: str) -> int:
    ensure_valid_tid(tid)
    value = 0
    for char in tid:
        value = (value << 5) | _DIGIT_VALUE[char]
    return value


def tid_timestamp(tid: str) -> int:
    """The microsecond timestamp of a TID (raises `InvalidTid` if it is not one)."""
    return _tid_value(tid) >> 10


def tid_clock_id(tid: str) -> int:
    """The 10-bit clock id of a TID (raises `InvalidTid` if it is not one)."""
    return _tid_value(tid) & MAX_CLOCK_ID


class TidClock:
    """A strictly increasing TID source for one clock id. Not thread-safe: one per writer."""

    def __init__(self, clock_id: int, now_us: Callable[[], int] = _system_now_us) -> None:
        if not 0 <= clock_id <= MAX_CLOCK_ID:
            raise ValueError(f"TID clock id must be 0..{MAX_CLOCK_ID}, got {clock_id}")
        self._clock_id = clock_id
        self._now_us = now_us
        self._last_us = -1

    @property
    def clock_id(self) -> int:
        """The 10-bit clock id stamped into every TID this clock issues."""
        return self._clock_id

    def next(self) -> str:
        """A TID strictly greater than every TID issued or observed so far."""
        timestamp = max(self._now_us(), self._last_us + 1)
        if timestamp > MAX_TIMESTAMP_US:
            raise OverflowError("TID timestamp space exhausted (53 bits of microseconds)")
        self._last_us = timestamp
        return tid_from(timestamp, self._clock_id)

    def observe(self, tid: str) -> None:
        """Advance past an externally seen TID so the next one issued sorts after it."""
        self._last_us = max(self._last_us, tid_timestamp(tid))
