"""`quire replay`: rebuild every view from the log alone and compare digests with the live one."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import Application

from application.audit.log_reader import iter_notifications
from application.audit.parallel_projection import (
    can_fork,
    default_workers,
    project_pages,
    project_ranges,
)
from application.ports.log_pages import LogPages
from application.ports.view_store import ViewDigests, ViewSink

_PARALLEL_FROM = 5_000
"""Below this many events, worker start-up and the shard fold cost more than they save.

Measured with forked workers (ADR 0010): at 6,000 events two workers took 0.34-0.42 s and
one process 0.45 s; at 18,000, 1.05-1.18 s against 1.32-1.46 s."""
_PARALLEL_SPAWNED_FROM = 20_000
"""The same when workers must be spawned (another thread runs): a fresh interpreter each."""


@dataclass(frozen=True, slots=True)
class ReplayReport:
    """Digests of the live and the rebuilt views, and how many events were replayed."""

    events: int
    live: dict[str, str]
    rebuilt: dict[str, str]
    rebuild_seconds: float = 0.0

    @property
    def differences(self) -> list[str]:
        """Names of the views whose digests differ."""
        return sorted(name for name in self.live if self.live[name] != self.rebuilt.get(name))

    @property
    def ok(self) -> bool:
        """True when every view equals its rebuild."""
        return not self.differences


def replay(
    app: Application[Any],
    sink: ViewSink,
    live: ViewDigests,
    rebuilt: ViewDigests,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
    log: LogPages | None = None,
) -> ReplayReport:
    """Project every event of the log into `sink`, then compare digests view by view.

    Projection runs in `workers` processes (default: one per core) when the log is longer
    than a few pages; batches are still written strictly in seq order. Given `log`, the
    events are read by seq range with it (by each worker for its own ranges), not as
    eventsourcing notifications.
    """
    count = 0
    started = time.perf_counter()
    last_seq = app.recorder.max_notification_id() or 0
    if workers is None:
        threshold = _PARALLEL_FROM if can_fork() else _PARALLEL_SPAWNED_FROM
        workers = default_workers() if last_seq > threshold else 1
    if log is not None:
        batches = project_ranges(app.mapper, log, last_seq, workers, sink.shard_opener())
    else:
        batches = project_pages(app.mapper, iter_notifications(app), workers, sink.shard_opener())
    for events, batch in batches:
        sink.write(batch)
        count += events
        if progress is not None:
            progress(count)
    sink.finish()
    elapsed = time.perf_counter() - started
    min_seq = live.min_seq()
    return ReplayReport(count, live.digests(min_seq), rebuilt.digests(min_seq), elapsed)
