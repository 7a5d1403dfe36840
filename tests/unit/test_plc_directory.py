"""The embedded PLC directory: accepted operations, refused ones, export paging, replay."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from application.plc_directory.app import PlcDirectory
from application.plc_directory.errors import (
    DidNotAvailable,
    DidNotRegistered,
    InvalidExportCursor,
)
from domain.crypto.k256 import K256Keypair
from domain.crypto.p256 import P256Keypair
from domain.plc.audit_log import validate_audit_log
from domain.plc.builder import build_genesis, build_tombstone, build_update
from domain.plc.errors import (
    DidMismatch,
    DuplicateOperation,
    InsufficientKeyPriority,
    InvalidOperation,
    InvalidPrev,
    InvalidSignature,
    MalformedSignature,
    NullificationTooLate,
    OperationTooLarge,
    PlcError,
    RateLimited,
    TombstonedDid,
)
from domain.plc.operation import PlcOperation
from domain.plc.signing import sign_operation

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def sqlite_env(path: Path) -> dict[str, str]:
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(path / "plc.sqlite"),
        "ORIGINATOR_ID_TYPE": "text",
    }


@pytest.fixture
def directory(tmp_path: Path) -> Iterator[PlcDirectory]:
    app = PlcDirectory(sqlite_env(tmp_path))
    yield app
    app.close()


@dataclass
class Account:
    """A DID with a user recovery key (rank 0) and the server's rotation key (rank 1)."""

    did: str
    genesis: PlcOperation
    recovery: K256Keypair
    server: P256Keypair


def new_account(handle: str = "alice.test") -> Account:
    recovery, server = K256Keypair.generate(), P256Keypair.generate()
    genesis = build_genesis(
        signing_key=K256Keypair.generate().did(),
        handle=handle,
        pds_endpoint="https://pds.example.com",
        server_rotation_key=server,
        recovery_key=recovery.did(),
    )
    return Account(genesis.did, genesis.operation, recovery, server)


def registered(directory: PlcDirectory, at: datetime = T0, handle: str = "alice.test") -> Account:
    account = new_account(handle)
    directory.submit(account.did, account.genesis.to_value(), at)
    return account


def snapshot(directory: PlcDirectory) -> tuple[Any, ...]:
    """Everything observable: the whole export and the newest notification id."""
    return (directory.export(0), directory.export(), directory.recorder.max_notification_id())


# -- accepted operations -------------------------------------------------------------------


def test_genesis_creates_a_resolvable_did(directory: PlcDirectory) -> None:
    account = registered(directory)
    doc = directory.document(account.did)
    assert doc["id"] == account.did
    assert doc["alsoKnownAs"] == ["at://alice.test"]
    assert doc["service"][0]["serviceEndpoint"] == "https://pds.example.com"
    data = directory.data(account.did)
    assert data.rotation_keys == (account.recovery.did(), account.server.did())
    assert directory.last_op(account.did) == account.genesis
    assert directory.operation_log(account.did) == (account.genesis,)
    [entry] = directory.audit_log(account.did)
    assert entry.cid == str(account.genesis.cid()) and not entry.nullified
    assert entry.created_at == T0


def test_update_becomes_the_document(directory: PlcDirectory) -> None:
    account = registered(directory)
    update = build_update(account.genesis, account.server, handle="bob.test")
    directory.submit(account.did, update.to_value(), T0 + timedelta(minutes=1))
    assert directory.document(account.did)["alsoKnownAs"] == ["at://bob.test"]
    assert directory.last_op(account.did) == update
    assert directory.operation_log(account.did) == (account.genesis, update)


def test_tombstone_deactivates_but_keeps_the_log_public(directory: PlcDirectory) -> None:
    account = registered(directory)
    tombstone = build_tombstone(account.genesis, account.server)
    directory.submit(account.did, tombstone.to_value(), T0 + timedelta(minutes=1))
    with pytest.raises(DidNotAvailable):
        directory.document(account.did)
    with pytest.raises(DidNotAvailable):
        directory.data(account.did)
    assert directory.last_op(account.did) == tombstone
    assert len(directory.audit_log(account.did)) == 2


