"""Signed v3 commits (and legacy v2 on read): encoding, strict decoding, signatures."""

from __future__ import annotations

import dataclasses
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from hypothesis import given
from hypothesis import strategies as st

from domain.crypto.k256 import K256Keypair
from domain.crypto.keys import Keypair
from domain.crypto.p256 import P256Keypair
from domain.data import dag_cbor
from domain.data.cid import CID
from domain.repo.commit import (
    Commit,
    LegacyCommit,
    UnsignedCommit,
    check_commit_signature,
    read_commit,
    sign_commit,
    verify_commit,
)
from domain.repo.errors import BadCommitSignature, InvalidCommit, RepoError

DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
DATA = CID.for_dag_cbor(dag_cbor.encode({"e": [], "l": None}))
PREV = CID.for_dag_cbor(dag_cbor.encode({"previous": "commit"}))
REV = "3jzfcijpj2z2a"
LATER_REV = "3jzfcijpj2z2b"

CURVE_ORDER = {
    "k256": 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141,
    "p256": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
}


def _keypair(curve: str) -> Keypair:
    return K256Keypair.generate() if curve == "k256" else P256Keypair.generate()


@pytest.fixture(params=["k256", "p256"])
def curve(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def keypair(curve: str) -> Keypair:
    return _keypair(curve)


def _unsigned(**changes: Any) -> UnsignedCommit:
    return dataclasses.replace(UnsignedCommit(did=DID, data=DATA, rev=REV), **changes)


def _signed_value(**changes: object) -> dict[str, object]:
    value: dict[str, object] = {
        "did": DID,
        "version": 3,
        "data": DATA,
        "rev": REV,
        "prev": None,
        "sig": bytes(64),
    }
    value.update(changes)
    return value


def _cbor_reference(value: dict[str, object]) -> bytes:
    """DAG-CBOR through cbor2 alone: canonical map order, CIDs as tag 42."""

    def cid_encoder(encoder: cbor2.CBOREncoder, cid: CID) -> None:
        encoder.encode(cbor2.CBORTag(42, b"\x00" + cid.raw))

    return cbor2.dumps(value, canonical=True, default=None, encoders={CID: cid_encoder})


# -- signing bytes --------------------------------------------------------------------------


def test_signing_bytes_are_the_dag_cbor_of_the_commit_without_sig_and_with_null_prev() -> None:
    unsigned = _unsigned()
    expected = {"did": DID, "version": 3, "data": DATA, "rev": REV, "prev": None}
    assert unsigned.signing_bytes() == _cbor_reference(expected)
    assert dag_cbor.decode(unsigned.signing_bytes()) == expected


def test_signing_bytes_include_a_prev_link_when_present() -> None:
    decoded = dag_cbor.decode(_unsigned(prev=PREV).signing_bytes())
    assert decoded["prev"] == PREV


def test_commit_block_is_the_dag_cbor_of_the_signed_map_and_its_cid(keypair: Keypair) -> None:
    commit = sign_commit(_unsigned(), keypair)
    cid, data = commit.encode()
    assert data == _cbor_reference(
        {"did": DID, "version": 3, "data": DATA, "rev": REV, "prev": None, "sig": commit.sig}
    )
    assert cid == CID.for_dag_cbor(data)


def test_an_independent_decoder_reads_the_commit_block(keypair: Keypair) -> None:
    libipld = pytest.importorskip("libipld")
    commit = sign_commit(_unsigned(prev=PREV), keypair)
    decoded = libipld.decode_dag_cbor(commit.encode()[1])
    assert decoded == {
        "did": DID,
        "version": 3,
        "data": DATA.raw,
        "rev": REV,
        "prev": PREV.raw,
        "sig": commit.sig,
    }


# -- signatures -----------------------------------------------------------------------------


def test_a_signed_commit_verifies_with_its_key(keypair: Keypair) -> None:
    commit = sign_commit(_unsigned(), keypair)
    assert len(commit.sig) == 64
    assert verify_commit(commit, keypair.did())
    check_commit_signature(commit, keypair.did())


def test_the_signature_verifies_under_an_independent_implementation(keypair: Keypair) -> None:
    atproto_crypto = pytest.importorskip("atproto_crypto.verify")
    commit = sign_commit(_unsigned(), keypair)
    assert atproto_crypto.verify_signature(keypair.did(), commit.signing_bytes(), commit.sig)


def test_a_commit_does_not_verify_under_another_key(curve: str) -> None:
    commit = sign_commit(_unsigned(), _keypair(curve))
    other = _keypair("p256" if curve == "k256" else "k256")
    assert not verify_commit(commit, _keypair(curve).did())
    assert not verify_commit(commit, other.did())
    with pytest.raises(BadCommitSignature):
        check_commit_signature(commit, other.did())


@pytest.mark.parametrize(
    "change",
    [
        {"did": "did:plc:ewvi7nxzyoun6zhxrhs64oia"},
        {"data": PREV},
        {"rev": LATER_REV},
        {"prev": PREV},
    ],
    ids=["did", "data", "rev", "prev"],
)
def test_tampering_with_any_field_breaks_the_signature(
    keypair: Keypair, change: dict[str, Any]
) -> None:
    commit = sign_commit(_unsigned(), keypair)
    tampered = dataclasses.replace(commit, **change)
    assert not verify_commit(tampered, keypair.did())


def test_a_flipped_signature_bit_fails(keypair: Keypair) -> None:
    commit = sign_commit(_unsigned(), keypair)
    sig = bytearray(commit.sig)
    sig[10] ^= 1
    assert not verify_commit(dataclasses.replace(commit, sig=bytes(sig)), keypair.did())


def test_a_high_s_signature_fails_though_it_is_mathematically_valid(
    curve: str, keypair: Keypair
) -> None:
    commit = sign_commit(_unsigned(), keypair)
    r, s = commit.sig[:32], int.from_bytes(commit.sig[32:], "big")
    high_s = r + (CURVE_ORDER[curve] - s).to_bytes(32, "big")
    assert not verify_commit(dataclasses.replace(commit, sig=high_s), keypair.did())


def test_a_der_encoded_signature_fails(keypair: Keypair) -> None:
    commit = sign_commit(_unsigned(), keypair)
    r, s = int.from_bytes(commit.sig[:32], "big"), int.from_bytes(commit.sig[32:], "big")
    der = encode_dss_signature(r, s)
    assert not verify_commit(dataclasses.replace(commit, sig=der), keypair.did())


def test_a_signature_over_the_map_without_prev_fails(keypair: Keypair) -> None:
    """v3 signs `prev: null` explicitly; a signer that omits the key signs other bytes."""
    commit = sign_commit(_unsigned(), keypair)
    without_prev = dag_cbor.encode({"did": DID, "version": 3, "data": DATA, "rev": REV})
    forged = dataclasses.replace(commit, sig=keypair.sign(without_prev))
    assert not verify_commit(forged, keypair.did())


# -- decoding -------------------------------------------------------------------------------


def test_encode_then_decode_round_trips(keypair: Keypair) -> None:
    for prev in (None, PREV):
        commit = sign_commit(_unsigned(prev=prev), keypair)
        _, data = commit.encode()
        assert Commit.decode(data) == commit
        assert read_commit(data) == commit
        assert Commit.from_value(commit.to_value()) == commit
        assert commit.unsigned() == _unsigned(prev=prev)


@given(st.binary(min_size=1, max_size=80))
def test_any_signature_bytes_survive_a_round_trip(sig: bytes) -> None:
    commit = Commit(did=DID, data=DATA, rev=REV, prev=None, sig=sig)
    assert Commit.decode(commit.encode()[1]) == commit


def test_revs_order_chronologically_as_plain_strings() -> None:
    alphabet = "234567abcdefghijklmnopqrstuvwxyz"

    def tid(micros: int, clock: int = 0) -> str:
        n = (micros << 10) | clock
        return "".join(alphabet[(n >> (5 * i)) & 31] for i in reversed(range(13)))

    revs = [tid(t) for t in (1_700_000_000_000_000, 1_700_000_000_000_001, 1_800_000_000_000_000)]
    commits = [Commit(did=DID, data=DATA, rev=rev, prev=None, sig=b"s") for rev in revs]
    assert [c.rev for c in sorted(commits, key=lambda c: c.rev)] == revs
    assert commits[0].rev < commits[1].rev < commits[2].rev


@pytest.mark.parametrize(
    "value",
    [
        _signed_value(version=2),
        _signed_value(version=4),
        _signed_value(version="3"),
        _signed_value(version=True),
        _signed_value(extra="field"),
        {k: v for k, v in _signed_value().items() if k != "prev"},
        {k: v for k, v in _signed_value().items() if k != "sig"},
        {k: v for k, v in _signed_value().items() if k != "rev"},
        {k: v for k, v in _signed_value().items() if k != "version"},
        _signed_value(did=42),
        _signed_value(did="not a did"),
        _signed_value(did="did:PLC:upper"),
        _signed_value(rev="not-a-tid"),
        _signed_value(rev="3jzfcijpj2z2"),
        _signed_value(rev="zjzfcijpj2z2a"),  # top bit set
        _signed_value(rev=12345),
        _signed_value(data=str(DATA)),
        _signed_value(data=None),
        _signed_value(data=CID.for_raw(b"blob")),
        _signed_value(prev=str(PREV)),
        _signed_value(sig="abc"),
        _signed_value(sig=b""),
        [DID, 3],
        None,
    ],
    ids=lambda value: (
        repr(sorted(value.items(), key=str)[-1])[:40] if isinstance(value, dict) else repr(value)
    ),
)
def test_from_value_rejects_anything_but_a_well_formed_v3_commit(value: object) -> None:
    with pytest.raises(InvalidCommit):
        Commit.from_value(value)


def test_decode_rejects_bytes_that_are_not_strict_dag_cbor() -> None:
    commit = Commit(did=DID, data=DATA, rev=REV, prev=None, sig=b"sig")
    data = commit.encode()[1]
    non_canonical = cbor2.dumps(
        {"version": 3, **{k: v for k, v in commit.to_value().items() if k != "version"}},
        encoders={CID: lambda enc, cid: enc.encode(cbor2.CBORTag(42, b"\x00" + cid.raw))},
    )
    for bad in (b"", data[:-1], data + b"\x00", non_canonical):
        with pytest.raises(InvalidCommit):
            Commit.decode(bad)
        with pytest.raises(InvalidCommit):
            read_commit(bad)


def test_constructing_an_invalid_commit_fails_early() -> None:
    with pytest.raises(InvalidCommit):
        UnsignedCommit(did=DID, data=DATA, rev="nope")
    with pytest.raises(InvalidCommit):
        Commit(did=DID, data=DATA, rev=REV, prev=None, sig=b"")


def test_commits_are_immutable_values() -> None:
    commit = Commit(did=DID, data=DATA, rev=REV, prev=None, sig=b"sig")
    assert commit == Commit(did=DID, data=DATA, rev=REV, prev=None, sig=b"sig")
    assert hash(commit) == hash(Commit(did=DID, data=DATA, rev=REV, prev=None, sig=b"sig"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        commit.rev = LATER_REV  # type: ignore[misc]


def test_commit_errors_are_repo_errors() -> None:
    assert issubclass(BadCommitSignature, InvalidCommit)
    assert issubclass(InvalidCommit, RepoError)


# -- legacy v2 ------------------------------------------------------------------------------


def _v2_value(**changes: object) -> dict[str, object]:
    value: dict[str, object] = {
        "did": DID,
        "version": 2,
        "data": DATA,
        "prev": PREV,
        "sig": b"sig",
    }
    value.update(changes)
    return value


@pytest.mark.parametrize(
    "value",
    [_v2_value(), _v2_value(prev=None), _v2_value(rev=REV)],
    ids=["prev-link", "no-prev", "with-rev"],
)
def test_read_commit_accepts_legacy_v2_commits_and_reencodes_them_exactly(
    value: dict[str, object],
) -> None:
    data = dag_cbor.encode(value)
    commit = read_commit(data)
    assert isinstance(commit, LegacyCommit)
    assert commit.prev == value["prev"]
    assert commit.rev == value.get("rev")
    assert commit.encode() == (CID.for_dag_cbor(data), data)


def test_a_legacy_v2_signature_covers_the_stored_fields_without_sig(keypair: Keypair) -> None:
    unsigned = {k: v for k, v in _v2_value().items() if k != "sig"}
    value = {**unsigned, "sig": keypair.sign(dag_cbor.encode(unsigned))}
    commit = read_commit(dag_cbor.encode(value))
    assert isinstance(commit, LegacyCommit)
    assert commit.signing_bytes() == dag_cbor.encode(unsigned)
    assert verify_commit(commit, keypair.did())
    assert not verify_commit(dataclasses.replace(commit, prev=None), keypair.did())


@pytest.mark.parametrize(
    "value",
    [
        _v2_value(version=1),
        {k: v for k, v in _v2_value().items() if k != "prev"},
        _v2_value(extra=1),
        _v2_value(rev="not-a-tid"),
        _v2_value(data=None),
    ],
    ids=["v1", "no-prev-key", "extra", "bad-rev", "no-data"],
)
def test_read_commit_rejects_malformed_legacy_commits(value: dict[str, object]) -> None:
    with pytest.raises(InvalidCommit):
        read_commit(dag_cbor.encode(value))
