"""did:plc audit logs: the interop vectors, and the fork/nullification rules on fresh logs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.crypto.k256 import K256Keypair
from domain.crypto.p256 import P256Keypair
from domain.plc.audit_log import (
    LogEntry,
    PlcState,
    apply_operation,
    format_timestamp,
    parse_audit_log,
    parse_timestamp,
    validate_audit_log,
    validate_audit_log_json,
)
from domain.plc.builder import build_genesis, build_tombstone, build_update
from domain.plc.did import did_for_genesis, is_plc_did
from domain.plc.errors import (
    CidMismatch,
    DidMismatch,
    DuplicateOperation,
    InsufficientKeyPriority,
    InvalidLogEntry,
    InvalidPrev,
    InvalidSignature,
    MalformedSignature,
    MisorderedOperation,
    NullificationMismatch,
    NullificationTooLate,
    NullifiedPrev,
    PlcError,
    RateLimited,
    TombstonedDid,
)
from domain.plc.operation import PlcOperation, parse_operation
from tests.conftest import VECTORS

AUDIT_LOGS = VECTORS / "did-plc-audit-log"
VALID = sorted((AUDIT_LOGS / "valid").glob("*.json"))
INVALID = sorted((AUDIT_LOGS / "invalid").glob("*.json"))

# Why each invalid log is invalid, as the most specific error the rules can name.
EXPECTED_ERRORS: dict[str, type[PlcError]] = {
    # the fork is signed by the same key that signed the op it nullifies: not higher priority
    "log_invalid_nullification_reused_key.json": InsufficientKeyPriority,
    # the fork arrives 72h and 1s after the op it nullifies
    "log_invalid_nullification_too_slow.json": NullificationTooLate,
    # base64url signature with a trailing newline
    "log_invalid_sig_b64_newline.json": MalformedSignature,
    # base64url signature whose unused trailing bits are not zero
    "log_invalid_sig_b64_padding_bits.json": MalformedSignature,
    # base64url signature with '=' padding
    "log_invalid_sig_b64_padding_chars.json": MalformedSignature,
    # a DER signature that happens to be 64 bytes long: not r||s, so it does not verify
    "log_invalid_sig_der.json": InvalidSignature,
    # a valid signature's high-S twin
    "log_invalid_sig_k256_high_s.json": InvalidSignature,
    "log_invalid_sig_p256_high_s.json": InvalidSignature,
    # an op builds on an op that an earlier fork nullified
    "log_invalid_update_nullified.json": NullifiedPrev,
    # an op builds on a tombstone
    "log_invalid_update_tombstoned.json": TombstonedDid,
}

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _load(path: Path) -> Any:
    return json.loads(path.read_text())


def test_the_vector_sets_are_all_present() -> None:
    assert len(VALID) == 10
    assert {p.name for p in INVALID} == set(EXPECTED_ERRORS)


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_audit_log_is_accepted(path: Path) -> None:
    raw = _load(path)
    entries = parse_audit_log(raw)
    state = validate_audit_log(entries)

    assert state.did == raw[0]["did"]
    assert is_plc_did(state.did)
    assert did_for_genesis(entries[0].operation) == state.did
    for entry, item in zip(entries, raw, strict=True):
        assert str(entry.operation.cid()) == item["cid"]
        assert entry.operation.to_value() == item["operation"]
    assert [e.nullified for e in state.audit_log()] == [item["nullified"] for item in raw]
    standing = [item for item in raw if not item["nullified"]]
    assert state.current.cid == standing[-1]["cid"]
    assert len(state.operation_log()) == len(standing)


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_audit_log_is_rejected_for_its_reason(path: Path) -> None:
    with pytest.raises(EXPECTED_ERRORS[path.name]):
        validate_audit_log_json(_load(path))


def test_high_s_and_der_are_plain_signature_failures_not_encoding_errors() -> None:
    for name in ("log_invalid_sig_der.json", "log_invalid_sig_k256_high_s.json"):
        with pytest.raises(InvalidSignature) as info:
            validate_audit_log_json(_load(AUDIT_LOGS / "invalid" / name))
        assert not isinstance(info.value, MalformedSignature)


def test_tombstoned_log_has_no_data_view() -> None:
    state = validate_audit_log_json(_load(AUDIT_LOGS / "valid" / "log_tombstone.json"))
    assert state.tombstoned
    assert state.data() is None


def test_legacy_genesis_normalizes_to_recovery_then_signing_key() -> None:
    raw = _load(AUDIT_LOGS / "valid" / "log_legacy_dholms.json")
    state = validate_audit_log(parse_audit_log(raw[:1]))
    data = state.data()
    assert data is not None
    genesis = raw[0]["operation"]
    assert data.rotation_keys == (genesis["recoveryKey"], genesis["signingKey"])
    assert data.also_known_as == ("at://dan.bsky.social",)
    assert data.pds_endpoint == "https://bsky.social"
    assert data.signing_key == genesis["signingKey"]


# -- tampering with a valid log ---------------------------------------------------------------


def _bskyapp() -> list[dict[str, Any]]:
    raw: list[dict[str, Any]] = _load(AUDIT_LOGS / "valid" / "log_bskyapp.json")
    return raw


def test_wrong_cid_is_rejected() -> None:
    raw = _bskyapp()
    raw[1]["cid"] = raw[0]["cid"]
    with pytest.raises(CidMismatch):
        validate_audit_log_json(raw)


def test_did_not_derived_from_genesis_is_rejected() -> None:
    raw = _bskyapp()
    for item in raw:
        item["did"] = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"
    with pytest.raises(DidMismatch):
        validate_audit_log_json(raw)


def test_entries_naming_another_did_are_rejected() -> None:
    raw = _bskyapp()
    raw[1]["did"] = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"
    with pytest.raises(DidMismatch):
        validate_audit_log_json(raw)


def test_false_nullified_flag_is_rejected() -> None:
    raw = _bskyapp()
    raw[1]["nullified"] = True
    with pytest.raises(NullificationMismatch):
        validate_audit_log_json(raw)


def test_timestamps_must_increase() -> None:
    raw = _bskyapp()
    raw[1]["createdAt"] = raw[0]["createdAt"]
    with pytest.raises(MisorderedOperation):
        validate_audit_log_json(raw)


def test_log_must_start_with_genesis() -> None:
    with pytest.raises(InvalidPrev):
        validate_audit_log_json(_bskyapp()[1:])


def test_empty_or_malformed_log_is_rejected() -> None:
    with pytest.raises(InvalidLogEntry):
        validate_audit_log_json([])
    with pytest.raises(InvalidLogEntry):
        validate_audit_log_json({"not": "a list"})
    raw = _bskyapp()
    del raw[0]["nullified"]
    with pytest.raises(InvalidLogEntry):
        validate_audit_log_json(raw)
    raw = _bskyapp()
    raw[0]["createdAt"] = "yesterday"
    with pytest.raises(InvalidLogEntry):
        validate_audit_log_json(raw)


def test_timestamps_round_trip_at_millisecond_precision() -> None:
    moment = parse_timestamp("2023-04-12T04:53:57.057Z")
    assert format_timestamp(moment) == "2023-04-12T04:53:57.057Z"
    assert parse_timestamp("2023-04-12T06:53:57.057123456+02:00") == moment + timedelta(
        microseconds=123
    )


@st.composite
def _mutated_logs(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A vector log with entries dropped, swapped, re-timed or re-flagged."""
    raw: list[dict[str, Any]] = _load(draw(st.sampled_from(VALID + INVALID)))
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(raw) - 1))
        action = draw(st.sampled_from(["drop", "swap", "flag", "time", "prev", "sig"]))
        if action == "drop" and len(raw) > 1:
            raw.pop(i)
        elif action == "swap":
            j = draw(st.integers(0, len(raw) - 1))
            raw[i], raw[j] = raw[j], raw[i]
        elif action == "flag":
            raw[i]["nullified"] = not raw[i]["nullified"]
        elif action == "time":
            moment = draw(st.datetimes(timezones=st.just(UTC)))
            raw[i]["createdAt"] = format_timestamp(moment)
        elif action == "prev":
            raw[i]["operation"]["prev"] = draw(st.sampled_from([None, *(e["cid"] for e in raw)]))
        elif action == "sig":
            raw[i]["operation"]["sig"] = draw(st.text(alphabet="AB_-=", max_size=90))
    return raw


