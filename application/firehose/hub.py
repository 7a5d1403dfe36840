"""One tail per process over the seq view, fanned out to per-subscriber bounded queues.

The tail reads rows with seq > its position whenever it is woken (a local write, a Postgres
NOTIFY from another process) or its poll interval passes, and appends each pre-encoded frame to
every live subscriber's queue. Queues are bounded: a subscriber that falls behind is marked too
slow and dropped, and nobody else waits for it.

Backfill and live meet without gap or duplicate because both run on the event loop: a
subscriber reads the seq view in pages until its position equals the tail's position, and in
that same synchronous step (no `await` between the check and the registration) joins the live
set. Everything the tail publishes later has seq > that position.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Final

from application.firehose.errors import ConsumerTooSlow, FutureCursor
from application.ports.repo_views import RepoViews, SeqEvent
from domain.firehose.frames import info_frame

PAGE: Final = 500


class Subscriber:
    """A live subscriber's bounded queue of (seq, frame) and its overflow flag."""

    __slots__ = ("overflowed", "queue")

    def __init__(self, max_queue: int) -> None:
        self.queue: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue(max_queue)
        self.overflowed = False

    def offer(self, seq: int, frame: bytes) -> bool:
        """Enqueue without waiting; on overflow mark the subscriber too slow."""
        try:
            self.queue.put_nowait((seq, frame))
            return True
        except asyncio.QueueFull:
            self.overflowed = True
            with contextlib.suppress(asyncio.QueueFull):
                self.queue.put_nowait((-1, b""))  # wake the reader if it is waiting
            return False


class FirehoseHub:
    """The per-process tail and its subscribers."""

    def __init__(
        self,
        views: RepoViews,
        *,
        max_queue: int = 5_000,
        poll_interval: float = 0.5,
        retention: timedelta = timedelta(hours=72),
    ) -> None:
        self.views = views
        self.max_queue = max_queue
        self.poll_interval = poll_interval
        self.retention = retention
        self.position = 0
        self._subscribers: set[Subscriber] = set()
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None

    # -- lifecycle -----------------------------------------------------------------------
    async def start(self) -> None:
        """Start the tail at the current end of the seq view."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self.position = await asyncio.to_thread(self.views.max_seq)
        self._task = asyncio.create_task(self._tail(), name="firehose-tail")

    async def stop(self) -> None:
        """Stop the tail."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def notify(self) -> None:
        """Wake the tail; safe to call from any thread (e.g. after a save)."""
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            loop.call_soon_threadsafe(wake.set)

    @property
    def subscriber_count(self) -> int:
        """How many live subscribers there are."""
        return len(self._subscribers)

    async def _tail(self) -> None:
        assert self._wake is not None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)
            self._wake.clear()
            while True:
                rows = await asyncio.to_thread(self.views.seq_after, self.position, PAGE)
                if not rows:
                    break
                self._publish(rows)
                if len(rows) < PAGE:
                    break

    def _publish(self, rows: list[SeqEvent]) -> None:
        for row in rows:
            if row.seq <= self.position:
                continue
            self.position = row.seq
            for subscriber in list(self._subscribers):
                if not subscriber.offer(row.seq, row.frame):
                    self._subscribers.discard(subscriber)

    # -- subscribing ---------------------------------------------------------------------
    async def subscribe(self, cursor: int | None) -> AsyncIterator[bytes]:
        """Frames for one subscriber: backfill after `cursor` (exclusive), then live."""
        subscriber = Subscriber(self.max_queue)
        if cursor is None:
            self._subscribers.add(subscriber)
        else:
            async for frame in self._backfill(cursor, subscriber):
                yield frame
        try:
            while True:
                _seq, frame = await subscriber.queue.get()
                if subscriber.overflowed:
                    raise ConsumerTooSlow("the consumer could not keep up; reconnect with a cursor")
                yield frame
        finally:
            self._subscribers.discard(subscriber)

    async def _backfill(self, cursor: int, subscriber: Subscriber) -> AsyncIterator[bytes]:
        if cursor > self.position:
            current = await asyncio.to_thread(self.views.max_seq)
            if cursor > current:
                raise FutureCursor("cursor is in the future")
        oldest = await asyncio.to_thread(self._oldest_retained)
        if oldest is not None and cursor < oldest - 1:
            yield info_frame(
                "OutdatedCursor", "requested cursor exceeded limit; possibly missing events"
            )
            cursor = oldest - 1
        position = cursor
        while True:
            if position >= self.position:
                self._subscribers.add(subscriber)  # same step as the check: no gap, no dup
                return
            rows = await asyncio.to_thread(self.views.seq_after, position, PAGE)
            if not rows:
                self._subscribers.add(subscriber)
                return
            for row in rows:
                if row.seq > self.position:
                    break
                position = row.seq
                yield row.frame

    def _oldest_retained(self) -> int | None:
        horizon = datetime.now(UTC) - self.retention
        return self.views.min_seq_since(horizon.strftime("%Y-%m-%dT%H:%M:%S.000Z"))
