"""Interop: the reference TypeScript client and repo verifier against a live quire.

`tests/interop/api_client.mjs` drives the server with `@atproto/api`'s `AtpAgent`;
`tests/interop/repo_verify.mjs` checks our `sync.getRepo` CAR and `sync.getRecord` proof with
`@atproto/repo` against the `#atproto` key of the DID document we serve at `/plc/<did>`.

The packages are installed once into `tests/interop/node_modules` (skipped when the pinned
versions are already there). Without node, npm or the registry the tests skip locally but
fail under `CI=true`: in CI the interop claim must actually be checked.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from tests.integration.conftest import Account, LiveServer
from tests.integration.npm_interop import INTEROP, node_with

PACKAGES = ("@atproto/api", "@atproto/repo", "@atproto/common-web")
NOTE = "com.example.note"
WRITE = "com.atproto.repo.applyWrites#"


@pytest.fixture(scope="module")
def node() -> str:
    """Path of `node`, with the pinned packages installed."""
    return node_with(*PACKAGES)


def run_script(node: str, script: str, *args: str) -> dict[str, Any]:
    result = subprocess.run(
        [node, str(INTEROP / script), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=INTEROP,
    )
    assert result.returncode == 0, result.stderr
    answer: dict[str, Any] = json.loads(result.stdout)
    assert "error" not in answer, answer
    return answer


def _apply(server: LiveServer, account: Account, writes: list[dict[str, Any]]) -> None:
    response = server.http.post(
        "/xrpc/com.atproto.repo.applyWrites",
        headers=account.auth,
        json={"repo": account.did, "writes": writes},
    )
    assert response.status_code == 200, response.text


def test_reference_client_creates_an_account_logs_in_writes_and_reads(
    node: str, server: LiveServer
) -> None:
    answer = run_script(node, "api_client.mjs", server.url, "npmclient.test", "hunter2-hunter2")

    account = server.services.views.get_account_by_handle("npmclient.test")
    assert account is not None
    assert answer["did"] == account.did
    assert answer["session"] == {"did": account.did, "handle": "npmclient.test"}
    assert answer["got"] == {**answer["posted"], "text": "hello from @atproto/api"}
    created = answer["created"]
    assert [item["rkey"] for item in answer["listed"]] == list(reversed(created))
    assert [item["n"] for item in answer["listed"]] == [3, 2, 1]
    assert (answer["appPasswords"], answer["appSession"]) == (["npm"], account.did)
    assert answer["preferences"] == ["app.bsky.actor.defs#adultContentPref"]
    assert answer["serviceTokenSegments"] == 3
    assert answer["identity"] == {"did": account.did, "handle": "npmclient.test"}
    assert answer["tokenRequired"] is False


def test_reference_verifier_accepts_our_repo_commit_and_record_proof(
    node: str, server: LiveServer
) -> None:
    account = server.create_account("verified")
    for batch in range(4):  # 200 records: an MST several levels deep
        _apply(server, account, [
            {"$type": WRITE + "create", "collection": NOTE, "rkey": f"r{batch:02d}{n:03d}",
             "value": {"$type": NOTE, "n": batch * 50 + n}}
            for n in range(50)
        ])  # fmt: skip
    _apply(server, account, [{"$type": WRITE + "delete", "collection": NOTE, "rkey": "r00007"}])
    head = server.services.views.get_head(account.did)
    assert head is not None

    answer = run_script(node, "repo_verify.mjs", server.url, account.did, NOTE, "r02010")

    assert answer["commit"] == {"did": account.did, "rev": head.rev, "version": 3}
    assert answer["repo"]["rev"] == head.rev
    assert answer["root"] == str(head.commit)
    expected = sorted(f"{NOTE}/r{b:02d}{n:03d}" for b in range(4) for n in range(50))
    expected.remove(f"{NOTE}/r00007")
    assert sorted(answer["repo"]["paths"]) == expected
    assert answer["commitSig"] is True
    assert answer["proof"] == [{"path": f"{NOTE}/r02010", "record": {"$type": NOTE, "n": 110}}]


def test_reference_verifier_rejects_our_repo_under_another_key(
    node: str, server: LiveServer
) -> None:
    account = server.create_account("wrongkey")
    _apply(server, account, [
        {"$type": WRITE + "create", "collection": NOTE, "rkey": "one", "value": {"$type": NOTE}}
    ])  # fmt: skip

    answer = run_script(node, "repo_verify.mjs", server.url, account.did, NOTE, "one")

    assert answer["wrongKeySig"] is False
    assert answer["wrongKeyRepo"] == "rejected"
    assert answer["commitSig"] is True
