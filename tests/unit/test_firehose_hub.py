"""FirehoseHub and Subscription over an in-memory seq view: cursor rules, cutover, overflow."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.firehose.errors import ConsumerTooSlow, FutureCursor, SubscriptionClosed
from application.firehose.hub import FirehoseHub, seq_time
from application.firehose.subscription import Subscription
from domain.firehose.frames import split_frame
from tests.fakes.seq_view import FakeSeqView

T = TypeVar("T")
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
OLD = seq_time(NOW - timedelta(days=10))
RECENT = seq_time(NOW - timedelta(hours=1))


def run(coro: Awaitable[T]) -> T:
    """Run a test coroutine with a bound, so a hang fails instead of blocking the suite."""

    async def bounded() -> T:
        return await asyncio.wait_for(coro, timeout=10)

    return asyncio.run(bounded())


def hub_over(view: FakeSeqView, **options: object) -> FirehoseHub:
    return FirehoseHub(view, clock=lambda: NOW, poll_interval=3600, **options)  # type: ignore[arg-type]


def seqs(frames: list[bytes]) -> list[int]:
    return [split_frame(frame)[1]["seq"] for frame in frames]


async def drain(subscription: Subscription, until: int) -> list[int]:
    """Seqs of every frame until the one with seq `until`."""
    got: list[int] = []
    while not got or got[-1] < until:
        got += seqs(await subscription.next_batch())
    return got


def test_no_cursor_streams_only_events_recorded_after_subscribing() -> None:
    view = FakeSeqView()
    for seq in (1, 2, 3):
        view.append(seq, RECENT)

    async def scenario() -> list[int]:
        hub = hub_over(view)
        await hub.start()
        subscription = await hub.subscribe(None)
        view.append(4, RECENT)
        view.append(5, RECENT)
        await hub.catch_up()
        frames = await subscription.next_batch()
        await hub.stop()
        return seqs(frames)

    assert run(scenario()) == [4, 5]


def test_cursor_replays_every_event_after_it_exclusively_then_goes_live() -> None:
    view = FakeSeqView()
    for seq in range(1, 8):
        view.append(seq, RECENT)

    async def scenario() -> tuple[list[int], bool]:
        hub = hub_over(view, page_size=2)
        await hub.start()
        subscription = await hub.subscribe(3)
        backfilled = await drain(subscription, 7)
        parked = asyncio.create_task(subscription.next_batch())  # caught up: joins the live set
        await asyncio.sleep(0)
        joined = subscription.live
        view.append(8, RECENT)
        await hub.catch_up()
        live = seqs(await parked)
        await hub.stop()
        return backfilled + live, joined

    got, live = run(scenario())
    assert got == [4, 5, 6, 7, 8]
    assert live


def test_cursor_past_the_current_seq_is_a_future_cursor() -> None:
    view = FakeSeqView()
    view.append(1, RECENT)

    async def scenario() -> None:
        hub = hub_over(view)
        await hub.start()
        try:
            await hub.subscribe(2)
        finally:
            await hub.stop()

    with pytest.raises(FutureCursor):
        run(scenario())


def test_cursor_equal_to_the_current_seq_waits_for_the_next_event() -> None:
    view = FakeSeqView()
    view.append(1, RECENT)

    async def scenario() -> list[int]:
        hub = hub_over(view)
        await hub.start()
        subscription = await hub.subscribe(1)
        view.append(2, RECENT)
        await hub.catch_up()
        frames = await drain(subscription, 2)
        await hub.stop()
        return frames

    assert run(scenario()) == [2]


def test_cursor_older_than_the_window_gets_outdated_info_then_the_oldest_retained() -> None:
    view = FakeSeqView()
    for seq in (1, 2, 3):
        view.append(seq, OLD)
    for seq in (4, 5):
        view.append(seq, RECENT)

    async def scenario() -> list[bytes]:
        hub = hub_over(view, retention=timedelta(days=3))
        await hub.start()
        subscription = await hub.subscribe(1)
        frames = await subscription.next_batch()
        frames += await subscription.next_batch()
        await hub.stop()
        return frames

    info, *rest = run(scenario())
    header, body = split_frame(info)
    assert header == {"op": 1, "t": "#info"}
    assert body["name"] == "OutdatedCursor"
    assert seqs(rest) == [4, 5]


def test_cursor_zero_inside_the_window_replays_everything_without_info() -> None:
    view = FakeSeqView()
    for seq in (1, 2, 3):
        view.append(seq, RECENT)

    async def scenario() -> list[int]:
        hub = hub_over(view)
        await hub.start()
        subscription = await hub.subscribe(0)
        frames = await drain(subscription, 3)
        await hub.stop()
        return frames

    assert run(scenario()) == [1, 2, 3]


def test_cursor_whose_events_all_left_the_window_gets_info_then_live_only() -> None:
    view = FakeSeqView()
    for seq in (1, 2, 3):
        view.append(seq, OLD)

    async def scenario() -> list[bytes]:
        hub = hub_over(view, retention=timedelta(days=3))
        await hub.start()
        subscription = await hub.subscribe(1)
        info = await subscription.next_batch()
        view.append(4, RECENT)
        await hub.catch_up()
        frames = info + await subscription.next_batch()
        await hub.stop()
        return frames

    info, live = run(scenario())
    assert split_frame(info)[1]["name"] == "OutdatedCursor"
    assert seqs([live]) == [4]


def test_cursor_ahead_of_the_tail_gets_no_event_twice() -> None:
    view = FakeSeqView()
    view.append(1, RECENT)

    async def scenario() -> list[int]:
        hub = hub_over(view)
        await hub.start()  # the tail is at 1
        view.append(2, RECENT)
        view.append(3, RECENT)  # written, not yet published
        subscription = await hub.subscribe(3)
        view.append(4, RECENT)
        await hub.catch_up()  # publishes 2, 3 and 4
        frames = await drain(subscription, 4)
        await hub.stop()
        return frames

    assert run(scenario()) == [4]


def test_overflowing_subscriber_gets_consumer_too_slow_and_others_keep_everything() -> None:
    view = FakeSeqView()

    async def scenario() -> tuple[list[int], bool, int]:
        hub = hub_over(view, max_queue=3)
        await hub.start()
        stuck = await hub.subscribe(None)
        reader = await hub.subscribe(None)
        got: list[int] = []
        for seq in range(1, 6):
            view.append(seq, RECENT)
            await hub.catch_up()
            got += seqs(await reader.next_batch())
        failed = False
        try:
            await stuck.next_batch()
        except ConsumerTooSlow:
            failed = True
        count = hub.subscriber_count
        await hub.stop()
        return got, failed, count

    got, failed, count = run(scenario())
    assert got == [1, 2, 3, 4, 5]
    assert failed
    assert count == 1  # the slow one was detached at once


def test_closing_a_subscription_ends_its_stream_and_detaches_it() -> None:
    view = FakeSeqView()

    async def scenario() -> int:
        hub = hub_over(view)
        await hub.start()
        subscription = await hub.subscribe(None)
        waiting = asyncio.create_task(subscription.next_batch())
        await asyncio.sleep(0)
        subscription.close()
        with pytest.raises(SubscriptionClosed):
            await waiting
        count = hub.subscriber_count
        await hub.stop()
        return count

    assert run(scenario()) == 0


def test_notify_wakes_the_tail_without_waiting_for_the_poll() -> None:
    view = FakeSeqView()

    async def scenario() -> list[int]:
        hub = hub_over(view)  # polls hourly: only notify can wake it
        await hub.start()
        subscription = await hub.subscribe(None)
        view.append(1, RECENT)
        hub.notify()
        frames = await subscription.next_batch()
        await hub.stop()
        return seqs(frames)

    assert run(scenario()) == [1]


class RecordingSink:
    def __init__(self, accept: bool) -> None:
        self.accept = accept
        self.delivered: list[bytes] = []

    def deliver(self, frames: list[bytes]) -> bool:
        if self.accept:
            self.delivered += frames
        return self.accept


def test_a_parked_subscription_hands_live_frames_to_its_sink_without_queueing() -> None:
    view = FakeSeqView()
    sink = RecordingSink(accept=True)

    async def scenario() -> int:
        hub = hub_over(view)
        await hub.start()
        subscription = await hub.subscribe(None, sink)
        parked = asyncio.create_task(subscription.next_batch())
        await asyncio.sleep(0)
        view.append(1, RECENT)
        view.append(2, RECENT)
        await hub.catch_up()
        await asyncio.sleep(0)
        still_waiting = not parked.done()
        subscription.close()
        with pytest.raises(SubscriptionClosed):
            await parked
        await hub.stop()
        return subscription.position if still_waiting else -1

    assert run(scenario()) == 2
    assert seqs(sink.delivered) == [1, 2]


def test_a_sink_that_cannot_take_frames_leaves_them_queued_in_order() -> None:
    view = FakeSeqView()
    sink = RecordingSink(accept=False)

    async def scenario() -> list[int]:
        hub = hub_over(view)
        await hub.start()
        subscription = await hub.subscribe(None, sink)
        parked = asyncio.create_task(subscription.next_batch())
        await asyncio.sleep(0)
        view.append(1, RECENT)
        await hub.catch_up()
        frames = await parked
        await hub.stop()
        return seqs(frames)

    assert run(scenario()) == [1]
    assert sink.delivered == []


def test_pruning_deletes_rows_older_than_the_window_but_keeps_the_newest() -> None:
    view = FakeSeqView()
    for seq in (1, 2):
        view.append(seq, OLD)
    view.append(3, RECENT)

    async def scenario() -> int:
        hub = hub_over(view, pruner=view, retention=timedelta(days=3))
        return await hub.prune()

    assert run(scenario()) == 2
    assert view.pruned_before == [seq_time(NOW - timedelta(days=3))]
    assert [row.seq for row in view.rows] == [3]


def test_the_pruning_job_runs_when_the_hub_starts() -> None:
    view = FakeSeqView()
    view.append(1, OLD)
    view.append(2, OLD)

    async def scenario() -> None:
        hub = hub_over(view, pruner=view, retention=timedelta(days=3))
        await hub.start()
        while not view.pruned_before:
            await asyncio.sleep(0.001)
        await hub.stop()

    run(scenario())
    assert [row.seq for row in view.rows] == [2]  # the newest row survives an idle spell


# A schedule interleaves the writer, the tail and a subscriber that starts from a cursor.
_steps = st.lists(st.sampled_from(["write", "publish", "read"]), min_size=1, max_size=60)


@given(initial=st.integers(0, 12), cursor=st.integers(0, 12), page=st.integers(1, 4), steps=_steps)
def test_backfill_meets_live_without_gap_or_duplicate_under_any_interleaving(
    initial: int, cursor: int, page: int, steps: list[str]
) -> None:
    view = FakeSeqView()
    for seq in range(1, initial + 1):
        view.append(seq, RECENT)
    cursor = min(cursor, initial)

    async def scenario() -> tuple[list[int], int]:
        hub = hub_over(view, page_size=page, max_queue=10_000)
        await hub.start()
        subscription = await hub.subscribe(cursor)
        got: list[int] = []
        pending: asyncio.Task[list[bytes]] | None = None
        for step in steps:
            if step == "write":
                view.append(view.max_seq() + 1, RECENT)
            elif step == "publish":
                await hub.catch_up()
            elif pending is None:
                pending = asyncio.create_task(subscription.next_batch())
            await asyncio.sleep(0)
            if pending is not None and pending.done():
                got += seqs(pending.result())
                pending = None
        await hub.catch_up()
        last = view.max_seq()
        while (got[-1] if got else cursor) < last:
            if pending is None:
                pending = asyncio.create_task(subscription.next_batch())
            got += seqs(await pending)
            pending = None
        if pending is not None:
            pending.cancel()
        await hub.stop()
        return got, last

    got, last = run(scenario())
    assert got == list(range(cursor + 1, last + 1))


def test_a_gap_in_seq_after_the_cursor_is_not_mistaken_for_pruned_history() -> None:
    view = FakeSeqView()
    for seq in (1, 2, 5, 6):  # 3 and 4 were rolled back: seq may have gaps
        view.append(seq, RECENT)

    async def scenario() -> list[bytes]:
        hub = hub_over(view)
        await hub.start()
        subscription = await hub.subscribe(2)
        frames = await subscription.next_batch()
        await hub.stop()
        return frames

    assert seqs(run(scenario())) == [5, 6]


def test_a_cursor_before_the_oldest_row_left_by_pruning_gets_outdated_info() -> None:
    view = FakeSeqView()
    for seq in (1, 2, 3, 4):
        view.append(seq, OLD)
    view.append(5, RECENT)
    view.append(6, RECENT)

    async def scenario() -> list[bytes]:
        hub = hub_over(view, pruner=view, retention=timedelta(days=3))
        await hub.prune()
        hub.retention = timedelta(days=30)  # what is left is inside the window
        await hub.start()
        subscription = await hub.subscribe(2)
        frames = await subscription.next_batch()
        frames += await subscription.next_batch()
        await hub.stop()
        return frames

    info, *rest = run(scenario())
    assert split_frame(info)[1]["name"] == "OutdatedCursor"
    assert seqs(rest) == [5, 6]


def test_an_idle_hub_reads_nothing_and_still_starts_new_subscribers_at_the_end() -> None:
    view = FakeSeqView()
    reads: list[int] = []
    seq_after = view.seq_after

    def counting(after: int, limit: int) -> object:
        reads.append(after)
        return seq_after(after, limit)

    view.seq_after = counting  # type: ignore[method-assign]

    async def scenario() -> tuple[list[int], list[int]]:
        hub = hub_over(view)
        await hub.start()
        for seq in (1, 2, 3):
            view.append(seq, RECENT)
            hub.notify()
            await hub.catch_up()
        idle_reads = list(reads)
        live = await hub.subscribe(None)
        view.append(4, RECENT)
        hub.notify()
        frames = await live.next_batch()
        await hub.stop()
        return idle_reads, seqs(frames)

    idle_reads, got = run(scenario())
    assert idle_reads == []  # nobody subscribed: no page reads per commit
    assert got == [4]  # not 1..3, which were recorded before subscribing


def test_an_idle_hub_is_not_woken_per_commit_and_a_backfill_joining_it_misses_nothing() -> None:
    view = FakeSeqView()
    view.append(1, RECENT)

    async def scenario() -> tuple[list[bool], list[int]]:
        hub = hub_over(view)
        await hub.start()
        woken = []
        for seq in (2, 3):
            view.append(seq, RECENT)
            hub.notify()
            woken.append(hub._signalled)  # a wake-up of the tail was scheduled
        subscription = await hub.subscribe(1)
        got = seqs(await subscription.next_batch())  # backfill, then joins the live set
        parked = asyncio.create_task(subscription.next_batch())
        await asyncio.sleep(0)
        view.append(4, RECENT)
        hub.notify()
        got += seqs(await asyncio.wait_for(parked, 5))
        await hub.stop()
        return woken, got

    woken, got = run(scenario())
    assert woken == [False, False]  # nobody live: no wake-up of the loop per save
    assert got == [2, 3, 4]


def test_a_backfill_joining_an_idle_hub_gets_what_the_tail_skipped() -> None:
    view = FakeSeqView()
    view.append(1, RECENT)

    async def scenario() -> list[int]:
        hub = hub_over(view, page_size=2)
        await hub.start()
        subscription = await hub.subscribe(0)
        got = await drain(subscription, 1)
        parked = asyncio.create_task(subscription.next_batch())  # joins the live set
        view.append(2, RECENT)
        view.append(3, RECENT)
        await hub.catch_up()  # may run before the join: then it skips, and the join wakes it
        got += seqs(await parked)
        if got[-1] < 3:
            got += seqs(await subscription.next_batch())
        await hub.stop()
        return got

    assert run(scenario()) == [1, 2, 3]