@given(_mutated_logs())
def test_mutated_logs_give_a_state_or_a_typed_error(raw: list[dict[str, Any]]) -> None:
    try:
        state = validate_audit_log_json(raw)
    except PlcError:
        return
    assert [e.to_value() for e in state.audit_log()] == raw


# -- fresh logs through apply_operation -------------------------------------------------------


class Account:
    """A DID with a user recovery key (rank 0) and a server rotation key (rank 1)."""

    def __init__(self) -> None:
        self.recovery = K256Keypair.generate()
        self.server = P256Keypair.generate()
        self.signing = K256Keypair.generate()
        genesis = build_genesis(
            signing_key=self.signing.did(),
            handle="alice.example.com",
            pds_endpoint="https://pds.example.com",
            server_rotation_key=self.server,
            recovery_key=self.recovery.did(),
        )
        self.state: PlcState = apply_operation(None, genesis.operation, T0).state

    def update(self, handle: str, signer: Any, at: datetime, prev: Any = None) -> PlcOperation:
        base = self.state.current.operation if prev is None else prev
        op = build_update(base, signer, handle=handle)
        self.state = apply_operation(self.state, op, at).state
        return op


def test_incremental_apply_matches_full_validation() -> None:
    account = Account()
    account.update("bob.example.com", account.server, T0 + timedelta(hours=1))
    account.update("carol.example.com", account.server, T0 + timedelta(hours=2))
    log = account.state.audit_log()
    revalidated = validate_audit_log_json([entry.to_value() for entry in log])
    assert revalidated == account.state
    data = revalidated.data()
    assert data is not None and data.handle == "carol.example.com"


