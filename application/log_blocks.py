"""The blocks a stored event carries, read straight from its stored form.

A block index maintained behind the log (ADR 0014) reads the events it has not indexed yet,
including those recorded by other processes, without the application that recorded them:
only the topic and the state's `commit` and `blocks` fields (the CAR slice) are needed.
"""

from __future__ import annotations

from eventsourcing.utils import get_topic

from application.cbor_transcoder import CborTranscoder
from application.repo_host.repo_aggregate import Repo
from domain.repo.car import split_slice

COMMIT_TOPICS = frozenset(get_topic(cls) for cls in (Repo.Created, Repo.Committed, Repo.Imported))
"""Topics of the events that carry new blocks (a CAR slice rooted at the commit)."""

_TRANSCODER = CborTranscoder()


def blocks_of(topic: str, state: bytes) -> list[tuple[bytes, bytes]]:
    """(CID bytes, block bytes) of a stored event's slice; [] for events without blocks."""
    if topic not in COMMIT_TOPICS:
        return []
    fields = _TRANSCODER.decode(state)
    return split_slice(fields["blocks"], fields["commit"])
