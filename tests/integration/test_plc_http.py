"""The PLC directory HTTP API over a real socket: every endpoint, its errors, the clients."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from adapters.http.plc_routes import plc_app
from adapters.identity.embedded_plc_client import EmbeddedPlcClient
from adapters.identity.http_plc_client import HttpPlcClient
from adapters.identity.plc_registrar import PlcRegistrar
from adapters.identity.plc_store import plc_sqlite_env
from application.plc_directory.app import PlcDirectory
from application.ports.did_registrar import DidRegistrar
from application.ports.plc_client import (
    PlcClient,
    PlcDidDeactivated,
    PlcDidNotFound,
    PlcOperationRejected,
    PlcUnavailable,
)
from domain.crypto.k256 import K256Keypair
from domain.plc.audit_log import validate_audit_log
from domain.plc.builder import build_genesis, build_tombstone, build_update
from domain.plc.operation import PlcOperation
from tests.integration.live_server import free_port, serve

UNKNOWN = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"


@pytest.fixture
def directory(tmp_path: Path) -> Iterator[PlcDirectory]:
    app = PlcDirectory(plc_sqlite_env(tmp_path))
    yield app
    app.close()


@pytest.fixture
def base_url(directory: PlcDirectory) -> Iterator[str]:
    """The directory standalone, at the root of its own server."""
    with serve(plc_app(directory)) as url:
        yield url


@pytest.fixture
def mounted_url(directory: PlcDirectory) -> Iterator[str]:
    """The directory mounted under `/plc`, as the PDS serves it."""
    with serve(Starlette(routes=[Mount("/plc", app=plc_app(directory))])) as url:
        yield f"{url}/plc"


def genesis(server: K256Keypair, handle: str = "alice.test") -> tuple[str, PlcOperation]:
    built = build_genesis(
        signing_key=K256Keypair.generate().did(),
        handle=handle,
        pds_endpoint="https://pds.example.com",
        server_rotation_key=server,
    )
    return built.did, built.operation


def post(url: str, did: str, body: object) -> httpx.Response:
    return httpx.post(f"{url}/{did}", json=body)


# -- the API -------------------------------------------------------------------------------


def test_submitted_genesis_is_served_on_every_read_endpoint(base_url: str) -> None:
    server = K256Keypair.generate()
    did, op = genesis(server)
    response = post(base_url, did, op.to_value())
    assert response.status_code == 200

    doc = httpx.get(f"{base_url}/{did}")
    assert doc.status_code == 200
    assert doc.headers["content-type"].startswith("application/did+ld+json")
    assert doc.json()["id"] == did
    data = httpx.get(f"{base_url}/{did}/data").json()
    assert data["did"] == did and data["rotationKeys"] == [server.did()]
    assert httpx.get(f"{base_url}/{did}/log").json() == [op.to_value()]
    assert httpx.get(f"{base_url}/{did}/log/last").json() == op.to_value()
    [entry] = httpx.get(f"{base_url}/{did}/log/audit").json()
    assert entry["cid"] == str(op.cid()) and entry["nullified"] is False
    assert entry["createdAt"].endswith("Z")


def test_percent_encoded_dids_resolve_like_the_reference_client_sends_them(
    base_url: str,
) -> None:
    did, op = genesis(K256Keypair.generate())
    assert post(base_url, quote(did, safe=""), op.to_value()).status_code == 200
    assert httpx.get(f"{base_url}/{quote(did, safe='')}").json()["id"] == did


def test_unknown_did_is_404_with_a_message(base_url: str) -> None:
    for suffix in ("", "/data", "/log", "/log/audit", "/log/last"):
        response = httpx.get(f"{base_url}/{UNKNOWN}{suffix}")
        assert response.status_code == 404
        assert response.json() == {"message": f"DID not registered: {UNKNOWN}"}


def test_tombstoned_did_is_410_but_its_logs_stay_readable(base_url: str) -> None:
    server = K256Keypair.generate()
    did, op = genesis(server)
    post(base_url, did, op.to_value())
    tombstone = build_tombstone(op, server)
    assert post(base_url, did, tombstone.to_value()).status_code == 200
    for suffix in ("", "/data"):
        response = httpx.get(f"{base_url}/{did}{suffix}")
        assert response.status_code == 410
        assert response.json() == {"message": f"DID not available: {did}"}
    assert httpx.get(f"{base_url}/{did}/log/last").json() == tombstone.to_value()
    assert len(httpx.get(f"{base_url}/{did}/log").json()) == 2
    assert len(httpx.get(f"{base_url}/{did}/log/audit").json()) == 2


def test_invalid_operation_is_400_with_the_reason(base_url: str, directory: PlcDirectory) -> None:
    server = K256Keypair.generate()
    did, op = genesis(server)
    post(base_url, did, op.to_value())
    stranger = build_update(op, K256Keypair.generate(), handle="mallory.test")
    response = post(base_url, did, stranger.to_value())
    assert response.status_code == 400
    assert "signature" in response.json()["message"]
    response = post(base_url, did, {"type": "plc_operation"})
    assert response.status_code == 400 and "missing fields" in response.json()["message"]
    assert len(directory.audit_log(did)) == 1


def test_non_json_and_oversized_bodies_are_refused(base_url: str) -> None:
    did, _ = genesis(K256Keypair.generate())
    response = httpx.post(f"{base_url}/{did}", content=b"{not json")
    assert response.status_code == 400
    assert response.json()["message"] == "request body is not valid JSON"
    response = httpx.post(f"{base_url}/{did}", content=b"[" + b"1," * 60_000 + b"1]")
    assert response.status_code == 413


def test_export_answers_json_lines_in_both_formats(base_url: str) -> None:
    server = K256Keypair.generate()
    dids = []
    for name in ("a", "b", "c"):
        did, op = genesis(server, f"{name}.test")
        post(base_url, did, op.to_value())
        dids.append(did)
    legacy = httpx.get(f"{base_url}/export")
    assert legacy.headers["content-type"].startswith("application/jsonlines")
    lines = [json.loads(line) for line in legacy.text.split("\n")]
    assert [line["did"] for line in lines] == dids
    assert all("nullified" in line and "seq" not in line for line in lines)

    first = httpx.get(f"{base_url}/export", params={"after": "0", "count": "2"}).text
    page = [json.loads(line) for line in first.split("\n")]
    assert [line["seq"] for line in page] == [1, 2]
    assert page[0]["type"] == "sequenced_op"
    rest = httpx.get(f"{base_url}/export", params={"after": "2"}).text
    assert [json.loads(line)["did"] for line in rest.split("\n")] == [dids[2]]

    after = lines[0]["createdAt"]
    by_time = httpx.get(f"{base_url}/export", params={"after": after}).text.split("\n")
    assert [json.loads(line)["did"] for line in by_time] == dids[1:]
    assert httpx.get(f"{base_url}/export", params={"after": "99"}).text == ""


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"count": "zero"}, "Invalid count parameter"),
        ({"count": "0"}, "Invalid count parameter"),
        ({"after": "not-a-date"}, "Invalid after parameter"),
    ],
)
def test_export_rejects_bad_parameters(base_url: str, params: dict[str, str], message: str) -> None:
    response = httpx.get(f"{base_url}/export", params=params)
    assert response.status_code == 400
    assert response.json() == {"message": message}


def test_health_answers(base_url: str) -> None:
    assert httpx.get(f"{base_url}/_health").json()["version"]


def test_mounted_under_a_prefix_serves_the_same_api(mounted_url: str) -> None:
    did, op = genesis(K256Keypair.generate())
    assert post(mounted_url, did, op.to_value()).status_code == 200
    assert httpx.get(f"{mounted_url}/{did}").json()["id"] == did
    assert httpx.get(f"{mounted_url}/export").text


# -- clients -------------------------------------------------------------------------------


@pytest.fixture(params=["http", "embedded"])
def client(request: pytest.FixtureRequest, directory: PlcDirectory) -> Iterator[PlcClient]:
    if request.param == "embedded":
        yield EmbeddedPlcClient(directory)
        return
    with serve(Starlette(routes=[Mount("/plc", app=plc_app(directory))])) as url:
        http = HttpPlcClient(f"{url}/plc")
        yield http
        http.close()


def test_clients_round_trip_an_identity(client: PlcClient) -> None:
    server = K256Keypair.generate()
    did, op = genesis(server)
    client.submit(did, op)
    update = build_update(op, server, handle="bob.test")
    client.submit(did, update)
    assert client.get_document(did)["alsoKnownAs"] == ["at://bob.test"]
    assert client.get_data(did).handle == "bob.test"
    assert client.get_last_op(did) == update
    log = client.get_audit_log(did)
    assert [entry.operation for entry in log] == [op, update]
    assert validate_audit_log(log).current.operation == update


def test_clients_raise_typed_errors(client: PlcClient) -> None:
    server = K256Keypair.generate()
    did, op = genesis(server)
    with pytest.raises(PlcDidNotFound):
        client.get_document(did)
    client.submit(did, op)
    with pytest.raises(PlcOperationRejected, match="already"):
        client.submit(did, op)
    client.submit(did, build_tombstone(op, server))
    with pytest.raises(PlcDidDeactivated):
        client.get_document(did)
    with pytest.raises(PlcDidDeactivated):
        client.get_data(did)


def test_registrar_creates_a_did_with_the_recovery_key_first(client: PlcClient) -> None:
    server, recovery, signing = (K256Keypair.generate() for _ in range(3))
    registrar: DidRegistrar = PlcRegistrar(client, server)
    did = registrar.register(
        handle="alice.test",
        signing_key=signing.did(),
        pds_endpoint="https://pds.example.com",
        recovery_key=recovery.did(),
    )
    data = client.get_data(did)
    assert data.rotation_keys == (recovery.did(), server.did())
    assert data.signing_key == signing.did()
    assert data.pds_endpoint == "https://pds.example.com"
    assert data.also_known_as == ("at://alice.test",)


def test_http_client_reports_an_unreachable_directory() -> None:
    client = HttpPlcClient(f"http://127.0.0.1:{free_port()}", timeout=1.0)
    with pytest.raises(PlcUnavailable):
        client.get_document(UNKNOWN)


def test_http_client_caps_response_size(base_url: str) -> None:
    did, op = genesis(K256Keypair.generate())
    post(base_url, did, op.to_value())
    client = HttpPlcClient(base_url, max_response_bytes=200)
    with pytest.raises(PlcUnavailable, match=r"over 200 bytes|declares"):
        client.get_document(did)


def test_http_client_treats_reference_404_not_available_as_deactivated() -> None:
    """The reference server's code answers 404 `DID not available` for tombstones."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"message": f"DID not available: {UNKNOWN}"})

    client = HttpPlcClient(
        "https://plc.example", client=httpx.Client(transport=httpx.MockTransport(handler))
    )
    with pytest.raises(PlcDidDeactivated):
        client.get_document(UNKNOWN)


def test_acceptance_time_comes_from_the_directory(base_url: str, directory: PlcDirectory) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    did, op = genesis(K256Keypair.generate())
    post(base_url, did, op.to_value())
    [entry] = directory.audit_log(did)
    assert before < entry.created_at < datetime.now(UTC) + timedelta(seconds=1)
