"""Signed repository commits, the root of trust of an atproto repository.

A v3 commit is the DAG-CBOR map `{did, version: 3, data, rev, prev, sig}`. The signature
is over the DAG-CBOR of the same map without `sig` (sha-256, then ECDSA, compact low-S);
`prev` must be present even though it is virtually always null, because leaving it out
changes the signed bytes. The commit's CID is that of the signed map. Legacy v2 commits
(no `rev`, a `prev` chain) are accepted on read through `read_commit`, never written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Protocol

from domain.crypto.keys import verify_signature
from domain.data import dag_cbor
from domain.data.cid import CID, DAG_CBOR, SHA2_256
from domain.data.errors import DecodeError
from domain.repo.errors import BadCommitSignature, InvalidCommit

_V3_FIELDS: Final = frozenset({"did", "version", "data", "rev", "prev", "sig"})
_V2_FIELDS: Final = frozenset({"did", "version", "data", "prev", "sig"})
_DAG_CBOR_PREFIX: Final = bytes((0x01, DAG_CBOR, SHA2_256, 0x20))
_DID: Final = re.compile(r"did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]")
_TID: Final = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")
_MAX_DID_LENGTH: Final = 2048


class Signer(Protocol):
    """What signing a commit needs of a keypair (`domain.crypto` keypairs fit)."""

    def sign(self, msg: bytes) -> bytes:
        """sha-256 `msg` and return the compact 64-byte low-S ECDSA signature."""
        ...


def _check_did(did: object) -> None:
    if type(did) is not str or len(did) > _MAX_DID_LENGTH or not _DID.fullmatch(did):
        raise InvalidCommit(f"commit did is not a DID: {did!r:.100}")


def _check_rev(rev: object) -> None:
    if type(rev) is not str or not _TID.fullmatch(rev):
        raise InvalidCommit(f"commit rev is not a TID: {rev!r:.100}")


def _check_link(name: str, cid: object, nullable: bool) -> None:
    """`data` and `prev` must be blessed links: CIDv1, dag-cbor, sha2-256 (repo spec)."""
    if cid is None and nullable:
        return
    if type(cid) is not CID or len(cid.raw) != 36 or not cid.raw.startswith(_DAG_CBOR_PREFIX):
        raise InvalidCommit(f"commit {name} is not a dag-cbor sha2-256 CIDv1: {cid!r:.100}")


def _check_sig(sig: object) -> None:
    if type(sig) is not bytes or not sig:
        raise InvalidCommit("commit sig must be non-empty bytes")


def _check_fields(fields: dict[str, object]) -> None:
    """Check a decoded map's fields before they reach a constructor: compiled (ADR 0018), a
    constructor refuses a value of the wrong type with a `TypeError` before `__post_init__`
    could say which field is wrong."""
    _check_did(fields["did"])
    _check_link("data", fields["data"], nullable=False)
    rev = fields.get("rev")
    if rev is not None or fields["version"] == 3:
        _check_rev(rev)
    _check_link("prev", fields["prev"], nullable=True)
    _check_sig(fields["sig"])


def _require_map(value: object, fields: frozenset[str], label: str) -> dict[str, object]:
    if type(value) is not dict:
        raise InvalidCommit("commit is not a map")
    keys = value.keys()
    if keys != fields:
        missing = sorted(field for field in fields if field not in keys)
        extra = sorted(str(key) for key in keys if key not in fields)
        raise InvalidCommit(f"{label} commit fields: missing {missing}, unexpected {extra}")
    return value


def _decode_map(data: bytes) -> object:
    try:
        return dag_cbor.decode(data)
    except DecodeError as exc:
        raise InvalidCommit(f"commit is not strict DAG-CBOR: {exc}") from exc


@dataclass(frozen=True, slots=True)
class UnsignedCommit:
    """The fields a v3 commit signs: everything but `sig`."""

    did: str
    data: CID
    rev: str
    prev: CID | None = None

    def __post_init__(self) -> None:
        _check_did(self.did)
        _check_link("data", self.data, nullable=False)
        _check_rev(self.rev)
        _check_link("prev", self.prev, nullable=True)

    def to_value(self) -> dict[str, dag_cbor.Value]:
        """The data-model map, keys already in DAG-CBOR order (so encoding skips a sort)."""
        return {
            "did": self.did,
            "rev": self.rev,
            "data": self.data,
            "prev": self.prev,
            "version": 3,
        }

    def signing_bytes(self) -> bytes:
        """The exact bytes the signature covers (fields validated, keys in order)."""
        return dag_cbor.encode_ordered(self.to_value())


@dataclass(frozen=True, slots=True)
class Commit:
    """A signed v3 commit; construction validates every field."""

    did: str
    data: CID
    rev: str
    prev: CID | None
    sig: bytes

    def __post_init__(self) -> None:
        _check_did(self.did)
        _check_link("data", self.data, nullable=False)
        _check_rev(self.rev)
        _check_link("prev", self.prev, nullable=True)
        _check_sig(self.sig)

    def unsigned(self) -> UnsignedCommit:
        """The commit without its signature."""
        return UnsignedCommit(did=self.did, data=self.data, rev=self.rev, prev=self.prev)

    def signing_bytes(self) -> bytes:
        """The exact bytes `sig` must be a signature of."""
        return self.unsigned().signing_bytes()

    def to_value(self) -> dict[str, dag_cbor.Value]:
        """The data-model map, keys already in DAG-CBOR order."""
        return {
            "did": self.did,
            "rev": self.rev,
            "sig": self.sig,
            "data": self.data,
            "prev": self.prev,
            "version": 3,
        }

    def encode(self) -> tuple[CID, bytes]:
        """The commit block: its CID and DAG-CBOR bytes."""
        data = dag_cbor.encode_ordered(self.to_value())
        return CID.for_dag_cbor(data), data

    @classmethod
    def from_value(cls, value: object) -> Commit:
        """Strictly decode a v3 commit map: exact field set, version 3, valid field values.

        Legacy v2 commits are rejected here; `read_commit` accepts both.
        """
        fields = _require_map(value, _V3_FIELDS, "v3")
        version = fields["version"]
        if type(version) is not int or version != 3:
            raise InvalidCommit(f"unsupported commit version {version!r:.20}")
        _check_fields(fields)
        return cls(
            did=fields["did"],  # type: ignore[arg-type]  # checked above
            data=fields["data"],  # type: ignore[arg-type]
            rev=fields["rev"],  # type: ignore[arg-type]
            prev=fields["prev"],  # type: ignore[arg-type]
            sig=fields["sig"],  # type: ignore[arg-type]
        )

    @classmethod
    def decode(cls, data: bytes) -> Commit:
        """Decode a v3 commit block's bytes (strict DAG-CBOR, then `from_value`)."""
        return cls.from_value(_decode_map(data))


