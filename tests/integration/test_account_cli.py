"""`quire account ...` as the operator runs it: a subprocess over a data directory, idle or
shared with a running `quire serve`. Results are read back from the same directory: the
accounts view, the seq view's frames, the embedded PLC directory and the credential tables.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from adapters.storage.credential_tables import refresh_tokens
from adapters.storage.sql_key_store import engine_for
from application.accounts import AccountError
from application.auth_errors import AccountTakedown, AuthenticationFailed
from domain.firehose.frames import split_frame
from entrypoints.bootstrap import Services, build_services
from entrypoints.config import Settings
from tests.integration.live_server import free_port

ROOT = Path(__file__).resolve().parents[2]
QUIRE = Path(sys.executable).parent / "quire"
ENV = {**os.environ, "QUIRE_FAST_PASSWORD_HASHING": "1"}
PORT = 2999  # only written into DID documents; nothing listens in the idle-directory tests


def quire(data: Path, *args: str, port: int = PORT) -> subprocess.CompletedProcess[str]:
    command, sub, *rest = args
    return subprocess.run(
        [str(QUIRE), command, sub, "--data", str(data), "--port", str(port), *rest],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


@contextmanager
def opened(data: Path, port: int = PORT) -> Iterator[Services]:
    """The data directory's services, in-process, for reading what the commands did."""
    settings = Settings(data_dir=data, port=port, fast_password_hashing=True, plc_url=None)
    services = build_services(settings)
    try:
        yield services
    finally:
        services.close()


def frames(services: Services, did: str, after: int = 0) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for event in services.views.seq_after(after, 10_000):
        header, body = split_frame(event.frame)
        if body.get("did", body.get("repo")) == did:  # #commit frames name the repo
            out.append((header["t"], body))
    return out


def create(data: Path, handle: str, *extra: str) -> dict[str, str]:
    created: dict[str, str] = json.loads(
        ok(quire(data, "account", "create", "--handle", handle, *extra))
    )
    return created


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


# -- an idle data directory ---------------------------------------------------------------------


def test_create_prints_the_did_and_a_generated_password_and_registers_the_did(
    data: Path,
) -> None:
    created = create(data, "Alice.test", "--email", "alice@example.com")
    assert created["did"].startswith("did:plc:") and created["handle"] == "alice.test"
    assert len(created["password"]) >= 20
    with opened(data) as services:
        doc = services.extras["plc_client"].get_document(created["did"])
        assert doc["alsoKnownAs"] == ["at://alice.test"]
        assert doc["service"][0]["serviceEndpoint"] == f"http://localhost:{PORT}"
        session = services.sessions.create_session("alice.test", created["password"])
        assert session.did == created["did"]
        assert [kind for kind, _ in frames(services, created["did"])] == [
            "#identity",
            "#account",
            "#commit",
            "#sync",
        ]


def test_create_with_a_given_password_does_not_echo_it(data: Path) -> None:
    created = create(data, "bob.test", "--password", "hunter2 hunter2")
    assert "password" not in created


def test_list_shows_every_account_as_a_table_or_json_lines(data: Path) -> None:
    alice = create(data, "alice.test")
    bob = create(data, "bob.test", "--email", "bob@example.com")
    rows = [json.loads(line) for line in ok(quire(data, "account", "list", "--json")).splitlines()]
    assert sorted((r["did"], r["handle"], r["status"]) for r in rows) == sorted(
        [(alice["did"], "alice.test", "active"), (bob["did"], "bob.test", "active")]
    )
    assert all(r["signingKey"].startswith("did:key:z") for r in rows)
    table = ok(quire(data, "account", "list"))
    assert "bob@example.com" in table and alice["did"] in table


@pytest.mark.parametrize(
    ("handle", "error"),
    [("alice.test", "HandleNotAvailable"), ("a.test", "InvalidHandle"), ("x.com", "Unsupported")],
)
def test_create_refuses_taken_invalid_and_foreign_handles(
    data: Path, handle: str, error: str
) -> None:
    create(data, "alice.test")
    result = quire(data, "account", "create", "--handle", handle)
    assert result.returncode == 1
    assert error in result.stderr and "Traceback" not in result.stderr
    rows = ok(quire(data, "account", "list", "--json")).splitlines()
    assert len(rows) == 1


def test_deactivate_and_activate_record_account_events(data: Path) -> None:
    did = create(data, "alice.test")["did"]
    assert ok(quire(data, "account", "deactivate", "--did", did)).split() == [did, "deactivated"]
    ok(quire(data, "account", "activate", "--did", "alice.test"))  # a handle works too
    with opened(data) as services:
        accounts = [body for kind, body in frames(services, did) if kind == "#account"]
        assert accounts[-2:] == [
            {**accounts[-2], "active": False, "status": "deactivated"},
            {**accounts[-1], "active": True},
        ]
        assert "status" not in accounts[-1]


