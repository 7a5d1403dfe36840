"""One tail per process over the seq view, fanned out to per-subscriber bounded queues.

The tail reads rows with seq > its position whenever it is woken (a local write, a Postgres
NOTIFY from another process) or its poll interval passes, and pushes each page of
pre-encoded frames to every live subscription in one synchronous pass: one thread hop per
page, not per frame, and no subscriber can make it wait. A subscription that overflows is
failed with `ConsumerTooSlow` and detached (see `subscription.py`).

Cursor rules (ADR 0006), as the reference PDS applies them:
- no cursor: live only, from the current position;
- cursor > the highest seq: `FutureCursor`;
- cursor inside the retention window: every event with seq > cursor, then live;
- cursor before the window: `#info OutdatedCursor`, then from the oldest retained event.

A pruning task deletes seq view rows older than the window (never the log) on an interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Final

from application.firehose.errors import FutureCursor
from application.firehose.subscription import Batch, LiveSink, Subscription
from application.ports.repo_views import SeqEvent
from application.ports.seq_view import SeqViewPruner, SeqViewReader
from domain.firehose.frames import info_frame

PAGE: Final = 1000
OUTDATED_MESSAGE: Final = "Requested cursor exceeded limit. Possibly missing events"

log = logging.getLogger(__name__)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def seq_time(when: datetime) -> str:
    """The seq view's time format (atproto datetime, milliseconds, `Z`); sorts as text."""
    when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


