"""`quire log`: events as JSON-ready dicts (seq, time, DID, type, rev, commit, ops, takedowns)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from eventsourcing.application import Application

from application.audit.log_reader import iter_events
from application.projection import frame_time
from domain.data import atjson

_FIELDS = (
    "rev", "commit", "since", "prev_data", "data", "handle", "status",
    "collection", "rkey", "cid", "ref",  # takedowns: what was taken down (ref) or lifted (null)
)  # fmt: skip


def _did_of(event: Any) -> str:
    did = getattr(event, "did", None) or event.originator_id
    return str(did).removeprefix("at://")


def log_lines(
    app: Application[Any], *, did: str | None = None, after: int = 0, limit: int | None = None
) -> Iterator[dict[str, Any]]:
    """One dict per event, filtered by DID, after a seq, up to `limit`."""
    emitted = 0
    for logged in iter_events(app, after):
        if limit is not None and emitted >= limit:
            return
        event = logged.event
        event_did = _did_of(event)
        if did is not None and event_did != did:
            continue
        line: dict[str, Any] = {
            "seq": logged.seq,
            "time": frame_time(event.timestamp),
            "did": event_did,
            "type": type(event).__qualname__,
        }
        for name in _FIELDS:
            if hasattr(event, name):
                line[name] = atjson.to_json(getattr(event, name))
        if hasattr(event, "ops"):
            line["ops"] = [
                {k: atjson.to_json(v) for k, v in op.items() if v is not None} for op in event.ops
            ]
        emitted += 1
        yield line
