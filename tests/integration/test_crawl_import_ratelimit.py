"""requestCrawl is recorded, importRepo migrates a repo, IP rate limits answer 429 with headers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from entrypoints.asgi import build_app
from entrypoints.bootstrap import Services, build_services
from entrypoints.config import Settings
from tests.integration.live_server import free_port, serve


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Services]]:
    port = free_port()
    settings = Settings(
        data_dir=tmp_path / "data", port=port, hostname="localhost",
        fast_password_hashing=True, rate_limits=True, ip_rate_limit="60/300",
    )  # fmt: skip
    services = build_services(settings)
    with serve(build_app(services), port) as url:
        yield url, services
    services.close()


def _account(url: str, handle: str) -> tuple[str, str]:
    body = httpx.post(
        f"{url}/xrpc/com.atproto.server.createAccount",
        json={"handle": handle, "email": f"{handle}@x.co", "password": "pw-12345"},
    ).json()
    return body["did"], body["accessJwt"]


def test_request_crawl_is_accepted_and_recorded(server: tuple[str, Services]) -> None:
    url, services = server
    response = httpx.post(
        f"{url}/xrpc/com.atproto.sync.requestCrawl", json={"hostname": "Relay.Example.com"}
    )
    assert response.status_code == 200
    assert services.extras["crawl_requests"].recent() == ["relay.example.com"]
    bad = httpx.post(f"{url}/xrpc/com.atproto.sync.requestCrawl", json={"hostname": "not a host"})
    assert bad.status_code == 400 and bad.json()["error"] == "InvalidRequest"


def test_notify_of_update_is_taken_exactly_as_request_crawl(server: tuple[str, Services]) -> None:
    url, services = server
    notify = f"{url}/xrpc/com.atproto.sync.notifyOfUpdate"
    response = httpx.post(notify, json={"hostname": "PDS.Example.com"})
    assert response.status_code == 200, response.text
    assert response.headers["ratelimit-policy"] == "60;w=300"  # the same per-IP limit
    assert services.extras["crawl_requests"].recent() == ["pds.example.com"]
    for body in ({"hostname": "not a host"}, {}):
        bad = httpx.post(notify, json=body)
        assert bad.status_code == 400 and bad.json()["error"] == "InvalidRequest"
    assert services.extras["crawl_requests"].recent() == ["pds.example.com"]


def test_import_repo_replaces_the_repo_with_the_cars_records(server: tuple[str, Services]) -> None:
    url, services = server
    did, token = _account(url, "mover.test")
    auth = {"Authorization": f"Bearer {token}"}
    for text in ("one", "two", "three"):
        created = httpx.post(
            f"{url}/xrpc/com.atproto.repo.createRecord", headers=auth,
            json={"repo": did, "collection": "com.example.note", "record": {"text": text}},
        )  # fmt: skip
        assert created.status_code == 200, created.text
    car = httpx.get(f"{url}/xrpc/com.atproto.sync.getRepo", params={"did": did}).content
    httpx.post(
        f"{url}/xrpc/com.atproto.repo.createRecord", headers=auth,
        json={"repo": did, "collection": "com.example.note", "record": {"text": "later"}},
    )  # fmt: skip
    seq = services.views.max_seq()
    imported = httpx.post(
        f"{url}/xrpc/com.atproto.repo.importRepo",
        headers={**auth, "content-type": "application/vnd.ipld.car"},
        content=car,
    )
    assert imported.status_code == 200, imported.text
    records = httpx.get(
        f"{url}/xrpc/com.atproto.repo.listRecords",
        params={"repo": did, "collection": "com.example.note"},
    ).json()["records"]
    assert sorted(r["value"]["text"] for r in records) == ["one", "three", "two"]
    assert [row.kind for row in services.views.seq_after(seq, 10)] == ["#sync"]
    garbage = httpx.post(
        f"{url}/xrpc/com.atproto.repo.importRepo",
        headers={**auth, "content-type": "application/vnd.ipld.car"},
        content=b"\x00\x01garbage",
    )
    assert garbage.status_code == 400 and garbage.json()["error"] == "InvalidRequest"
    assert services.views.max_seq() == seq + 1


def test_ip_rate_limit_answers_429_with_ratelimit_headers(server: tuple[str, Services]) -> None:
    url, _ = server
    first = httpx.get(f"{url}/xrpc/_health")
    assert first.headers["ratelimit-limit"] == "60"
    assert first.headers["ratelimit-policy"] == "60;w=300"
    with httpx.Client() as client:
        statuses = [client.get(f"{url}/xrpc/_health").status_code for _ in range(70)]
    assert statuses.count(429) >= 1
    refused = httpx.get(f"{url}/xrpc/_health")
    assert refused.status_code == 429 and refused.json()["error"] == "RateLimitExceeded"
    assert refused.headers["ratelimit-remaining"] == "0"