@dataclass(frozen=True, slots=True)
class LegacyCommit:
    """A v2 commit, read from old repositories only: `rev` may be absent, `prev` a link."""

    did: str
    data: CID
    prev: CID | None
    sig: bytes
    rev: str | None = None

    def __post_init__(self) -> None:
        _check_did(self.did)
        _check_link("data", self.data, nullable=False)
        if self.rev is not None:
            _check_rev(self.rev)
        _check_link("prev", self.prev, nullable=True)
        _check_sig(self.sig)

    def to_value(self) -> dict[str, dag_cbor.Value]:
        """The data-model map as stored (no `rev` key when it had none)."""
        value = self._unsigned_value()
        value["sig"] = self.sig
        return value

    def signing_bytes(self) -> bytes:
        """The exact bytes `sig` must be a signature of."""
        return dag_cbor.encode(self._unsigned_value())

    def encode(self) -> tuple[CID, bytes]:
        """The commit block: its CID and DAG-CBOR bytes."""
        data = dag_cbor.encode(self.to_value())
        return CID.for_dag_cbor(data), data

    def _unsigned_value(self) -> dict[str, dag_cbor.Value]:
        value: dict[str, dag_cbor.Value] = {"did": self.did}
        if self.rev is not None:
            value["rev"] = self.rev
        value.update(data=self.data, prev=self.prev, version=2)
        return value

    @classmethod
    def from_value(cls, value: object) -> LegacyCommit:
        """Strictly decode a v2 commit map (`rev` optional, every other field required)."""
        if type(value) is dict and "rev" in value:
            fields = _require_map(value, _V3_FIELDS, "v2")
        else:
            fields = _require_map(value, _V2_FIELDS, "v2")
        version = fields["version"]
        if type(version) is not int or version != 2:
            raise InvalidCommit(f"not a v2 commit: version {version!r:.20}")
        _check_fields(fields)
        return cls(
            did=fields["did"],  # type: ignore[arg-type]  # checked above
            data=fields["data"],  # type: ignore[arg-type]
            prev=fields["prev"],  # type: ignore[arg-type]
            sig=fields["sig"],  # type: ignore[arg-type]
            rev=fields.get("rev"),  # type: ignore[arg-type]
        )


def read_commit(data: bytes) -> Commit | LegacyCommit:
    """Decode a commit block of either supported version (3, or legacy 2)."""
    value = _decode_map(data)
    version = value.get("version") if type(value) is dict else None
    if type(version) is int and version == 2:
        return LegacyCommit.from_value(value)
    return Commit.from_value(value)


def sign_commit(unsigned: UnsignedCommit, keypair: Signer) -> Commit:
    """Sign the DAG-CBOR of the unsigned commit (with `prev`, without `sig`)."""
    sig = keypair.sign(unsigned.signing_bytes())
    return Commit(
        did=unsigned.did, data=unsigned.data, rev=unsigned.rev, prev=unsigned.prev, sig=sig
    )


def verify_commit(commit: Commit | LegacyCommit, did_key: str) -> bool:
    """Does `sig` verify under `did_key` (a `did:key:` string)? Malformed signatures don't."""
    return verify_signature(did_key, commit.signing_bytes(), commit.sig)


def check_commit_signature(commit: Commit | LegacyCommit, did_key: str) -> None:
    """Raise `BadCommitSignature` unless the commit is signed by `did_key`."""
    if not verify_commit(commit, did_key):
        raise BadCommitSignature(f"commit by {commit.did} rev {commit.rev} has a bad signature")
