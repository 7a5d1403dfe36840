"""Telling relays to crawl us after writes, at most once per interval per relay.

The reference PDS notifies its configured crawlers on writes but no more often than every
20 minutes: a relay that is already subscribed needs no reminder, one that dropped us
picks us up again soon.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol


class RelayNotifier(Protocol):
    """Sends `com.atproto.sync.requestCrawl` for our hostname to one relay."""

    def request_crawl(self, relay: str, hostname: str) -> None:
        """Best effort: failures are the notifier's to log, never the writer's to see."""
        ...


class Crawlers:
    """Rate-limited crawl requests to configured relays, sent off the write path."""

    def __init__(
        self,
        relays: tuple[str, ...],
        hostname: str,
        notifier: RelayNotifier,
        *,
        min_interval: float = 20 * 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.relays = relays
        self.hostname = hostname
        self.notifier = notifier
        self.min_interval = min_interval
        self.clock = clock
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def due(self) -> list[str]:
        """The relays whose interval has passed (and mark them notified now)."""
        now = self.clock()
        with self._lock:
            due = [r for r in self.relays if now - self._last.get(r, -1e18) >= self.min_interval]
            for relay in due:
                self._last[relay] = now
        return due

    def notify_of_update(self) -> None:
        """Called after each recorded write; sends in a thread only when some relay is due."""
        due = self.due()
        if due:
            threading.Thread(target=self._send, args=(due,), daemon=True).start()

    def _send(self, relays: list[str]) -> None:
        for relay in relays:
            self.notifier.request_crawl(relay, self.hostname)