class FirehoseHub:
    """The per-process tail and its subscriptions."""

    def __init__(
        self,
        views: SeqViewReader,
        *,
        pruner: SeqViewPruner | None = None,
        max_queue: int = 2_000,
        poll_interval: float = 0.5,
        retention: timedelta = timedelta(hours=72),
        prune_interval: float = 600.0,
        clock: Callable[[], datetime] = _utc_now,
        page_size: int = PAGE,
    ) -> None:
        self.views = views
        self.page_size = page_size
        self.pruner = pruner
        self.max_queue = max_queue
        self.poll_interval = poll_interval
        self.retention = retention
        self.prune_interval = prune_interval
        self.clock = clock
        self.position = 0
        self._live: set[Subscription] = set()
        self._open: set[Subscription] = set()
        self._wake: asyncio.Event | None = None
        self._signalled = False
        self._behind = False  # commits were skipped while no subscription was live
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []

    # -- lifecycle -----------------------------------------------------------------------
    async def start(self) -> None:
        """Start the tail at the current end of the seq view, and the pruning job."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._signalled = False
        self.position = await asyncio.to_thread(self.views.max_seq)
        self._tasks = [asyncio.create_task(self._tail(), name="firehose-tail")]
        if self.pruner is not None:
            self._tasks.append(asyncio.create_task(self._prune_loop(), name="firehose-prune"))

    async def stop(self) -> None:
        """Stop the tail and the pruning job; end every open subscription."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        for subscription in list(self._open):
            subscription.close()

    def notify(self) -> None:
        """Wake the tail; safe from any thread (the writer calls it after each save).

        Coalesced: while a wake-up is pending, further calls cost nothing. With no live
        subscription there is nothing to wake the tail for: the position is marked behind, as
        `catch_up` would, without a wake-up of the loop per save (1.4% of the loop's samples
        under 8 writing clients, none subscribed). `join` wakes it when one goes live; the
        second look at `_live` closes the race with a `join` on another thread, which either
        is seen here or sees `_behind` set.
        """
        if not self._live:
            self._behind = True
            if not self._live:
                return
        loop, wake = self._loop, self._wake
        if self._signalled or loop is None or wake is None or loop.is_closed():
            return
        self._signalled = True
        with contextlib.suppress(RuntimeError):  # the loop closed since the check
            loop.call_soon_threadsafe(wake.set)

    @property
    def subscriber_count(self) -> int:
        """How many subscriptions are open (backfilling or live)."""
        return len(self._open)

    @property
    def subscriptions(self) -> frozenset[Subscription]:
        """The open subscriptions (backfilling or live), for monitoring."""
        return frozenset(self._open)

    # -- the tail ------------------------------------------------------------------------
    async def _tail(self) -> None:
        assert self._wake is not None
        wake = self._wake
        while True:
            if not wake.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), self.poll_interval)
            self._signalled = False
            wake.clear()
            try:
                await self.catch_up()
            except Exception:  # the database may be briefly unreachable: retry on next poll
                log.exception("firehose tail read failed")
                await asyncio.sleep(self.poll_interval)

    async def catch_up(self) -> None:
        """Read and publish pages until the seq view has nothing after our position.

        With no live subscription there is nobody to publish to, so the read is skipped (on a
        busy PDS with no relay attached it would cost a page read per commit) and the
        position is brought forward when a subscription next needs it.
        """
        if not self._live:
            self._behind = True
            return
        while True:
            rows = await self.read_page(self.position)
            self._publish(rows)
            if len(rows) < self.page_size:
                return

    def _publish(self, rows: list[SeqEvent]) -> None:
        position = self.position
        batch: Batch = [(row.seq, row.frame) for row in rows if row.seq > position]
        if not batch:
            return
        self.position = batch[-1][0]
        frames = [frame for _, frame in batch]
        for subscription in tuple(self._live):
            subscription.push(batch, frames)

    async def read_page(self, after: int) -> list[SeqEvent]:
        """A page of the seq view after `after`, read off the event loop."""
        return await asyncio.to_thread(self.views.seq_after, after, self.page_size)

    # -- subscribing ---------------------------------------------------------------------
    async def subscribe(self, cursor: int | None, sink: LiveSink | None = None) -> Subscription:
        """Open a subscription (raises `FutureCursor` for a cursor past the current seq)."""
        if cursor is None:
            refreshed = self._behind and not self._live
            if refreshed:
                self._behind = False
                self.position = max(self.position, await asyncio.to_thread(self.views.max_seq))
            subscription = Subscription(self, self.position, preamble=[], live=True, sink=sink)
            if refreshed:
                self.notify()  # anything recorded during the read above
            self._open.add(subscription)
            self.join(subscription)
            return subscription
        latest = self.position
        if cursor > latest:
            latest = max(latest, await asyncio.to_thread(self.views.max_seq))
            if cursor > latest:
                raise FutureCursor("Cursor in the future.")
        start, preamble = await self._window_start(cursor, latest)
        subscription = Subscription(self, start, preamble=preamble, live=False, sink=sink)
        self._open.add(subscription)
        return subscription

    async def _window_start(self, cursor: int, latest: int) -> tuple[int, list[bytes]]:
        """Where backfill starts, and the `OutdatedCursor` info if the cursor is too old.

        Two primary-key lookups decide the common case: the first event after the cursor
        is inside the window, and the cursor is not before the oldest row the view still
        holds (pruned events leave a gap there). Only an outdated cursor pays for the
        search of the window's first event.
        """
        horizon = seq_time(self.clock() - self.retention)
        first = await asyncio.to_thread(self.views.seq_after, cursor, 1)
        if not first:
            return cursor, []
        outdated = [info_frame("OutdatedCursor", OUTDATED_MESSAGE)]
        if first[0].time < horizon:
            oldest = await asyncio.to_thread(self.views.min_seq_since, horizon)
            return (latest if oldest is None else oldest - 1), outdated
        if first[0].seq > cursor + 1:
            head = await asyncio.to_thread(self.views.seq_after, 0, 1)
            if head and head[0].seq == first[0].seq:  # nothing kept before it: maybe pruned
                return cursor, outdated
        return cursor, []

    def join(self, subscription: Subscription) -> None:
        """Add a caught-up subscription to the live set (synchronously: see `subscription`).

        If the tail skipped reads while nobody was live, it is woken to catch up from the
        position this subscription reached, so nothing in between is missed.
        """
        if subscription in self._open:
            was_idle = not self._live
            self._live.add(subscription)
            if was_idle and self._behind:
                self._behind = False
                self.notify()

    def detach(self, subscription: Subscription) -> None:
        """Forget a subscription that ended."""
        self._live.discard(subscription)
        self._open.discard(subscription)

    # -- retention -------------------------------------------------------------------------
    async def prune(self) -> int:
        """Delete seq view rows older than the retention window now; return how many."""
        if self.pruner is None:
            return 0
        horizon = seq_time(self.clock() - self.retention)
        return await asyncio.to_thread(self.pruner.prune_seq_view, horizon)

    async def _prune_loop(self) -> None:
        while True:
            try:
                deleted = await self.prune()
                if deleted:
                    log.info("pruned %d seq view rows older than the retention window", deleted)
            except Exception:
                log.exception("seq view pruning failed")
            await asyncio.sleep(self.prune_interval)