@pytest.mark.parametrize(
    "name",
    [
        "log_bskyapp.json",
        "log_nullification_nontrivial.json",
        "log_nullification_at_exactly_72h.json",
        "log_nullified_tombstone.json",
        "log_tombstone.json",
    ],
)
def test_replaying_a_vector_op_by_op_reproduces_it(name: str) -> None:
    raw = _load(AUDIT_LOGS / "valid" / name)
    state: PlcState | None = None
    for item in raw:
        op = parse_operation(item["operation"])
        applied = apply_operation(state, op, parse_timestamp(item["createdAt"]), did=item["did"])
        assert applied.entry.cid == item["cid"]
        state = applied.state
    assert state is not None
    assert [entry.to_value() for entry in state.audit_log()] == raw


def test_recovery_key_can_undo_a_server_update_within_72h() -> None:
    account = Account()
    genesis = account.state.current.operation
    hijack = account.update("mallory.example.com", account.server, T0 + timedelta(hours=1))
    recovery = build_update(genesis, account.recovery, handle="alice.example.com")
    applied = apply_operation(account.state, recovery, T0 + timedelta(hours=1, days=3))
    assert applied.nullified == (str(hijack.cid()),)
    assert applied.state.current.cid == str(recovery.cid())
    assert applied.state.ops[1].entry.nullified


def test_nullification_at_exactly_72h_is_in_time_but_a_millisecond_later_is_not() -> None:
    account = Account()
    genesis = account.state.current.operation
    account.update("mallory.example.com", account.server, T0 + timedelta(hours=1))
    recovery = build_update(genesis, account.recovery, handle="alice.example.com")
    deadline = T0 + timedelta(hours=1) + timedelta(hours=72)
    with pytest.raises(NullificationTooLate):
        apply_operation(account.state, recovery, deadline + timedelta(milliseconds=1))
    assert apply_operation(account.state, recovery, deadline).nullified


