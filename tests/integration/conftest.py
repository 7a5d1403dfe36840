"""Fixtures for the end-to-end API suites: one live server per module, accounts, the seq.

The server is the real ASGI app under uvicorn on a loopback socket over a fresh data
directory. The fixture keeps the `Services` it was built from, so a test can read the
firehose seq (`SqlViews.max_seq()`) directly, without going through HTTP, and assert that a
refused request left the log exactly where it was.
"""

from __future__ import annotations

import itertools
import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from atproto import Client

from adapters.security.jwt_hs256 import HS256Signer
from entrypoints.asgi import build_app
from entrypoints.bootstrap import Services, build_services
from entrypoints.config import Settings
from entrypoints.server_secrets import load_or_create
from tests.integration.live_server import free_port, serve

PASSWORD = "correct horse battery staple"
_HANDLES = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Account:
    """A created account and the session createAccount returned."""

    did: str
    handle: str
    password: str
    access_jwt: str
    refresh_jwt: str

    @property
    def auth(self) -> dict[str, str]:
        """The Authorization header for this account's access token."""
        return {"authorization": f"Bearer {self.access_jwt}"}


@dataclass
class LiveServer:
    """A running server: its base URL, its services and a plain HTTP client for it."""

    url: str
    services: Services
    data_dir: Path
    http: httpx.Client

    @property
    def xrpc(self) -> str:
        """The XRPC base URL, as SDK clients want it."""
        return f"{self.url}/xrpc"

    def seq(self) -> int:
        """The highest firehose seq, read from the views (never over HTTP)."""
        return self.services.views.max_seq()

    def head(self, did: str) -> str:
        """The current commit CID of `did`'s repo, read from the views."""
        head = self.services.views.get_head(did)
        assert head is not None, did
        return str(head.commit)

    def create_account(self, prefix: str = "user") -> Account:
        """A new account with a unique `<prefix>N.test` handle."""
        handle = f"{prefix}{next(_HANDLES)}.test"
        response = self.http.post(
            "/xrpc/com.atproto.server.createAccount",
            json={"handle": handle, "password": PASSWORD, "email": f"{handle}@example.com"},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        return Account(body["did"], handle, PASSWORD, body["accessJwt"], body["refreshJwt"])

    def token(self, did: str, *, expires_in: int, typ: str = "at+jwt") -> str:
        """An access token signed with the server's own secret, for expiry tests."""
        signer = HS256Signer(load_or_create(self.data_dir).jwt_secret)
        now = int(time.time())
        claims = {
            "scope": "com.atproto.access",
            "aud": self.services.settings.service_did,
            "sub": did,
            "iat": now - 3600,
            "exp": now + expires_in,
        }
        return signer.issue(claims, typ)

    @contextmanager
    def seq_unchanged(self) -> Iterator[None]:
        """Assert that nothing inside the block appended to the log."""
        before = self.seq()
        yield
        assert self.seq() == before, "a refused request moved the firehose seq"


@contextmanager
def live_server(data_dir: Path, **overrides: Any) -> Iterator[LiveServer]:
    """The real app under uvicorn on a free loopback port, over `data_dir`.

    `overrides` are `Settings` fields (an admin password, invites, an AppView...).
    """
    port = free_port()
    settings = Settings(
        data_dir=data_dir,
        hostname="localhost",
        port=port,
        handle_domains=(".test",),
        fast_password_hashing=True,
        validate_output=True,  # every response of every test is checked against its lexicon
        **({"plc_url": None} | overrides),  # another server's directory, when a test says so
    )
    services = build_services(settings)
    try:
        with (
            serve(build_app(services), port) as url,
            httpx.Client(base_url=url, timeout=30) as http,
        ):
            yield LiveServer(url, services, data_dir, http)
    finally:
        services.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live server on a fresh data directory, shared by one test module."""
    with live_server(tmp_path_factory.mktemp("pds")) as live:
        yield live


_OPERATOR_TOKEN = re.compile(r"(\w+) token for (\S+) \(\S+\): (\S+) ")


ADMIN_PASSWORD = "operator-secret"


@pytest.fixture(scope="module")
def admin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, httpx.Client]]:
    """A server with an admin password, shared by one module; (it, a client sending the
    admin credentials on every request)."""
    with (
        live_server(tmp_path_factory.mktemp("admin-pds"), admin_password=ADMIN_PASSWORD) as live,
        httpx.Client(base_url=live.url, auth=("admin", ADMIN_PASSWORD)) as http,
    ):
        yield live, http


@pytest.fixture
def operator_tokens() -> Iterator[dict[tuple[str, str], str]]:
    """Confirmation tokens the server logged for the operator during the test (this server
    sends no email), by (purpose, DID); the latest wins."""
    found: dict[tuple[str, str], str] = {}

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            match = _OPERATOR_TOKEN.search(record.getMessage())
            if match:
                found[(match.group(1), match.group(2))] = match.group(3)

    handler = Collect()
    logger = logging.getLogger("quire.operator")
    logger.addHandler(handler)
    try:
        yield found
    finally:
        logger.removeHandler(handler)


@pytest.fixture
def account(server: LiveServer) -> Account:
    """A fresh account for one test."""
    return server.create_account()


def assert_xrpc_error(response: httpx.Response, status: int, error: str) -> dict[str, Any]:
    """`response` is the XRPC error `error` with `status`, and tells nothing of our internals."""
    assert response.status_code == status, (response.status_code, response.text)
    assert_no_stack_trace(response)
    body: dict[str, Any] = response.json()
    assert body.get("error") == error, body
    assert isinstance(body.get("message"), str), body
    return body


def assert_no_stack_trace(response: httpx.Response) -> None:
    """No traceback, file path or exception repr leaks into a response body."""
    text = response.text
    for leak in ("Traceback", 'File "', "/work/", '.py"', "site-packages"):
        assert leak not in text, text


def app_password_auth(server: LiveServer, account: Account, name: str) -> dict[str, str]:
    """Authorization headers of a session logged in with a new app password of `account`."""
    secret = sdk_client(server, account).com.atproto.server.create_app_password({"name": name})
    app = Client(base_url=server.xrpc)
    app.login(account.handle, secret.password, fetch_bsky_profile=False)
    assert app._session is not None
    return {"authorization": f"Bearer {app._session.access_jwt}"}


def app_password_session(
    http: httpx.Client,
    identifier: str,
    owner_auth: dict[str, str],
    name: str,
    *,
    privileged: bool = False,
) -> dict[str, Any]:
    """The createSession body of a login with a new app password (made with `owner_auth`)."""
    created = http.post(
        "/xrpc/com.atproto.server.createAppPassword",
        headers=owner_auth,
        json={"name": name, "privileged": privileged},
    )
    assert created.status_code == 200, created.text
    session = http.post(
        "/xrpc/com.atproto.server.createSession",
        json={"identifier": identifier, "password": created.json()["password"]},
    )
    assert session.status_code == 200, session.text
    body: dict[str, Any] = session.json()
    return body


def bearer(token: str) -> dict[str, str]:
    """An Authorization header carrying `token`."""
    return {"authorization": f"Bearer {token}"}


def sdk_client(server: LiveServer, account: Account) -> Client:
    """An `atproto` SDK client logged in as `account` (password login, not the stored tokens)."""
    client = Client(base_url=server.xrpc)
    client.login(account.handle, account.password, fetch_bsky_profile=False)
    return client
