"""TID generation: format, bit layout, and strict monotonicity whatever the clock does."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.data.tid import (
    MAX_CLOCK_ID,
    MAX_TIMESTAMP_US,
    TidClock,
    tid_clock_id,
    tid_from,
    tid_timestamp,
)
from domain.syntax import InvalidTid, is_valid_tid
from domain.syntax.tid import TID_ALPHABET

T0 = 1_700_000_000_000_000  # a plausible "now" in microseconds


def _readings(values: Iterable[int]) -> Callable[[], int]:
    """A fake clock that returns the given readings in order."""
    it = iter(values)
    return lambda: next(it)


def _as_int(tid: str) -> int:
    value = 0
    for char in tid:
        value = value * 32 + TID_ALPHABET.index(char)
    return value


def test_zero_encodes_as_all_twos() -> None:
    assert tid_from(0, 0) == "2222222222222"


def test_tid_is_13_sortable_base32_chars_and_passes_syntax() -> None:
    tid = TidClock(7, lambda: T0).next()
    assert len(tid) == 13
    assert set(tid) <= set(TID_ALPHABET)
    assert is_valid_tid(tid)


def test_top_bit_is_always_zero_even_at_the_largest_values() -> None:
    tid = tid_from(MAX_TIMESTAMP_US, MAX_CLOCK_ID)
    assert _as_int(tid) == (1 << 63) - 1
    assert is_valid_tid(tid)


def test_timestamp_and_clock_id_round_trip() -> None:
    for clock_id in (0, 1, 512, MAX_CLOCK_ID):
        tid = TidClock(clock_id, lambda: T0).next()
        assert tid_clock_id(tid) == clock_id
        assert tid_timestamp(tid) == T0


def test_spec_example_decodes_and_re_encodes_identically() -> None:
    tid = "3jzfcijpj2z2a"
    assert tid_from(tid_timestamp(tid), tid_clock_id(tid)) == tid


def test_stalled_clock_still_yields_strictly_increasing_tids() -> None:
    clock = TidClock(3, lambda: T0)
    tids = [clock.next() for _ in range(100)]
    assert tids == sorted(set(tids))
    assert [tid_timestamp(t) for t in tids] == list(range(T0, T0 + 100))


def test_clock_stepping_backwards_does_not_reorder_tids() -> None:
    clock = TidClock(3, _readings([T0, T0 - 1_000, T0 - 5_000_000, T0 + 10]))
    tids = [clock.next() for _ in range(4)]
    assert tids == sorted(set(tids))
    assert [tid_timestamp(t) for t in tids] == [T0, T0 + 1, T0 + 2, T0 + 10]


def test_observed_tid_from_another_clock_is_overtaken() -> None:
    clock = TidClock(0, lambda: T0)
    foreign = tid_from(T0 + 5_000, MAX_CLOCK_ID)
    clock.observe(foreign)
    assert clock.next() > foreign


def test_observing_an_older_tid_does_not_move_the_clock_back() -> None:
    clock = TidClock(0, lambda: T0)
    first = clock.next()
    clock.observe(tid_from(T0 - 1_000_000, 0))
    assert clock.next() > first


def test_observe_rejects_a_malformed_tid() -> None:
    with pytest.raises(InvalidTid):
        TidClock(0, lambda: T0).observe("3jzf-cij-pj2z-2a")


@pytest.mark.parametrize("clock_id", [-1, MAX_CLOCK_ID + 1])
def test_clock_id_outside_10_bits_is_refused(clock_id: int) -> None:
    with pytest.raises(ValueError):
        TidClock(clock_id)
    with pytest.raises(ValueError):
        tid_from(T0, clock_id)


@pytest.mark.parametrize("timestamp", [-1, MAX_TIMESTAMP_US + 1])
def test_timestamp_outside_53_bits_is_refused(timestamp: int) -> None:
    with pytest.raises(ValueError):
        tid_from(timestamp, 0)


def test_running_out_of_timestamp_space_raises_instead_of_wrapping() -> None:
    clock = TidClock(0, lambda: MAX_TIMESTAMP_US)
    clock.next()
    with pytest.raises(OverflowError):
        clock.next()


def test_default_clock_reads_system_time_in_microseconds() -> None:
    before = time.time_ns() // 1000
    stamp = tid_timestamp(TidClock(0).next())
    assert before <= stamp <= time.time_ns() // 1000


@given(
    clock_id=st.integers(0, MAX_CLOCK_ID),
    readings=st.lists(st.integers(-(1 << 53), MAX_TIMESTAMP_US - 1_000), max_size=200),
)
def test_any_clock_readings_yield_strictly_increasing_valid_tids(
    clock_id: int, readings: list[int]
) -> None:
    clock = TidClock(clock_id, _readings(readings))
    tids = [clock.next() for _ in readings]
    assert all(a < b for a, b in pairwise(tids))
    assert all(is_valid_tid(t) and tid_clock_id(t) == clock_id for t in tids)


@given(
    a=st.tuples(st.integers(0, MAX_TIMESTAMP_US), st.integers(0, MAX_CLOCK_ID)),
    b=st.tuples(st.integers(0, MAX_TIMESTAMP_US), st.integers(0, MAX_CLOCK_ID)),
)
def test_string_order_matches_numeric_order_and_fields_round_trip(
    a: tuple[int, int], b: tuple[int, int]
) -> None:
    tid_a, tid_b = tid_from(*a), tid_from(*b)
    assert (tid_timestamp(tid_a), tid_clock_id(tid_a)) == a
    assert (tid_a < tid_b) == (a < b)
