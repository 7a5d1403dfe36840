"""`quire replay`: rebuild every view from the log alone and compare digests with the live one."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import Application

from application.audit.log_reader import iter_notifications
from application.ports.view_store import ViewDigests, ViewSink
from application.projection import project


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
) -> ReplayReport:
    """Project every event of the log into `sink`, then compare digests view by view."""
    count = 0
    started = time.perf_counter()
    for page in iter_notifications(app):
        events = [app.mapper.to_domain_event(n) for n in page]
        sink.write([project(event) for event in events], [n.id for n in page])
        count += len(page)
        if progress is not None:
            progress(count)
    elapsed = time.perf_counter() - started
    min_seq = live.min_seq()
    return ReplayReport(count, live.digests(min_seq), rebuilt.digests(min_seq), elapsed)
