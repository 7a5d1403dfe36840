"""Group commit: records queued commits of many DIDs together, in one transaction.

When writers queue up (many clients, many accounts), one transaction per commit makes the
database's commit latency the bottleneck. Whatever is queued, up to a batch size, is decided
commit by commit and recorded with one `save()` (one transaction, one fsync).

Two ways in, one batching rule:
- `commit()`, from an event loop (the HTTP handlers): the commits requested during one turn
  of the loop are recorded together on the loop's own thread, right after that turn's ready
  callbacks. Handing each commit to another thread and back costs more than the commit's own
  Python work on a small machine: two wake-ups, and the two threads trading the GIL on every
  SQLite call in between.
- `submit()`, from any thread: one writer thread drains the queue. With `on_loop=False`,
  `commit()` goes this way too: for Postgres, where a transaction waits on the network and
  must not stall the event loop.
`RepoHost` serializes the two under its write lock.

Both ways linger for company: writers that each wait for their commit before sending the
next fall into groups that alternate between transactions (over HTTP, 8 clients on 8
accounts made batches of about 3). The accounts seen in the last two batches estimate how
many are writing; until that many commits are gathered, the writer thread waits up to a
quarter of the last transaction's time, and the loop defers its batch (serving other
requests meanwhile) up to the whole of it, at most 2 ms, so they share one transaction. A
lone writer never waits, and a full batch stops waiting at once.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from concurrent.futures import Future
from typing import Any, Final

from application.repo_host.app import RepoHost
from domain.data.cid import CID
from domain.repo.repo_commit import RepoCommit
from domain.repo.writes import RecordWrite

MAX_BATCH: Final = 64
THREAD_LINGER_SHARE: Final = 0.25
"""Of the last transaction's duration: how long the writer thread may wait for company."""
LOOP_LINGER_SHARE: Final = 1.0
"""The same for a loop's batch. The loop serves other requests while it waits, and its
writers (HTTP clients) come back more slowly than threads in the process: with 8 clients
on 8 accounts a quarter kept batches at about 3 commits, a whole one made them 7.5 and
createRecord 1,750-1,800 -> 2,040-2,070/s (`bench/http.py`'s workload, alternated). For
the writer thread a whole one measured no better (`bench/store.py`, alternated)."""
MAX_LINGER: Final = 0.002
_Request = tuple[str, list[RecordWrite], CID | None]
_Outcome = RepoCommit | BaseException
_Waiting = list[tuple[_Request, "asyncio.Future[RepoCommit]"]]


class _Company:
    """Who has been writing lately (the DIDs of the last two batches) and how long to wait
    for them (a share of the last transaction's time)."""

    def __init__(self, share: float) -> None:
        self.share = share
        self.recent: tuple[frozenset[str], frozenset[str]] = (frozenset(), frozenset())
        self.linger = 0.0

    def expected(self, max_batch: int) -> int:
        """How many commits a batch should gather before it stops waiting."""
        return min(max_batch, len(self.recent[0] | self.recent[1]))

    def learn(self, dids: frozenset[str], seconds: float) -> None:
        """Remember a batch's accounts and how long its transaction took."""
        self.recent = (dids, self.recent[0])
        self.linger = min(MAX_LINGER, self.share * seconds)