def test_takedown_ends_sessions_and_refuses_login_until_activated(data: Path) -> None:
    created = create(data, "alice.test")
    did, password = created["did"], created["password"]
    with opened(data) as services:
        services.sessions.create_session("alice.test", password)
        engine = engine_for("sqlite", services.store.conninfo)
    count = select(func.count()).select_from(refresh_tokens).where(refresh_tokens.c.did == did)
    with engine.connect() as conn:
        assert conn.scalar(count) == 2  # createAccount's session and the login

    ok(quire(data, "account", "takedown", "--did", did))
    with engine.connect() as conn:
        assert conn.scalar(count) == 0
    with opened(data) as services:
        assert frames(services, did)[-1] == (
            "#account",
            {**frames(services, did)[-1][1], "active": False, "status": "takendown"},
        )
        with pytest.raises(AccountTakedown):
            services.sessions.create_session("alice.test", password)

    ok(quire(data, "account", "activate", "--did", did))
    with opened(data) as services:
        assert services.sessions.create_session("alice.test", password).did == did


def test_rotate_key_updates_the_did_document_and_re_signs_the_repo(data: Path) -> None:
    did = create(data, "alice.test")["did"]
    with opened(data) as services:
        old_key = services.extras["plc_client"].get_data(did).signing_key
        seq = services.views.max_seq()
    rotated = json.loads(ok(quire(data, "account", "rotate-key", "--did", did)))
    assert rotated["did"] == did and rotated["signingKey"] != old_key
    with opened(data) as services:
        assert services.extras["plc_client"].get_data(did).signing_key == rotated["signingKey"]
        row = services.views.get_account(did)
        assert row is not None and row.signing_key == rotated["signingKey"]
        assert [kind for kind, _ in frames(services, did, seq)] == ["#identity", "#commit"]
    audit = subprocess.run(
        [str(QUIRE), "audit", "--data", str(data)], cwd=ROOT, capture_output=True, text=True
    )
    assert audit.returncode == 0, audit.stdout


def test_rotate_key_refuses_a_deactivated_account_and_changes_nothing(data: Path) -> None:
    did = create(data, "alice.test")["did"]
    ok(quire(data, "account", "deactivate", "--did", did))
    with opened(data) as services:
        before = services.extras["plc_client"].get_data(did)
    result = quire(data, "account", "rotate-key", "--did", did)
    assert result.returncode == 1 and "activate it first" in result.stderr
    with opened(data) as services:
        assert services.extras["plc_client"].get_data(did) == before


@pytest.mark.parametrize("command", ["activate", "deactivate", "takedown", "rotate-key"])
def test_commands_on_an_unknown_account_fail_cleanly(data: Path, command: str) -> None:
    create(data, "alice.test")
    for who in ("did:plc:" + "z" * 24, "nobody.test"):
        result = quire(data, "account", command, "--did", who)
        assert result.returncode == 1
        assert "AccountNotFound" in result.stderr and "Traceback" not in result.stderr


def test_reserve_and_release_a_handle_from_the_cli(data: Path) -> None:
    reserved = json.loads(ok(quire(data, "account", "reserve-handle", "--handle", "Kept.Test")))
    assert reserved == {"handle": "kept.test", "reserved": True}
    with opened(data) as services, pytest.raises(AccountError, match="reserved"):
        services.accounts.create_account("kept.test", None, "a-long-password")
    released = json.loads(ok(quire(data, "account", "release-handle", "--handle", "kept.test")))
    assert released == {"handle": "kept.test", "reserved": False}
    again = quire(data, "account", "release-handle", "--handle", "kept.test")
    assert again.returncode == 1 and "HandleNotReserved" in again.stderr
    with opened(data) as services:
        assert services.accounts.create_account("kept.test", None, "a-long-password").handle == (
            "kept.test"
        )
    invalid = quire(data, "account", "reserve-handle", "--handle", "not a handle")
    assert invalid.returncode == 1 and "Traceback" not in invalid.stderr


def test_revoke_credentials_from_the_cli_ends_logins_until_a_reset(data: Path) -> None:
    alice = create(data, "alice.test", "--password", "alice-password-1")
    with opened(data) as services:
        services.sessions.create_session("alice.test", "alice-password-1")
    revoked = json.loads(ok(quire(data, "account", "revoke-credentials", "--did", "alice.test")))
    assert revoked == {"did": alice["did"], "credentials": "revoked"}
    with opened(data) as services:
        with pytest.raises(AuthenticationFailed):
            services.sessions.create_session("alice.test", "alice-password-1")
        assert services.sessions.credentials_revoked(alice["did"])
    unknown = quire(data, "account", "revoke-credentials", "--did", "nobody.test")
    assert unknown.returncode == 1 and "AccountNotFound" in unknown.stderr


# -- alongside a running server -----------------------------------------------------------------


