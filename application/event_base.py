"""Base classes for eventsourcing aggregates whose ids are strings (DIDs, AT-URIs).

eventsourcing's stock `Aggregate` uses UUID ids and its `DomainEvent` rejects other id types;
quire's aggregates are named by DIDs, so they derive from `BaseAggregate[str]` with events
based on `StrEvent` (the store is configured with `ORIGINATOR_ID_TYPE=text`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from eventsourcing.domain import (
    CanCreateTimestamp,
    CanInitAggregate,
    CanMutateAggregate,
    MetaDomainEvent,
)


@dataclass(frozen=True)
class StrEvent(CanMutateAggregate[str], CanCreateTimestamp, metaclass=MetaDomainEvent):
    """A domain event of an aggregate with a string id."""

    originator_id: str
    originator_version: int
    timestamp: datetime


@dataclass(frozen=True)
class StrCreated(CanInitAggregate[str], StrEvent):
    """The first event of an aggregate with a string id."""

    originator_topic: str
