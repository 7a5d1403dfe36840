"""The Account aggregate: a hosted identity, id = its DID.

It records the facts consumers hear about as `#identity` and `#account` frames, and the signing
key valid from each point in the log, which is what lets an auditor verify every commit with
the key that was current when it was made. Passwords and sessions are credentials, not
history, and live outside the log (see ADR 0004). Moderation takedowns of one record or blob
are facts about the account's content the operator decided, so they are events here too,
emitting no frame (ADR 0012).
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import BaseAggregate

from application.event_base import StrCreated, StrEvent
from domain.data.cid import CID

ACTIVE = "active"
STATUSES = frozenset({"active", "deactivated", "takendown", "suspended", "deleted"})


class Account(BaseAggregate[str]):
    """A hosted account."""

    did: str
    handle: str
    email: str | None
    status: str
    signing_key: str

    class Event(StrEvent):
        """Base of Account events; each carries the account's full state after it.

        Carrying the whole (small) state makes every event self-describing: the accounts view
        and the `#identity`/`#account` frames are functions of one event, not of a fold.
        """

        handle: str
        email: str | None
        status: str
        signing_key: str

        def apply(self, aggregate: Any) -> None:
            aggregate.handle, aggregate.email = self.handle, self.email
            aggregate.status, aggregate.signing_key = self.status, self.signing_key

    class Registered(StrCreated, Event):
        """A new account with its handle and signing key (emits `#identity`)."""

        did: str

        def apply(self, aggregate: Any) -> None:
            aggregate.did = self.did
            super().apply(aggregate)

    class HandleChanged(Event):
        """The account's handle changed or was re-announced (emits `#identity`)."""

    class SigningKeyRotated(Event):
        """A new `#atproto` signing key is in force from this event on (emits `#identity`)."""

    class StatusChanged(Event):
        """Hosting status changed: active, deactivated, takendown... (emits `#account`)."""

    class EmailChanged(Event):
        """The account's contact email changed (private: emits no frame)."""

    class RecordTakedownChanged(Event):
        """A takedown of one record was applied (`ref` set) or lifted (`ref` None); no frame.

        Keyed by the record's path, not its CID, as the reference PDS keys it by URI: an
        update keeps the takedown, a deletion ends it (see `application/projection.py`).
        """

        collection: str
        rkey: str
        ref: str | None

    class BlobTakedownChanged(Event):
        """A takedown of one blob of the account was applied or lifted; no frame."""

        cid: CID
        ref: str | None

    def __init__(self) -> None:
        """State is set by `Registered.apply`."""

    @classmethod
    def register(cls, did: str, handle: str, email: str | None, signing_key: str) -> Account:
        """Record a new account (status `pending` until its repo exists and it is activated)."""
        return cls._create(
            cls.Registered,
            id=did,
            did=did,
            handle=handle,
            email=email,
            status="pending",
            signing_key=signing_key,
        )

    @property
    def active(self) -> bool:
        """Whether the account is served and its repo writable."""
        return self.status == ACTIVE

    def _state(self, **changes: Any) -> dict[str, Any]:
        state = {
            "handle": self.handle,
            "email": self.email,
            "status": self.status,
            "signing_key": self.signing_key,
        }
        state.update(changes)
        return state

    def change_status(self, status: str) -> None:
        """Record a status change; no event when nothing changes."""
        if status not in STATUSES:
            raise ValueError(f"unknown account status {status!r}")
        if status != self.status:
            self.trigger_event(self.StatusChanged, **self._state(status=status))

    def change_handle(self, handle: str) -> None:
        """Record a new handle (an `#identity` is emitted even if unchanged, as a refresh)."""
        self.trigger_event(self.HandleChanged, **self._state(handle=handle))

    def change_email(self, email: str) -> None:
        """Record a new email (lower-cased by the caller); no event when unchanged."""
        if email != self.email:
            self.trigger_event(self.EmailChanged, **self._state(email=email))

    def change_record_takedown(self, collection: str, rkey: str, ref: str | None) -> None:
        """Record that the record at `collection/rkey` is taken down under `ref`, or lifted.

        Whether anything changes is decided by the caller over the takedown view: the
        aggregate does not fold takedowns, since a record deletion (a Repo event) ends them.
        """
        self.trigger_event(
            self.RecordTakedownChanged, **self._state(), collection=collection, rkey=rkey, ref=ref
        )

    def change_blob_takedown(self, cid: CID, ref: str | None) -> None:
        """Record that the account's blob `cid` is taken down under `ref`, or lifted."""
        self.trigger_event(self.BlobTakedownChanged, **self._state(), cid=cid, ref=ref)

    def rotate_signing_key(self, signing_key: str) -> None:
        """Record a new signing key."""
        self.trigger_event(self.SigningKeyRotated, **self._state(signing_key=signing_key))
