"""A user brings their own did:web: reserve a key, point the document here, createAccount."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from application.audit.auditor import audit_log
from entrypoints.asgi import build_app
from entrypoints.bootstrap import Services, build_services
from entrypoints.config import Settings
from tests.integration.live_server import free_port, serve


class DidWebHost:
    """Serves `/.well-known/did.json` for did:web:localhost%3A<port>."""

    def __init__(self, port: int) -> None:
        self.did = f"did:web:localhost%3A{port}"
        self.document: dict[str, Any] | None = None

    def app(self) -> Starlette:
        async def did_json(request: Request) -> JSONResponse:
            if self.document is None:
                return JSONResponse({"error": "not found"}, status_code=404)
            return JSONResponse(self.document)

        return Starlette(routes=[Route("/.well-known/did.json", did_json)])

    def publish(self, signing_key: str, endpoint: str, handle: str) -> None:
        self.document = {
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
            "id": self.did,
            "alsoKnownAs": [f"at://{handle}"],
            "verificationMethod": [
                {
                    "id": f"{self.did}#atproto",
                    "type": "Multikey",
                    "controller": self.did,
                    "publicKeyMultibase": signing_key.removeprefix("did:key:"),
                }
            ],
            "service": [
                {
                    "id": "#atproto_pds",
                    "type": "AtprotoPersonalDataServer",
                    "serviceEndpoint": endpoint,
                }
            ],
        }


@pytest.fixture
def pds(tmp_path: Path) -> Iterator[tuple[str, Services]]:
    port = free_port()
    settings = Settings(
        data_dir=tmp_path / "data", port=port, hostname="localhost",
        fast_password_hashing=True, allow_private_identity=True,
    )  # fmt: skip
    services = build_services(settings)
    with serve(build_app(services), port) as url:
        yield url, services
    services.close()


@pytest.fixture
def web_host() -> Iterator[DidWebHost]:
    port = free_port()
    host = DidWebHost(port)
    with serve(host.app(), port):
        yield host


def _create(url: str, did: str, handle: str) -> httpx.Response:
    return httpx.post(
        f"{url}/xrpc/com.atproto.server.createAccount",
        json={"handle": handle, "password": "pw pw pw pw", "did": did},
    )


def test_did_web_account_is_created_with_the_reserved_key_and_commits_verify(
    pds: tuple[str, Services], web_host: DidWebHost
) -> None:
    url, services = pds
    reserved = httpx.post(
        f"{url}/xrpc/com.atproto.server.reserveSigningKey", json={"did": web_host.did}
    )
    assert reserved.status_code == 200, reserved.text
    key = reserved.json()["signingKey"]
    web_host.publish(key, f"http://localhost:{url.rsplit(':', 1)[1]}", "webby.test")
    created = _create(url, web_host.did, "webby.test")
    assert created.status_code == 200, created.text
    assert created.json()["did"] == web_host.did
    token = created.json()["accessJwt"]
    record = httpx.post(
        f"{url}/xrpc/com.atproto.repo.createRecord",
        headers={"Authorization": f"Bearer {token}"},
        json={"repo": web_host.did, "collection": "com.example.note", "record": {"text": "hi"}},
    )
    assert record.status_code == 200, record.text
    assert services.views.get_account(web_host.did).signing_key == key  # type: ignore[union-attr]
    assert not audit_log(services.host).failures


def test_did_web_pointing_elsewhere_is_an_incompatible_did_doc(
    pds: tuple[str, Services], web_host: DidWebHost
) -> None:
    url, services = pds
    key = httpx.post(
        f"{url}/xrpc/com.atproto.server.reserveSigningKey", json={"did": web_host.did}
    ).json()["signingKey"]
    web_host.publish(key, "https://elsewhere.example", "webby.test")
    seq = services.views.max_seq()
    response = _create(url, web_host.did, "webby.test")
    assert response.status_code == 400 and response.json()["error"] == "IncompatibleDidDoc"
    assert services.views.max_seq() == seq


def test_did_web_naming_an_unreserved_key_is_an_incompatible_did_doc(
    pds: tuple[str, Services], web_host: DidWebHost
) -> None:
    url, _ = pds
    stranger = "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme"
    web_host.publish(stranger, f"http://localhost:{url.rsplit(':', 1)[1]}", "webby.test")
    response = _create(url, web_host.did, "webby.test")
    assert response.status_code == 400 and response.json()["error"] == "IncompatibleDidDoc"


def test_unresolvable_did_web_is_unresolvable_did(
    pds: tuple[str, Services], web_host: DidWebHost
) -> None:
    url, _ = pds
    response = _create(url, web_host.did, "webby.test")  # nothing published yet
    assert response.status_code == 400 and response.json()["error"] == "UnresolvableDid"
