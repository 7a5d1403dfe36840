"""Runs the block index's passes on a thread of its own, off the commit path (ADR 0014).

A pass waits until enough blocks are held to share the index's leaves (`EVERY_BLOCKS`), or
until the oldest held commit has waited `MAX_WAIT` seconds. It writes only the index's own
file, so the log's writer never waits for it; the sqlite3 module releases the GIL while
SQLite works, so on a second core it costs the writer little more than the binding of
parameters.
"""

from __future__ import annotations

import logging
import threading
import time

from adapters.storage.block_index import BlockIndex

log = logging.getLogger(__name__)

EVERY_BLOCKS = 4096
"""Blocks held before a pass runs: about 450 single-record commits, whose inserts share the
index's leaves (measured, ADR 0014). Counted in blocks, not saves, so that a group commit's
saves of eight commits do not make passes eight times longer."""
MAX_WAIT = 0.5
"""Seconds a held save waits at most, when commits are few."""
IDLE_PASS = 5.0
"""Seconds between passes when this process holds nothing: other processes' commits (an
operator's `quire account` command) are indexed from the log."""
TICK = 0.05


class BlockIndexer:
    """A daemon thread indexing one store's blocks until `close()`."""

    def __init__(self, index: BlockIndex) -> None:
        self.index = index
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="block-indexer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        held_since: float | None = None
        last_pass = float("-inf")  # at once: what a crash left after the mark
        while not self._stop.wait(TICK):
            now = time.monotonic()
            held = self.index.pending.blocks
            if held and held_since is None:
                held_since = now
            due = held >= EVERY_BLOCKS or (held_since is not None and now - held_since >= MAX_WAIT)
            if not due and now - last_pass < IDLE_PASS:
                continue
            try:
                self.index.index_pass()
            except Exception as exc:  # a busy index file: the next tick tries again
                log.warning("block index pass failed: %s", exc)
                continue
            held_since = None
            last_pass = now

    def close(self) -> None:
        """Stop the thread, then index what is left (a clean shutdown leaves none behind)."""
        self._stop.set()
        self._thread.join(timeout=30)
        try:
            self.index.catch_up()
        except Exception as exc:
            log.warning("final block index pass failed: %s", exc)
