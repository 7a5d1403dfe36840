"""A resilient `subscribeRepos` consumer: decode, verify, hand over, remember the cursor.

The cursor only moves after the handler has returned for an event, so a crash or a dropped
connection resumes from the last event fully processed (at-least-once for the handler,
never a gap). Every disconnect (network error, the server's `ConsumerTooSlow`, an
out-of-order seq, a framing error, a silent stall) reconnects from that cursor after an
exponential backoff with jitter, reset once a connection delivers again. The watchdog
treats a connection that says nothing for `stall_timeout` seconds as dead: a half-open TCP
connection can otherwise wait forever. A `FutureCursor` error is final: the server has
lost history we already processed, and only an operator can decide what to do.

Repo events are verified (Sync 1.1, see `verify.py`) with keys from a `DidKeyResolver`,
cached per DID and dropped on `#identity`; a bad signature is retried once with a fresh key
in case it rotated. An invalid event goes to `on_invalid` and is skipped; without that
callback it stops the consumer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from application.firehose_consumer.events import (
    CommitEvent,
    ErrorFrame,
    FirehoseEvent,
    IdentityEvent,
    InfoEvent,
    InvalidFrame,
    SeqEvent,
    SyncEvent,
    decode_frame,
)
from application.firehose_consumer.ports import DidKeyResolver, FrameSource, FrameSourceError
from application.firehose_consumer.verify import (
    BadSignature,
    ChainBroken,
    InvalidRepoEvent,
    RepoState,
    verify_commit_event,
    verify_sync_event,
)

log = logging.getLogger(__name__)

KEY_CACHE_SIZE: Final = 10_000

Handler = Callable[[FirehoseEvent], Awaitable[None]]
InvalidHandler = Callable[[SeqEvent, InvalidRepoEvent], Awaitable[None]]


class FutureCursorError(Exception):
    """The server says our cursor is ahead of its stream: it lost events we processed."""


class StreamInterrupted(Exception):
    """This connection is unusable (error frame, out-of-order seq, stall): reconnect."""


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential reconnect delays with jitter, so a server restart is not a stampede."""

    initial: float = 0.5
    maximum: float = 30.0
    factor: float = 2.0
    jitter: float = 0.25

    def delay(self, attempt: int, rand: float) -> float:
        """The delay before reconnect number `attempt` (0-based); `rand` is in [0, 1)."""
        base = min(self.maximum, self.initial * self.factor**attempt)
        return base * (1 - self.jitter + 2 * self.jitter * rand)


class FirehoseConsumer:
    """Consume one `subscribeRepos` stream until stopped or a final error."""

    def __init__(
        self,
        source: FrameSource,
        keys: DidKeyResolver,
        *,
        cursor: int | None = None,
        verify: bool = True,
        backoff: Backoff | None = None,
        stall_timeout: float = 60.0,
        on_invalid: InvalidHandler | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.source = source
        self.keys = keys
        self.cursor = cursor
        self.verify = verify
        self.backoff = backoff or Backoff()
        self.stall_timeout = stall_timeout
        self.on_invalid = on_invalid
        self.sleep = sleep
        self.rand = rand
        self.states: dict[str, RepoState] = {}
        self.connections = 0
        self.disconnects: list[str] = []
        self._keys: OrderedDict[str, str] = OrderedDict()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def stop(self) -> None:
        """End `run()` after the event being handled (or at once while waiting for one).

        From the handler itself, `run()` returns once the handler does; from elsewhere, the
        consuming task is cancelled out of whatever it is waiting for.
        """
        self._stopping = True
        task = self._task
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()

    async def run(self, handler: Handler) -> None:
        """Consume, reconnecting as needed, until `stop()` or a final error."""
        self._task = asyncio.current_task()
        attempt = 0
        try:
            while not self._stopping:
                before = self.cursor
                try:
                    await self._connection(handler)
                    reason = "server closed the stream"
                except (FrameSourceError, InvalidFrame, StreamInterrupted, TimeoutError) as exc:
                    reason = f"{type(exc).__name__}: {exc}"
                self.disconnects.append(reason)
                log.info("firehose disconnected (%s); resuming from %s", reason, self.cursor)
                if self._stopping:
                    return
                attempt = 0 if self.cursor != before else attempt + 1
                await self.sleep(self.backoff.delay(attempt, self.rand()))
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()

    async def _connection(self, handler: Handler) -> None:
        """One connection, until it ends, fails or the consumer stops."""
        self.connections += 1
        frames = self.source.frames(self.cursor)
        try:
            async with asyncio.timeout(None) as watchdog:
                while True:
                    watchdog.reschedule(asyncio.get_running_loop().time() + self.stall_timeout)
                    try:
                        frame = await anext(frames)
                    except StopAsyncIteration:
                        return
                    watchdog.reschedule(None)  # the handler may take its time
                    await self._handle(decode_frame(frame), handler)
                    if self._stopping:
                        return
        finally:
            await _close(frames)

    async def _handle(self, event: FirehoseEvent | ErrorFrame | None, handler: Handler) -> None:
        """Process one decoded frame; the cursor moves past each seq event handled."""
        if event is None:
            return
        if isinstance(event, ErrorFrame):
            if event.error == "FutureCursor":
                raise FutureCursorError(event.message or "cursor is in the future")
            raise StreamInterrupted(f"error frame {event.error}: {event.message}")
        if isinstance(event, InfoEvent):
            await handler(event)
            return
        if self.cursor is not None and event.seq <= self.cursor:
            raise StreamInterrupted(f"seq {event.seq} is not after {self.cursor}")
        if not self.verify or await self._verified(event):
            await handler(event)
        self.cursor = event.seq

    async def _verified(self, event: SeqEvent) -> bool:
        """Check a repo event and update the repo's state; False if it must be skipped."""
        if isinstance(event, IdentityEvent):
            self._keys.pop(event.did, None)
            return True
        if not isinstance(event, CommitEvent | SyncEvent):
            return True
        did = event.repo if isinstance(event, CommitEvent) else event.did
        try:
            try:
                state = self._check(event, await self._key(did))
            except BadSignature:
                state = self._check(event, await self._key(did, refresh=True))
        except ChainBroken as exc:
            self.states[did] = exc.state
            await self._invalid(event, exc)
            return False
        except InvalidRepoEvent as exc:
            await self._invalid(event, exc)
            return False
        self.states[did] = state
        return True

    def _check(self, event: CommitEvent | SyncEvent, did_key: str) -> RepoState:
        if isinstance(event, CommitEvent):
            return verify_commit_event(event, did_key, self.states.get(event.repo))
        return verify_sync_event(event, did_key)

    async def _invalid(self, event: SeqEvent, error: InvalidRepoEvent) -> None:
        if self.on_invalid is None:
            raise error
        await self.on_invalid(event, error)

    async def _key(self, did: str, *, refresh: bool = False) -> str:
        key = None if refresh else self._keys.get(did)
        if key is None:
            key = await self.keys.signing_key(did)
            self._keys[did] = key
            if len(self._keys) > KEY_CACHE_SIZE:
                self._keys.popitem(last=False)
        else:
            self._keys.move_to_end(did)
        return key


async def _close(frames: AsyncIterator[bytes]) -> None:
    aclose = getattr(frames, "aclose", None)
    if aclose is not None:
        with contextlib.suppress(Exception):
            await aclose()
