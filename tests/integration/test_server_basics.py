"""The server answers health and describeServer over a real socket."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from entrypoints.asgi import create_app
from entrypoints.config import Settings
from tests.integration.live_server import serve


@pytest.fixture
def base_url(tmp_path: Path) -> Iterator[str]:
    settings = Settings(data_dir=tmp_path, hostname="localhost", handle_domains=(".test",))
    with serve(create_app(settings)) as url:
        yield url


def test_health_answers_200(base_url: str) -> None:
    response = httpx.get(f"{base_url}/xrpc/_health")
    assert response.status_code == 200
    assert "version" in response.json()


def test_describe_server_lists_handle_domains(base_url: str) -> None:
    body = httpx.get(f"{base_url}/xrpc/com.atproto.server.describeServer").json()
    assert body["availableUserDomains"] == [".test"]
    assert body["did"].startswith("did:web:")
    assert body["inviteCodeRequired"] is False


def test_unknown_method_is_501_method_not_implemented(base_url: str) -> None:
    response = httpx.get(f"{base_url}/xrpc/com.example.nothing")
    assert response.status_code == 501
    assert response.json()["error"] == "MethodNotImplemented"