def test_recovery_key_nullifies_a_server_update_within_72h(directory: PlcDirectory) -> None:
    account = registered(directory)
    hijack = build_update(account.genesis, account.server, handle="mallory.test")
    directory.submit(account.did, hijack.to_value(), T0 + timedelta(hours=1))
    fork = build_update(account.genesis, account.recovery, handle="alice2.test")
    directory.submit(account.did, fork.to_value(), T0 + timedelta(hours=72))
    assert directory.document(account.did)["alsoKnownAs"] == ["at://alice2.test"]
    assert [e.nullified for e in directory.audit_log(account.did)] == [False, True, False]
    assert directory.operation_log(account.did) == (account.genesis, fork)
    legacy = directory.export()
    assert [line["nullified"] for line in legacy] == [False, True, False]


def test_unknown_and_non_plc_dids_are_not_registered(directory: PlcDirectory) -> None:
    for did in ("did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", "did:web:example.com", "nonsense"):
        with pytest.raises(DidNotRegistered, match="DID not registered"):
            directory.document(did)
        with pytest.raises(DidNotRegistered):
            directory.audit_log(did)


def test_acceptance_times_strictly_increase_within_a_millisecond(
    directory: PlcDirectory,
) -> None:
    first = registered(directory, T0)
    second = registered(directory, T0, handle="bob.test")
    update = build_update(first.genesis, first.server, handle="carol.test")
    directory.submit(first.did, update.to_value(), T0 - timedelta(seconds=5))
    times = [line["createdAt"] for line in directory.export(0)]
    assert times == [
        "2025-03-01T12:00:00.000Z",
        "2025-03-01T12:00:00.001Z",
        "2025-03-01T12:00:00.002Z",
    ]
    assert {line["did"] for line in directory.export(0)} == {first.did, second.did}


# -- refused operations --------------------------------------------------------------------


def _refused(
    directory: PlcDirectory, did: str, op: object, error: type[PlcError], at: datetime
) -> None:
    before = snapshot(directory)
    with pytest.raises(error):
        directory.submit(did, op, at)
    assert snapshot(directory) == before


def test_malformed_operations_are_refused_and_change_nothing(directory: PlcDirectory) -> None:
    account = registered(directory)
    update = build_update(account.genesis, account.server, handle="bob.test").to_value()
    extra = {**update, "extra": 1}
    missing = {k: v for k, v in update.items() if k != "services"}
    wrong_type = {**update, "alsoKnownAs": "at://bob.test"}
    at = T0 + timedelta(minutes=1)
    bad_values: list[object] = [
        None,
        [],
        "op",
        {"type": "plc_nonsense"},
        extra,
        missing,
        wrong_type,
    ]
    for bad in bad_values:
        _refused(directory, account.did, bad, InvalidOperation, at)


def test_a_stranger_signature_is_refused(directory: PlcDirectory) -> None:
    account = registered(directory)
    forged = build_update(account.genesis, K256Keypair.generate(), handle="mallory.test")
    _refused(directory, account.did, forged.to_value(), InvalidSignature, T0 + timedelta(1))


def test_a_non_canonical_signature_is_refused(directory: PlcDirectory) -> None:
    account = registered(directory)
    update = build_update(account.genesis, account.server, handle="bob.test").to_value()
    padded = {**update, "sig": update["sig"] + "=="}
    _refused(directory, account.did, padded, MalformedSignature, T0 + timedelta(1))


def test_a_tampered_operation_no_longer_verifies(directory: PlcDirectory) -> None:
    account = registered(directory)
    update = build_update(account.genesis, account.server, handle="bob.test").to_value()
    tampered = copy.deepcopy(update)
    tampered["alsoKnownAs"] = ["at://mallory.test"]
    _refused(directory, account.did, tampered, InvalidSignature, T0 + timedelta(1))