class GroupCommitter:
    """Batches the commits that queue up: per event-loop turn, or on its writer thread."""

    def __init__(self, host: RepoHost, max_batch: int = MAX_BATCH, *, on_loop: bool = True) -> None:
        self.host = host
        self.max_batch = max_batch
        self.on_loop = on_loop
        self._thread_company = _Company(THREAD_LINGER_SHARE)
        self._loop_company = _Company(LOOP_LINGER_SHARE)  # touched on loop threads only
        self._timers: dict[asyncio.AbstractEventLoop, asyncio.TimerHandle] = {}
        self._queue: queue.Queue[tuple[_Request, Future[RepoCommit]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="quire-group-commit", daemon=True)
        self._thread.start()
        self._waiting: dict[asyncio.AbstractEventLoop, _Waiting] = {}
        self._counts = threading.Lock()
        self.batches = 0
        self.commits = 0

    async def commit(
        self, did: str, writes: list[RecordWrite], swap_commit: CID | None = None
    ) -> RepoCommit:
        """Commit from an event loop: batched with the commits requested in the same turn
        (or, when the usual company is expected, in the next few until it is here).

        The batch runs on the loop's thread, so the loop waits for it: at most `max_batch`
        commits, then the loop takes its I/O before the next batch. With `on_loop=False` the
        commit is queued for the writer thread instead.
        """
        if not self.on_loop:
            return await asyncio.wrap_future(self.submit(did, writes, swap_commit))
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[RepoCommit] = loop.create_future()
        waiting = self._waiting.setdefault(loop, [])
        waiting.append(((did, writes, swap_commit), waiter))
        company = self._loop_company
        if len(waiting) == 1:
            if company.expected(self.max_batch) > 1 and company.linger > 0:
                self._timers[loop] = loop.call_later(company.linger, self._record_waiting, loop)
            else:
                loop.call_soon(self._record_waiting, loop)
        elif loop in self._timers and len(waiting) >= company.expected(self.max_batch):
            self._timers.pop(loop).cancel()  # everyone expected is here: no more waiting
            loop.call_soon(self._record_waiting, loop)
        return await waiter

    def _record_waiting(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timers.pop(loop, None)
        waiting = self._waiting.get(loop)
        if not waiting:
            return
        batch, rest = waiting[: self.max_batch], waiting[self.max_batch :]
        if rest:
            self._waiting[loop] = rest
            loop.call_soon(self._record_waiting, loop)
        else:
            self._waiting.pop(loop, None)
        started = time.monotonic()
        outcomes = self._record([request for request, _ in batch])
        self._loop_company.learn(_dids(batch), time.monotonic() - started)
        for (_, waiter), outcome in zip(batch, outcomes, strict=True):
            if waiter.done():  # the caller went away; its commit stands
                continue
            if isinstance(outcome, RepoCommit):
                waiter.set_result(outcome)
            else:
                waiter.set_exception(outcome)

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
            batch = self._gather(first)
            started = time.monotonic()
            self._process(batch)
            self._thread_company.learn(_dids(batch), time.monotonic() - started)

    def _gather(
        self, first: tuple[_Request, Future[RepoCommit]]
    ) -> list[tuple[_Request, Future[RepoCommit]]]:
        """`first` and whatever is queued; lingering for company when writers take turns."""
        batch = [first]
        company = self._thread_company.expected(self.max_batch)
        linger = self._thread_company.linger
        deadline: float | None = None
        while len(batch) < self.max_batch:
            try:
                if deadline is None:
                    item = self._queue.get_nowait()
                else:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    item = self._queue.get(timeout=remaining)
            except queue.Empty:
                if deadline is None and len(batch) < company and linger > 0:
                    deadline = time.monotonic() + linger
                    continue
                break
            if item is None:
                self._queue.put(None)
                break
            batch.append(item)
            if deadline is not None and len(batch) >= company:
                break
        return batch

    def _process(self, batch: list[tuple[_Request, Future[RepoCommit]]]) -> None:
        outcomes = self._record([request for request, _ in batch])
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, RepoCommit):
                future.set_result(outcome)
            else:
                future.set_exception(outcome)

    def _record(self, requests: list[_Request]) -> list[_Outcome]:
        """Each request's commit or error; an infrastructure failure is every request's."""
        try:
            results: list[_Outcome] = list(self.host.apply_writes_batch(requests))
        except Exception as exc:
            return [exc] * len(requests)
        with self._counts:
            self.batches += 1
            self.commits += sum(isinstance(result, RepoCommit) for result in results)
        return results


def _dids(batch: list[tuple[_Request, Any]]) -> frozenset[str]:
    return frozenset(did for (did, _, _), _ in batch)