def test_fork_signed_by_the_same_rank_is_refused() -> None:
    account = Account()
    genesis = account.state.current.operation
    account.update("one.example.com", account.server, T0 + timedelta(hours=1))
    fork = build_update(genesis, account.server, handle="two.example.com")
    with pytest.raises(InsufficientKeyPriority):
        apply_operation(account.state, fork, T0 + timedelta(hours=2))


def test_a_fork_narrows_who_may_fork_again() -> None:
    account = Account()
    genesis = account.state.current.operation
    account.update("one.example.com", account.recovery, T0 + timedelta(hours=1))
    # the recovery key (rank 0) signed the child: nobody outranks it
    fork = build_update(genesis, account.recovery, handle="two.example.com")
    with pytest.raises(InsufficientKeyPriority):
        apply_operation(account.state, fork, T0 + timedelta(hours=2))


def test_update_signed_by_a_stranger_is_refused() -> None:
    account = Account()
    op = build_update(account.state.current.operation, K256Keypair.generate(), handle="x.test")
    with pytest.raises(InvalidSignature) as info:
        apply_operation(account.state, op, T0 + timedelta(hours=1))
    assert not isinstance(info.value, InsufficientKeyPriority)


def test_nothing_may_follow_a_tombstone() -> None:
    account = Account()
    tombstone = build_tombstone(account.state.current.operation, account.server)
    account.state = apply_operation(account.state, tombstone, T0 + timedelta(hours=1)).state
    assert account.state.tombstoned and account.state.data() is None
    with pytest.raises(TombstonedDid):
        build_update(tombstone, account.server, handle="zombie.test")
    after = PlcOperation(
        rotation_keys=(account.server.did(),),
        verification_methods={},
        also_known_as=(),
        services={},
        prev=str(tombstone.cid()),
    )
    from domain.plc.signing import sign_operation

    with pytest.raises(TombstonedDid):
        apply_operation(
            account.state, sign_operation(after, account.server), T0 + timedelta(hours=2)
        )


def test_a_second_genesis_an_unknown_prev_and_a_replay_are_refused() -> None:
    account = Account()
    other = build_genesis(
        signing_key=account.signing.did(),
        handle="other.test",
        pds_endpoint="https://pds.example.com",
        server_rotation_key=account.server,
    )
    with pytest.raises(InvalidPrev):
        apply_operation(account.state, other.operation, T0 + timedelta(hours=1))
    stranger = Account()
    foreign = build_update(stranger.state.current.operation, stranger.server, handle="x.test")
    with pytest.raises(InvalidPrev):
        apply_operation(account.state, foreign, T0 + timedelta(hours=1))
    with pytest.raises(DuplicateOperation):
        apply_operation(account.state, account.state.current.operation, T0 + timedelta(hours=1))


def test_genesis_submitted_under_another_did_is_refused() -> None:
    account = Account()
    genesis = account.state.current.operation
    with pytest.raises(DidMismatch):
        apply_operation(None, genesis, T0, did="did:plc:aaaaaaaaaaaaaaaaaaaaaaaa")


def test_submission_time_must_be_after_the_head() -> None:
    account = Account()
    op = build_update(account.state.current.operation, account.server, handle="late.test")
    with pytest.raises(MisorderedOperation):
        apply_operation(account.state, op, T0)


def test_rate_limit_spares_recovery_operations() -> None:
    account = Account()
    genesis = account.state.current.operation
    for i in range(9):
        account.update(f"h{i}.test", account.server, T0 + timedelta(minutes=i + 1))
    op = build_update(account.state.current.operation, account.server, handle="one-too-many.test")
    with pytest.raises(RateLimited):
        apply_operation(account.state, op, T0 + timedelta(minutes=30))
    recovery = build_update(genesis, account.recovery, handle="alice.example.com")
    assert len(apply_operation(account.state, recovery, T0 + timedelta(minutes=30)).nullified) == 9


def test_log_entries_serialize_as_the_directory_publishes_them() -> None:
    account = Account()
    entry: LogEntry = account.state.current
    value = entry.to_value()
    assert value["createdAt"] == "2025-01-01T00:00:00.000Z"
    assert list(value) == ["did", "operation", "cid", "nullified", "createdAt"]