def test_a_forged_prev_is_refused(directory: PlcDirectory) -> None:
    account = registered(directory)
    other = new_account("other.test")
    # Validly signed by this DID's own key, but building on another DID's genesis.
    forged = build_update(other.genesis, account.server, handle="bob.test")
    _refused(directory, account.did, forged.to_value(), InvalidPrev, T0 + timedelta(1))


def test_an_update_for_an_unregistered_did_is_refused(directory: PlcDirectory) -> None:
    account = new_account()
    update = build_update(account.genesis, account.server, handle="bob.test")
    _refused(directory, account.did, update.to_value(), InvalidPrev, T0)


def test_a_genesis_submitted_under_another_did_is_refused(directory: PlcDirectory) -> None:
    account = new_account()
    _refused(
        directory, "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", account.genesis.to_value(), DidMismatch, T0
    )


def test_an_oversized_operation_is_refused(directory: PlcDirectory) -> None:
    account = registered(directory)
    value = build_update(account.genesis, account.server, handle="bob.test").to_value()
    value["alsoKnownAs"] = [f"at://{'x' * 250}{i}.test" for i in range(40)]
    _refused(directory, account.did, value, OperationTooLarge, T0 + timedelta(1))


def test_a_replayed_operation_is_refused(directory: PlcDirectory) -> None:
    account = registered(directory)
    update = build_update(account.genesis, account.server, handle="bob.test")
    directory.submit(account.did, update.to_value(), T0 + timedelta(minutes=1))
    _refused(directory, account.did, update.to_value(), DuplicateOperation, T0 + timedelta(1))


def test_nothing_follows_a_tombstone(directory: PlcDirectory) -> None:
    account = registered(directory)
    tombstone = build_tombstone(account.genesis, account.server)
    directory.submit(account.did, tombstone.to_value(), T0 + timedelta(minutes=1))
    # The builder refuses to build on a tombstone, so sign one by hand.
    unsigned = replace(
        build_update(account.genesis, account.server, handle="bob.test"),
        prev=str(tombstone.cid()),
        sig=None,
    )
    after = sign_operation(unsigned, account.server)
    _refused(directory, account.did, after.to_value(), TombstonedDid, T0 + timedelta(hours=1))


def test_the_lower_priority_key_cannot_overrule_the_higher(directory: PlcDirectory) -> None:
    account = registered(directory)
    by_recovery = build_update(account.genesis, account.recovery, handle="bob.test")
    directory.submit(account.did, by_recovery.to_value(), T0 + timedelta(hours=1))
    counter = build_update(account.genesis, account.server, handle="mallory.test")
    _refused(directory, account.did, counter.to_value(), InsufficientKeyPriority, T0 + timedelta(2))


def test_recovery_after_72h_is_refused(directory: PlcDirectory) -> None:
    account = registered(directory)
    by_server = build_update(account.genesis, account.server, handle="mallory.test")
    directory.submit(account.did, by_server.to_value(), T0 + timedelta(hours=1))
    late = build_update(account.genesis, account.recovery, handle="alice2.test")
    at = T0 + timedelta(hours=73, milliseconds=1)
    _refused(directory, account.did, late.to_value(), NullificationTooLate, at)


def test_rate_limits_refuse_the_eleventh_op_in_an_hour(directory: PlcDirectory) -> None:
    account = registered(directory)
    prev = account.genesis
    for i in range(9):
        op = build_update(prev, account.server, handle=f"h{i}.test")
        directory.submit(account.did, op.to_value(), T0 + timedelta(minutes=i + 1))
        prev = op
    eleventh = build_update(prev, account.server, handle="h-last.test")
    _refused(directory, account.did, eleventh.to_value(), RateLimited, T0 + timedelta(minutes=30))


