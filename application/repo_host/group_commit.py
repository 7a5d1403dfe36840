"""Group commit: one writer thread that records queued commits of many DIDs together.

When writers queue up (many clients, many accounts), one transaction per commit makes the
database's commit latency the bottleneck. The writer drains whatever is queued, up to a
batch size, decides each commit in turn and records them with one `save()` (one transaction,
one fsync). A lone writer pays only a queue hand-off.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from typing import Final

from application.repo_host.app import RepoHost
from domain.data.cid import CID
from domain.repo.repo_commit import RepoCommit
from domain.repo.writes import RecordWrite

MAX_BATCH: Final = 64
_Request = tuple[str, list[RecordWrite], CID | None]


class GroupCommitter:
    """Serializes all writes through one thread, batching what queues up."""

    def __init__(self, host: RepoHost, max_batch: int = MAX_BATCH) -> None:
        self.host = host
        self.max_batch = max_batch
        self._queue: queue.Queue[tuple[_Request, Future[RepoCommit]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="quire-group-commit", daemon=True)
        self._thread.start()
        self.batches = 0
        self.commits = 0

    def submit(
        self, did: str, writes: list[RecordWrite], swap_commit: CID | None = None
    ) -> Future[RepoCommit]:
        """Queue a commit; the future resolves to the commit or its error."""
        future: Future[RepoCommit] = Future()
        self._queue.put(((did, writes, swap_commit), future))
        return future

    def apply_writes(
        self, did: str, writes: list[RecordWrite], swap_commit: CID | None = None
    ) -> RepoCommit:
        """Blocking convenience: submit and wait."""
        return self.submit(did, writes, swap_commit).result()

    def close(self) -> None:
        """Finish queued work and stop the thread."""
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)
                    break
                batch.append(item)
            self._process(batch)

    def _process(self, batch: list[tuple[_Request, Future[RepoCommit]]]) -> None:
        try:
            results = self.host.apply_writes_batch([request for request, _ in batch])
        except Exception as exc:  # infrastructure failure: every caller hears about it
            for _, future in batch:
                future.set_exception(exc)
            return
        self.batches += 1
        for (_, future), result in zip(batch, results, strict=True):
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                self.commits += 1
                future.set_result(result)
