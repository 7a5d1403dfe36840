"""Interop: the reference TypeScript resolver (`@atproto/identity`) resolves our DIDs.

The embedded directory is served on loopback; a DID is created through `PlcRegistrar`; then
`tests/interop/identity_resolve.mjs` resolves it with the pinned npm package and checks the
signing key (by verifying a signature made with it), the PDS endpoint and the handle.

The package is installed once into `tests/interop/node_modules` (kept between runs). Without
node, npm or the registry the tests skip locally but fail under `CI=true`: in CI the
interop claim must actually be checked.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from adapters.http.plc_routes import plc_app
from adapters.identity.http_plc_client import HttpPlcClient
from adapters.identity.plc_registrar import PlcRegistrar
from adapters.identity.plc_store import plc_sqlite_env
from application.plc_directory.app import PlcDirectory
from domain.crypto.k256 import K256Keypair
from domain.plc.builder import build_tombstone
from tests.integration.live_server import serve
from tests.integration.npm_interop import INTEROP, node_with

SCRIPT = INTEROP / "identity_resolve.mjs"
PACKAGE = "@atproto/identity"
PDS = "https://pds.example.com"


@pytest.fixture(scope="module")
def node() -> str:
    """Path of `node`, with the pinned packages installed."""
    return node_with(PACKAGE)


@pytest.fixture
def directory(tmp_path: Path) -> Iterator[PlcDirectory]:
    app = PlcDirectory(plc_sqlite_env(tmp_path))
    yield app
    app.close()


@pytest.fixture
def plc_url(directory: PlcDirectory) -> Iterator[str]:
    with serve(plc_app(directory)) as url:
        yield url


def resolve_with_npm(node: str, plc_url: str, did: str, *extra: str) -> dict[str, Any]:
    result = subprocess.run(
        [node, str(SCRIPT), plc_url, did, *extra],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=INTEROP,
    )
    assert result.returncode == 0, result.stderr
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def test_reference_resolver_reads_a_did_our_registrar_created(node: str, plc_url: str) -> None:
    server, signing, recovery = (K256Keypair.generate() for _ in range(3))
    client = HttpPlcClient(plc_url)
    did = PlcRegistrar(client, server).register(
        handle="alice.test",
        signing_key=signing.did(),
        pds_endpoint=PDS,
        recovery_key=recovery.did(),
    )
    message = b"interop: signed by the #atproto key"
    signature = signing.sign(message)

    answer = resolve_with_npm(node, plc_url, did, message.hex(), signature.hex())

    assert "error" not in answer, answer
    assert answer["doc"]["id"] == did
    assert answer["key"] == signing.did()
    assert answer["data"] == {
        "did": did,
        "signingKey": signing.did(),
        "handle": "alice.test",
        "pds": PDS,
    }
    assert answer["verified"] is True
    client.close()


def test_reference_resolver_sees_an_unknown_did_as_absent(node: str, plc_url: str) -> None:
    answer = resolve_with_npm(node, plc_url, "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa")
    assert answer == {"doc": None}


def test_reference_resolver_treats_a_tombstone_410_as_a_failure(
    node: str, plc_url: str, directory: PlcDirectory
) -> None:
    """Documented behaviour: 410 (the API spec's tombstone status) is an error for the
    TypeScript resolver, which only maps 404 to "not found"."""
    server = K256Keypair.generate()
    did = PlcRegistrar(HttpPlcClient(plc_url), server).register(
        handle="gone.test", signing_key=K256Keypair.generate().did(), pds_endpoint=PDS
    )
    directory.submit(did, build_tombstone(directory.last_op(did), server).to_value())
    answer = resolve_with_npm(node, plc_url, did)
    assert answer["status"] == 410


def test_reference_resolver_drops_the_path_of_a_plc_url(node: str, directory: PlcDirectory) -> None:
    """Documented behaviour: the resolver builds `new URL('/' + did, plcUrl)`, so a directory
    mounted under `/plc` is invisible to it; other services must be given a root URL."""
    with serve(Starlette(routes=[Mount("/plc", app=plc_app(directory))])) as url:
        registrar = PlcRegistrar(HttpPlcClient(f"{url}/plc"), K256Keypair.generate())
        did = registrar.register(
            handle="alice.test", signing_key=K256Keypair.generate().did(), pds_endpoint=PDS
        )
        answer = resolve_with_npm(node, f"{url}/plc", did)
    assert answer == {"doc": None}
