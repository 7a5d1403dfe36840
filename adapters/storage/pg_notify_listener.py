"""Wake the firehose tail when another process records events in the same Postgres database.

eventsourcing's Postgres recorder runs `NOTIFY <events table>` inside every insert
transaction, so listeners hear it when the events (and our seq view rows, written in the
same transaction) are committed. This listener holds one async connection with `LISTEN` on
that channel and calls `on_notify` (the hub's thread-safe `notify`) for each notification.
After a (re)connection it calls `on_notify` once too: anything committed while it was not
listening is picked up at once rather than at the tail's next poll. Connection failures are
retried with a capped backoff; the tail's poll keeps the stream moving meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any, Final

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

MAX_RETRY_DELAY: Final = 10.0


class PgNotifyListener:
    """LISTEN on `channel` and call `on_notify` for each NOTIFY."""

    def __init__(
        self,
        conninfo: str,
        channel: str,
        on_notify: Callable[[], None],
        *,
        retry_delay: float = 0.5,
    ) -> None:
        self.conninfo = conninfo
        self.channel = channel
        self.on_notify = on_notify
        self.retry_delay = retry_delay
        self.listening = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start listening in the background; returns at once."""
        self._task = asyncio.create_task(self._run(), name=f"listen-{self.channel}")

    async def stop(self) -> None:
        """Stop listening and close the connection."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        delay = self.retry_delay
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("LISTEN %s failed (%s); retrying in %.1fs", self.channel, exc, delay)
            if self.listening.is_set():  # it worked for a while: start the backoff over
                delay = self.retry_delay
            self.listening.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RETRY_DELAY)

    async def _listen(self) -> None:
        conn: Any = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
        async with conn:
            await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
            self.listening.set()
            self.on_notify()
            async for _ in conn.notifies():
                self.on_notify()


def notify_listener(
    dialect: str, conninfo: str, recorder: object, on_notify: Callable[[], None]
) -> PgNotifyListener | None:
    """A listener for a Postgres store's events channel; None for SQLite (one process)."""
    channel = getattr(recorder, "channel_name", None)
    if dialect != "postgresql" or not isinstance(channel, str):
        return None
    return PgNotifyListener(conninfo, channel, on_notify)