# -- export --------------------------------------------------------------------------------


def _populate(directory: PlcDirectory) -> list[Account]:
    accounts = []
    at = T0
    for n in range(3):
        account = registered(directory, at, handle=f"user{n}.test")
        update = build_update(account.genesis, account.server, handle=f"renamed{n}.test")
        directory.submit(account.did, update.to_value(), at + timedelta(seconds=1))
        accounts.append(account)
        at += timedelta(minutes=1)
    return accounts


def test_export_by_seq_pages_through_every_operation_in_order(directory: PlcDirectory) -> None:
    _populate(directory)
    seen: list[dict[str, Any]] = []
    cursor = 0
    while page := directory.export(cursor, count=4):
        assert len(page) <= 4
        seen.extend(page)
        cursor = page[-1]["seq"]
    assert [line["seq"] for line in seen] == [1, 2, 3, 4, 5, 6]
    assert all(line["type"] == "sequenced_op" and "nullified" not in line for line in seen)
    assert seen == directory.export(0)


def test_export_by_timestamp_pages_in_created_at_order(directory: PlcDirectory) -> None:
    _populate(directory)
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    while page := directory.export(cursor, count=2):
        seen.extend(page)
        cursor = page[-1]["createdAt"]
    assert len(seen) == 6
    assert [line["createdAt"] for line in seen] == sorted(line["createdAt"] for line in seen)
    assert set(seen[0]) == {"did", "operation", "cid", "nullified", "createdAt"}
    assert [line["cid"] for line in seen] == [line["cid"] for line in directory.export(0)]


def test_export_timestamp_cursor_accepts_dates_without_offset(directory: PlcDirectory) -> None:
    _populate(directory)
    assert len(directory.export("2025-03-01T12:00:59")) == 4
    assert len(directory.export("2025-03-01T12:01:01.500Z")) == 2
    assert directory.export("2030-01-01T00:00:00Z") == []


def test_export_of_an_empty_directory_is_empty(directory: PlcDirectory) -> None:
    assert directory.export() == []
    assert directory.export(0) == []
    assert directory.export("2020-01-01T00:00:00Z") == []


@pytest.mark.parametrize("after", ["yesterday", -1, True])
def test_export_rejects_a_bad_after(directory: PlcDirectory, after: Any) -> None:
    with pytest.raises(InvalidExportCursor, match="after"):
        directory.export(after)


def test_export_rejects_a_bad_count_and_caps_large_ones(directory: PlcDirectory) -> None:
    with pytest.raises(InvalidExportCursor, match="count"):
        directory.export(0, count=0)
    _populate(directory)
    assert len(directory.export(0, count=10**9)) == 6


# -- replay --------------------------------------------------------------------------------


def test_replaying_the_stored_log_gives_the_same_state(tmp_path: Path) -> None:
    first = PlcDirectory(sqlite_env(tmp_path))
    account = registered(first)
    by_server = build_update(account.genesis, account.server, handle="mallory.test")
    first.submit(account.did, by_server.to_value(), T0 + timedelta(hours=1))
    fork = build_update(account.genesis, account.recovery, handle="alice2.test")
    first.submit(account.did, fork.to_value(), T0 + timedelta(hours=2))
    others = _populate(first)
    before = {a.did: first.state(a.did) for a in [account, *others]}
    exported = first.export(0)
    first.close()

    second = PlcDirectory(sqlite_env(tmp_path))
    for did, state in before.items():
        replayed = second.state(did)
        assert replayed == state
        # The stored facts also pass the full audit of the log, independently of the events.
        assert validate_audit_log(second.audit_log(did)) == state
    assert second.export(0) == exported
    # Acceptance times keep increasing after a restart.
    later = build_update(fork, account.recovery, handle="alice3.test")
    entry = second.submit(account.did, later.to_value(), T0)
    assert entry.created_at > before[others[-1].did].current.created_at
    second.close()
