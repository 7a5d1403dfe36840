"""One subscriber's stream: the frames after its cursor, read from the seq view, then live.

A subscription starts in backfill: it pages through the seq view itself, pulling at the pace
its socket drains, so a slow reader of history costs the hub nothing. Once its position
reaches the hub's, it joins the live set in the same synchronous step as that comparison (no
`await` between them), so the next row the hub publishes is exactly the next one it needs:
no gap, no duplicate. Live frames arrive in batches pushed by the hub into a bounded list;
overflowing it fails the subscription with `ConsumerTooSlow` and detaches it at once, so a
stuck reader never holds memory or slows anyone else.

Every frame carries its seq, and a subscription drops frames at or below its position. That
matters only when a cursor is ahead of the hub's tail (written, not yet published): the tail
would otherwise hand it frames it already has.

A transport may offer a `LiveSink`: while the sender is parked with nothing queued, the hub's
push hands a batch straight to the sink, which writes it if the connection can take it
without waiting. Waking one sender task per subscriber per batch would cost more than the
write itself; the queue is then only used when a connection pushes back.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Protocol

from application.firehose.errors import ConsumerTooSlow, FirehoseError, SubscriptionClosed

if TYPE_CHECKING:
    from application.firehose.hub import FirehoseHub

Batch = list[tuple[int, bytes]]


class LiveSink(Protocol):
    """A transport's non-blocking write path for live frames."""

    def deliver(self, frames: list[bytes]) -> bool:
        """Write `frames` now if the connection can take them without waiting, else False."""
        ...


class Subscription:
    """Frames for one subscriber; `next_batch()` until it raises."""

    __slots__ = (
        "_closed",
        "_failure",
        "_hub",
        "_live",
        "_max",
        "_pending",
        "_sink",
        "_waiter",
        "position",
    )

    def __init__(
        self,
        hub: FirehoseHub,
        position: int,
        *,
        preamble: list[bytes],
        live: bool,
        sink: LiveSink | None = None,
    ) -> None:
        self._hub = hub
        self.position = position
        self._live = live
        self._max = hub.max_queue
        self._pending: Batch = [(0, frame) for frame in preamble]
        self._waiter: asyncio.Future[None] | None = None
        self._failure: FirehoseError | None = None
        self._closed = False
        self._sink = sink

    @property
    def live(self) -> bool:
        """True once backfill is over and the hub pushes frames to this subscription."""
        return self._live

    @property
    def failure(self) -> FirehoseError | None:
        """The error that ended the stream (e.g. `ConsumerTooSlow`), if any."""
        return self._failure

    # -- called by the hub -----------------------------------------------------------------
    def push(self, batch: Batch, frames: list[bytes]) -> bool:
        """Deliver or queue a published batch without waiting; False (and failed) on overflow.

        `frames` are the batch's frames alone, built once by the hub for every subscriber.
        """
        if self._waiter is not None and self._sink is not None and not self._pending:
            last = batch[-1][0]
            if last <= self.position:
                return True
            if batch[0][0] <= self.position:
                frames = [frame for seq, frame in batch if seq > self.position]
            if self._sink.deliver(frames):
                self.position = last
                return True
        pending = self._pending
        if len(pending) + len(batch) > self._max:
            self.fail(ConsumerTooSlow("Stream consumer too slow; reconnect with a cursor"))
            return False
        pending.extend(batch)
        self._wake()
        return True

    def fail(self, error: FirehoseError) -> None:
        """End the stream with `error`; queued frames are dropped."""
        if self._failure is None and not self._closed:
            self._failure = error
            self._pending = []
        self._hub.detach(self)
        self._wake()

    def close(self) -> None:
        """End the stream quietly (the client went away, or the server is stopping)."""
        self._closed = True
        self._pending = []
        self._hub.detach(self)
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    # -- called by the sender --------------------------------------------------------------
    async def next_batch(self) -> list[bytes]:
        """The next frames to send, in seq order; raises `FirehoseError` or `SubscriptionClosed`."""
        while True:
            if self._failure is not None:
                raise self._failure
            if self._closed:
                raise SubscriptionClosed
            if self._pending:
                frames = self._take()
                if frames:
                    return frames
                continue
            if self._live:
                self._waiter = asyncio.get_running_loop().create_future()
                await self._waiter
                continue
            frames = await self._backfill_page()
            if frames:
                return frames

    def _take(self) -> list[bytes]:
        batch, self._pending = self._pending, []
        position = self.position
        frames = [frame for seq, frame in batch if seq > position or seq == 0]
        last = batch[-1][0]
        if last > position:
            self.position = last
        return frames

    async def _backfill_page(self) -> list[bytes]:
        """One page of history, or nothing after joining the live set.

        `limit` is read before the query: every row at or below it was committed before
        the hub read it, hence before this query started, so the query sees all of them.
        Rows above it are left to a later page or to the live stream.
        """
        hub = self._hub
        limit = hub.position
        if self.position >= limit:
            hub.join(self)  # same step as the comparison: nothing can be published between
            self._live = True
            return []
        rows = await hub.read_page(self.position)
        frames: list[bytes] = []
        last = self.position
        for row in rows:
            if row.seq > limit:
                break
            frames.append(row.frame)
            last = row.seq
        # No row in (position, limit] means none exists there (gaps, pruned rows): skip it.
        self.position = last if frames else max(self.position, limit)
        return frames
