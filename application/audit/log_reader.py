"""Reading the RepoHost log in seq order, as domain events, in pages."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import Notification

PAGE = 1000


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """One recorded event with its seq (notification id)."""

    seq: int
    event: Any


def iter_notifications(app: Application[Any], after: int = 0) -> Iterator[list[Notification]]:
    """Pages of notifications with id > `after`, ascending."""
    position = after
    while True:
        page = app.recorder.select_notifications(position, PAGE, inclusive_of_start=False)
        if not page:
            return
        yield list(page)
        position = page[-1].id


def iter_events(app: Application[Any], after: int = 0) -> Iterator[LoggedEvent]:
    """Every event with seq > `after`, decoded, in seq order."""
    for page in iter_notifications(app, after):
        for notification in page:
            yield LoggedEvent(notification.id, app.mapper.to_domain_event(notification))
