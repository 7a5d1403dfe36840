"""`com.atproto.sync.*` over a real socket, checked with the `atproto` SDK's own CAR and crypto.

The commit's signature is verified with `atproto_crypto` against the `#atproto` key of the DID
document served by the embedded directory at `/plc/<did>`, and the MST is walked over the
SDK-decoded blocks, so none of quire's own decoding is trusted by these checks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import cbor2
import pytest
from atproto import CAR, Client
from atproto_client.exceptions import RequestErrorBase
from atproto_core.cid import CID
from atproto_core.did_doc import DidDocument
from atproto_crypto.verify import verify_signature

from tests.integration.conftest import Account, LiveServer, sdk_client

NOTE = "com.example.note"
SHA256 = 0x12


@pytest.fixture
def client(server: LiveServer, account: Account) -> Client:
    return sdk_client(server, account)


def _notes(client: Client, did: str, count: int) -> dict[str, str]:
    """Create `count` notes; {"collection/rkey": cid}."""
    made = {}
    for n in range(count):
        out = client.com.atproto.repo.create_record(
            {"repo": did, "collection": NOTE, "record": {"$type": NOTE, "n": n}}
        )
        made[out.uri.split("/", 3)[3]] = out.cid
    return made


def _link(raw: bytes | None) -> cbor2.CBORTag | None:
    """A decoded link (libipld gives raw CID bytes) back as a DAG-CBOR tag 42."""
    return None if raw is None else cbor2.CBORTag(42, b"\x00" + raw)


def _commit_bytes(commit: dict[str, Any], *, signed: bool) -> bytes:
    """Canonical DAG-CBOR of a v3 commit (length-first key order is cbor2's canonical)."""
    value: dict[str, Any] = {
        "did": commit["did"],
        "version": commit["version"],
        "data": _link(commit["data"]),
        "rev": commit["rev"],
        "prev": _link(commit["prev"]),
    }
    if signed:
        value["sig"] = commit["sig"]
    return cbor2.dumps(value, canonical=True)


def _did_key(server: LiveServer, did: str) -> str:
    doc = DidDocument.from_dict(server.http.get(f"/plc/{did}").json())
    key = doc.get_did_key()
    assert key is not None
    return key


def _mst_leaves(blocks: dict[CID, Any], root: CID) -> Iterator[tuple[str, CID]]:
    """(key, value CID) of every MST entry under `root`, in tree order."""
    node = blocks[root]
    if node["l"] is not None:
        yield from _mst_leaves(blocks, CID.from_decoded_bytes(node["l"]))
    previous = b""
    for entry in node["e"]:
        key = previous[: entry["p"]] + entry["k"]
        previous = key
        yield key.decode(), CID.from_decoded_bytes(entry["v"])
        if entry["t"] is not None:
            yield from _mst_leaves(blocks, CID.from_decoded_bytes(entry["t"]))


def test_get_repo_commit_signature_verifies_against_the_plc_key(
    server: LiveServer, client: Client, account: Account
) -> None:
    _notes(client, account.did, 3)
    car = CAR.from_bytes(client.com.atproto.sync.get_repo({"did": account.did}))
    commit = car.blocks[car.root]

    assert str(car.root) == server.head(account.did)
    assert commit["did"] == account.did
    assert commit["version"] == 3
    assert verify_signature(
        _did_key(server, account.did), _commit_bytes(commit, signed=False), commit["sig"]
    )


def test_get_repo_commit_block_is_canonical_dag_cbor_for_its_cid(
    client: Client, account: Account
) -> None:
    car = CAR.from_bytes(client.com.atproto.sync.get_repo({"did": account.did}))
    digest = hashlib.sha256(_commit_bytes(car.blocks[car.root], signed=True)).digest()
    assert car.root.hash.code == SHA256
    assert car.root.hash.digest == digest


def test_tampered_commit_does_not_verify(
    server: LiveServer, client: Client, account: Account
) -> None:
    car = CAR.from_bytes(client.com.atproto.sync.get_repo({"did": account.did}))
    commit = {**car.blocks[car.root], "rev": "2222222222222"}
    assert not verify_signature(
        _did_key(server, account.did), _commit_bytes(commit, signed=False), commit["sig"]
    )


def test_get_repo_mst_holds_exactly_the_listed_records(client: Client, account: Account) -> None:
    made = _notes(client, account.did, 40)
    car = CAR.from_bytes(client.com.atproto.sync.get_repo({"did": account.did}))
    root = CID.from_decoded_bytes(car.blocks[car.root]["data"])

    leaves = list(_mst_leaves(car.blocks, root))

    assert [key for key, _ in leaves] == sorted(made)
    assert {key: str(cid) for key, cid in leaves} == made
    for _, cid in leaves:
        assert car.blocks[cid]["$type"] == NOTE


def test_sync_get_record_proof_leads_from_the_commit_to_the_record(
    server: LiveServer, client: Client, account: Account
) -> None:
    made = _notes(client, account.did, 20)
    path, cid = sorted(made.items())[7]
    rkey = path.split("/")[1]

    proof = CAR.from_bytes(
        client.com.atproto.sync.get_record({"did": account.did, "collection": NOTE, "rkey": rkey})
    )

    assert str(proof.root) == server.head(account.did)
    commit = proof.blocks[proof.root]
    assert verify_signature(
        _did_key(server, account.did), _commit_bytes(commit, signed=False), commit["sig"]
    )
    node_cid = CID.from_decoded_bytes(commit["data"])
    found: CID | None = None
    for _ in range(32):  # bounded descent: the tree is a few levels high
        node = proof.blocks[node_cid]
        previous, below = b"", node["l"]
        for entry in node["e"]:
            key = previous[: entry["p"]] + entry["k"]
            previous = key
            if key.decode() == path:
                found = CID.from_decoded_bytes(entry["v"])
                break
            if key.decode() > path:
                break
            below = entry["t"]
        if found is not None or below is None:
            break
        node_cid = CID.from_decoded_bytes(below)
    assert found is not None and str(found) == cid
    assert proof.blocks[found]["n"] == 7


def test_list_repos_includes_every_account_with_its_head(
    server: LiveServer, client: Client, account: Account
) -> None:
    other = server.create_account()
    repos = {r.did: r for r in client.com.atproto.sync.list_repos({"limit": 1000}).repos}
    for did in (account.did, other.did):
        assert repos[did].head == server.head(did)
        assert repos[did].active is True


def test_list_repos_pages_without_duplicates(server: LiveServer, client: Client) -> None:
    for _ in range(3):
        server.create_account()
    everyone = [r.did for r in client.com.atproto.sync.list_repos({"limit": 1000}).repos]
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(len(everyone) + 2):
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.com.atproto.sync.list_repos(params)
        seen += [r.did for r in page.repos]
        cursor = page.cursor
        if not cursor:
            break
    assert seen == everyone
    assert len(set(seen)) == len(seen)


def test_get_repo_status_is_active_at_the_current_rev(
    server: LiveServer, client: Client, account: Account
) -> None:
    _notes(client, account.did, 1)
    status = client.com.atproto.sync.get_repo_status({"did": account.did})
    latest = client.com.atproto.sync.get_latest_commit({"did": account.did})
    assert status.did == account.did
    assert status.active is True
    assert status.rev == latest.rev


def test_get_latest_commit_follows_each_write(
    server: LiveServer, client: Client, account: Account
) -> None:
    before = client.com.atproto.sync.get_latest_commit({"did": account.did})
    written = client.com.atproto.repo.create_record(
        {"repo": account.did, "collection": NOTE, "record": {"$type": NOTE, "n": 1}}
    )
    after = client.com.atproto.sync.get_latest_commit({"did": account.did})

    assert written.commit is not None
    assert after.cid == written.commit.cid == server.head(account.did)
    assert after.rev == written.commit.rev
    assert after.rev > before.rev


def test_deprecated_get_head_names_the_same_commit(
    server: LiveServer, client: Client, account: Account
) -> None:
    head = client.com.atproto.sync.get_head({"did": account.did})
    assert head.root == server.head(account.did)
    missing = server.http.get(
        "/xrpc/com.atproto.sync.getHead", params={"did": "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"}
    )
    assert (missing.status_code, missing.json()["error"]) == (400, "HeadNotFound")


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at, shift = at + 1, shift + 7
        if byte < 0x80:
            return value, at


def _rootless_car_blocks(data: bytes) -> dict[str, bytes]:
    """Blocks of a CAR with no roots (getBlocks, as the reference sends it: the SDK's CAR
    reader insists on a root), each checked against its CID's sha-256 digest."""
    header_length, at = _varint(data, 0)
    assert cbor2.loads(data[at : at + header_length]) == {"version": 1, "roots": []}
    at += header_length
    blocks: dict[str, bytes] = {}
    while at < len(data):
        length, at = _varint(data, at)
        end = at + length
        cid_start = at
        for _ in range(3):  # version, codec, multihash code
            _, at = _varint(data, at)
        digest_length, at = _varint(data, at)
        cid = CID.from_decoded_bytes(data[cid_start : at + digest_length])
        block = data[at + digest_length : end]
        assert hashlib.sha256(block).digest() == cid.hash.digest
        blocks[str(cid)] = block
        at = end
    return blocks


def test_get_blocks_returns_the_requested_blocks(client: Client, account: Account) -> None:
    made = _notes(client, account.did, 2)
    wanted = sorted(made.values())
    data = client.com.atproto.sync.get_blocks({"did": account.did, "cids": wanted})
    blocks = _rootless_car_blocks(data)
    assert sorted(blocks) == wanted
    assert cbor2.loads(blocks[wanted[0]])["$type"] == NOTE


def test_sync_of_an_unknown_did_is_repo_not_found(client: Client) -> None:
    unknown = {"did": "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"}
    calls = (
        client.com.atproto.sync.get_repo,
        client.com.atproto.sync.get_latest_commit,
        client.com.atproto.sync.get_repo_status,
    )
    for call in calls:
        with pytest.raises(RequestErrorBase) as caught:
            call(unknown)
        response = caught.value.response
        assert response is not None
        assert (response.status_code, response.content.error) == (404, "RepoNotFound")


def test_get_repo_since_a_rev_still_roots_the_car_at_the_current_commit(
    server: LiveServer, client: Client, account: Account
) -> None:
    rev = client.com.atproto.sync.get_latest_commit({"did": account.did}).rev
    _notes(client, account.did, 2)
    car = CAR.from_bytes(client.com.atproto.sync.get_repo({"did": account.did, "since": rev}))
    assert str(car.root) == server.head(account.did)
    assert car.blocks[car.root]["did"] == account.did