@contextmanager
def running_server(data: Path, port: int) -> Iterator[tuple[httpx.Client, subprocess.Popen[str]]]:
    server = subprocess.Popen(
        [str(QUIRE), "serve", "--port", str(port), "--data", str(data)],
        cwd=ROOT,
        env=ENV,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            deadline = time.monotonic() + 30
            while True:
                try:
                    http.get("/xrpc/com.atproto.server.describeServer")
                    break
                except httpx.TransportError:
                    assert server.poll() is None, "server exited"
                    assert time.monotonic() < deadline, "server did not start"
                    time.sleep(0.1)
            yield http, server
    finally:
        server.terminate()
        server.wait(timeout=30)


def read_until(stream: Any, pattern: re.Pattern[str], limit: float = 20) -> re.Match[str]:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        line = stream.readline()
        match = pattern.search(line)
        if match:
            return match
    raise AssertionError(f"{pattern.pattern} never appeared in the server log")


def test_the_plc_token_reaches_the_server_log_and_cli_changes_reach_the_live_server(
    data: Path,
) -> None:
    port = free_port()
    with running_server(data, port) as (http, server):
        response = http.post(
            "/xrpc/com.atproto.server.createAccount",
            json={"handle": "live.test", "password": "pw pw pw pw"},
        )
        assert response.status_code == 200, response.text
        did, auth = (
            response.json()["did"],
            {"authorization": f"Bearer {response.json()['accessJwt']}"},
        )

        requested = http.post(
            "/xrpc/com.atproto.identity.requestPlcOperationSignature", headers=auth
        )
        assert requested.status_code == 200 and requested.content == b""
        token = read_until(server.stderr, re.compile(r"([A-Z2-7]{5}-[A-Z2-7]{5})")).group(1)
        signed = http.post(
            "/xrpc/com.atproto.identity.signPlcOperation", json={"token": token}, headers=auth
        )
        assert signed.status_code == 200, signed.text

        rotated = json.loads(ok(quire(data, "account", "rotate-key", "--did", did, port=port)))
        doc = http.get(f"/plc/{did}").json()
        assert (
            "did:key:" + doc["verificationMethod"][0]["publicKeyMultibase"]
            == (rotated["signingKey"])
        )
        record = {
            "$type": "app.bsky.feed.post",
            "text": "after",
            "createdAt": "2024-01-01T00:00:00Z",
        }
        written = http.post(
            "/xrpc/com.atproto.repo.createRecord",
            json={"repo": did, "collection": "app.bsky.feed.post", "record": record},
            headers=auth,
        )
        assert written.status_code == 200, written.text  # signed with the rotated key

        ok(quire(data, "account", "takedown", "--did", did, port=port))
        refused = http.post(
            "/xrpc/com.atproto.identity.updateHandle", json={"handle": "moved.test"}, headers=auth
        )
        assert refused.status_code == 401 and refused.json()["error"] == "AccountTakedown"

    audit = subprocess.run(
        [str(QUIRE), "audit", "--data", str(data)], cwd=ROOT, capture_output=True, text=True
    )
    assert audit.returncode == 0, audit.stdout


def test_a_takedown_from_the_cli_stops_writes_on_a_running_server(data: Path) -> None:
    port = free_port()
    with running_server(data, port) as (http, _):
        created = http.post(
            "/xrpc/com.atproto.server.createAccount",
            json={"handle": "gone.test", "password": "pw pw pw pw"},
        ).json()
        auth = {"authorization": f"Bearer {created['accessJwt']}"}
        record = {"$type": "app.bsky.feed.post", "text": "x", "createdAt": "2024-01-01T00:00:00Z"}
        body = {"repo": created["did"], "collection": "app.bsky.feed.post", "record": record}
        assert http.post("/xrpc/com.atproto.repo.createRecord", json=body, headers=auth).is_success
        ok(quire(data, "account", "takedown", "--did", created["did"], port=port))
        after = http.post("/xrpc/com.atproto.repo.createRecord", json=body, headers=auth)
        assert after.status_code == 400 and after.json()["error"] == "RepoTakendown"


def test_the_operator_makes_invite_codes_and_creates_accounts_without_one(tmp_path: Path) -> None:
    data = tmp_path / "data"
    required = {**ENV, "QUIRE_INVITE_REQUIRED": "1"}
    made = subprocess.run(
        [str(QUIRE), "account", "create", "--data", str(data), "--port", str(PORT),
         "--handle", "operator-made.test"],
        cwd=ROOT, env=required, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    owner = json.loads(made.stdout)["did"]

    out = json.loads(
        ok(quire(data, "account", "invite", "--count", "2", "--uses", "3", "--for", owner))
    )

    assert (len(out["codes"]), out["uses"], out["forAccount"]) == (2, 3, owner)
    with opened(data) as services:
        listed = services.extras["invites"].for_account(owner)
    assert sorted(code.code for code in listed) == sorted(out["codes"])
    assert {code.available for code in listed} == {3}
