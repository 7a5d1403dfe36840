"""Blob XRPC methods over a real uvicorn socket: upload, getBlob headers, limits, missing blobs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from adapters.blob.disk_blob_store import DiskBlobStore
from adapters.http.auth import BearerAuth
from adapters.http.blob_routes import BlobRoutes
from adapters.http.xrpc_errors import XrpcError, handle_unexpected, handle_xrpc_error
from application.blobs import BlobService
from domain.data.cid import CID
from tests.fakes.blobs import InMemoryBlobIndex
from tests.fakes.credentials import FakeClock
from tests.integration.live_server import serve

ALICE = "did:plc:alice"
BOB = "did:plc:bob"
TOKENS = {"alice-token": ALICE, "bob-token": BOB}
MAX_SIZE = 100_000
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
POST = "app.bsky.feed.post/3kabc"


@dataclass(frozen=True)
class _Context:
    did: str


def verify_access(token: str) -> _Context:
    if token not in TOKENS:
        raise ValueError("unknown token")
    return _Context(TOKENS[token])


@dataclass
class Server:
    url: str
    index: InMemoryBlobIndex
    disk: DiskBlobStore

    def xrpc(self, method: str) -> str:
        return f"{self.url}/xrpc/{method}"

    def upload(
        self, data: bytes, mime: str = "image/png", token: str = "alice-token"
    ) -> httpx.Response:
        return httpx.post(
            self.xrpc("com.atproto.repo.uploadBlob"),
            content=data,
            headers={"authorization": f"Bearer {token}", "content-type": mime},
        )

    def get_blob(self, did: str, cid: str) -> httpx.Response:
        return httpx.get(self.xrpc("com.atproto.sync.getBlob"), params={"did": did, "cid": cid})


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    index = InMemoryBlobIndex()
    disk = DiskBlobStore(tmp_path / "blobs")
    service = BlobService(disk, index, FakeClock())
    routes = BlobRoutes(service, BearerAuth(verify_access), MAX_SIZE)
    app = Starlette(
        routes=routes.routes(),
        exception_handlers={XrpcError: handle_xrpc_error, Exception: handle_unexpected},
    )
    with serve(app) as url:
        yield Server(url, index, disk)


def stored_files(disk: DiskBlobStore) -> list[Path]:
    return [p for p in disk.root.rglob("*") if p.is_file()]


# uploadBlob


def test_upload_answers_a_blob_ref_in_json(server: Server) -> None:
    response = server.upload(PNG)
    assert response.status_code == 200
    assert response.json() == {
        "blob": {
            "$type": "blob",
            "ref": {"$link": str(CID.for_raw(PNG))},
            "mimeType": "image/png",
            "size": len(PNG),
        }
    }


def test_upload_stores_the_sniffed_type_not_a_wrong_declared_one(server: Server) -> None:
    assert server.upload(PNG, mime="image/jpeg").json()["blob"]["mimeType"] == "image/png"


def test_a_chunked_upload_streams_into_the_store(server: Server) -> None:
    data = bytes(n % 251 for n in range(MAX_SIZE))

    def body() -> Iterator[bytes]:
        for i in range(0, len(data), 7000):
            yield data[i : i + 7000]

    response = httpx.post(
        server.xrpc("com.atproto.repo.uploadBlob"),
        content=body(),
        headers={"authorization": "Bearer alice-token", "content-type": "application/x-thing"},
    )
    assert response.status_code == 200, response.text
    blob = response.json()["blob"]
    assert blob["size"] == MAX_SIZE and blob["mimeType"] == "application/x-thing"
    assert b"".join(server.disk.open(CID.for_raw(data)) or []) == data


def test_upload_requires_authentication(server: Server) -> None:
    response = server.upload(PNG, token="stolen")
    assert response.status_code == 401
    assert stored_files(server.disk) == []


def test_upload_requires_a_content_type_as_the_reference_does(server: Server) -> None:
    response = httpx.post(
        server.xrpc("com.atproto.repo.uploadBlob"),
        content=PNG,
        headers={"authorization": "Bearer alice-token", "content-type": ""},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "InvalidRequest"


def test_a_declared_length_over_the_limit_is_413_before_anything_is_stored(
    server: Server,
) -> None:
    response = server.upload(b"x" * (MAX_SIZE + 1), mime="text/plain")
    assert response.status_code == 413
    assert response.json()["error"] == "PayloadTooLarge"
    assert stored_files(server.disk) == [] and server.index.uploads == {}


def test_a_chunked_body_over_the_limit_is_413_and_leaves_no_temp_file(server: Server) -> None:
    def body() -> Iterator[bytes]:
        for _ in range(11):
            yield b"y" * 10_000

    response = httpx.post(
        server.xrpc("com.atproto.repo.uploadBlob"),
        content=body(),
        headers={"authorization": "Bearer alice-token", "content-type": "text/plain"},
    )
    assert response.status_code == 413
    assert response.json()["error"] == "PayloadTooLarge"
    assert stored_files(server.disk) == [] and server.index.uploads == {}


def test_a_compressed_body_is_refused_as_unsupported(server: Server) -> None:
    response = httpx.post(
        server.xrpc("com.atproto.repo.uploadBlob"),
        content=PNG,
        headers={
            "authorization": "Bearer alice-token",
            "content-type": "image/png",
            "content-encoding": "br",
        },
    )
    assert response.status_code == 415


# getBlob


def test_a_referenced_blob_is_served_with_defensive_headers(server: Server) -> None:
    cid = CID.for_raw(PNG)
    server.upload(PNG)
    server.index.reference(ALICE, cid, POST)
    response = server.get_blob(ALICE, str(cid))
    assert response.status_code == 200
    assert response.content == PNG
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-length"] == str(len(PNG))
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert response.headers["content-disposition"] == f'attachment; filename="{cid}"'


def test_a_text_blob_is_served_with_exactly_its_stored_type(server: Server) -> None:
    cid = CID.for_raw(b"<html><script>alert(1)</script>")
    server.upload(b"<html><script>alert(1)</script>", mime="text/html")
    server.index.reference(ALICE, cid, POST)
    response = server.get_blob(ALICE, str(cid))
    assert response.headers["content-type"] == "text/html"
    assert response.headers["content-security-policy"] == "default-src 'none'; sandbox"


def test_an_unknown_blob_is_400_blob_not_found(server: Server) -> None:
    response = server.get_blob(ALICE, str(CID.for_raw(b"nothing")))
    assert response.status_code == 400
    assert response.json()["error"] == "BlobNotFound"


def test_an_upload_no_record_references_is_not_served(server: Server) -> None:
    server.upload(PNG)
    response = server.get_blob(ALICE, str(CID.for_raw(PNG)))
    assert response.status_code == 400
    assert response.json()["error"] == "BlobNotFound"


def test_another_accounts_blob_is_not_served_under_this_did(server: Server) -> None:
    cid = CID.for_raw(PNG)
    server.upload(PNG, token="alice-token")
    server.index.reference(ALICE, cid, POST)
    server.index.reference(BOB, cid, POST)
    assert server.get_blob(BOB, str(cid)).json()["error"] == "BlobNotFound"


@pytest.mark.parametrize(
    ("did", "cid"),
    [("not-a-did", str(CID.for_raw(b"x"))), (ALICE, "not-a-cid"), (ALICE, "../../etc/passwd")],
)
def test_malformed_did_or_cid_is_invalid_request(server: Server, did: str, cid: str) -> None:
    response = server.get_blob(did, cid)
    assert response.status_code == 400
    assert response.json()["error"] == "InvalidRequest"


def test_get_blob_requires_both_parameters(server: Server) -> None:
    response = httpx.get(server.xrpc("com.atproto.sync.getBlob"), params={"did": ALICE})
    assert response.status_code == 400
    assert response.json()["error"] == "InvalidRequest"


# listMissingBlobs


def test_missing_blobs_are_listed_for_the_authenticated_account(server: Server) -> None:
    uploaded, missing = CID.for_raw(PNG), CID.for_raw(b"left behind")
    server.upload(PNG)
    server.index.reference(ALICE, uploaded, POST)
    server.index.reference(ALICE, missing, "app.bsky.feed.post/3kdef")
    server.index.reference(BOB, CID.for_raw(b"bobs"), POST)
    response = httpx.get(
        server.xrpc("com.atproto.repo.listMissingBlobs"),
        headers={"authorization": "Bearer alice-token"},
    )
    assert response.status_code == 200
    assert response.json() == {
        "blobs": [{"cid": str(missing), "recordUri": f"at://{ALICE}/app.bsky.feed.post/3kdef"}]
    }


def test_missing_blobs_page_with_limit_and_cursor(server: Server) -> None:
    cids = sorted(CID.for_raw(bytes([n])) for n in range(3))
    for n, cid in enumerate(cids):
        server.index.reference(ALICE, cid, f"app.bsky.feed.post/{n}")
    headers = {"authorization": "Bearer alice-token"}
    url = server.xrpc("com.atproto.repo.listMissingBlobs")
    first = httpx.get(url, params={"limit": 2}, headers=headers).json()
    assert [b["cid"] for b in first["blobs"]] == [str(cids[0]), str(cids[1])]
    second = httpx.get(url, params={"limit": 2, "cursor": first["cursor"]}, headers=headers)
    assert second.json() == {
        "blobs": [{"cid": str(cids[2]), "recordUri": f"at://{ALICE}/app.bsky.feed.post/2"}]
    }


def test_list_missing_blobs_requires_authentication_and_a_sane_limit(server: Server) -> None:
    url = server.xrpc("com.atproto.repo.listMissingBlobs")
    assert httpx.get(url).status_code == 401
    headers = {"authorization": "Bearer alice-token"}
    assert httpx.get(url, params={"limit": 0}, headers=headers).status_code == 400
    bad_cursor = httpx.get(url, params={"cursor": "nope"}, headers=headers)
    assert bad_cursor.status_code == 400 and bad_cursor.json()["error"] == "InvalidRequest"
