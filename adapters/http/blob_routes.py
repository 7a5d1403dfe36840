"""Blob XRPC methods over HTTP: uploadBlob, sync.getBlob and listMissingBlobs.

Uploads are streamed: the async request body is pulled chunk by chunk from the worker thread
that runs the use case, so a 5 MiB upload is never held in memory and the event loop never
blocks on disk. Served blobs carry the reference PDS's defensive headers, because a blob is
arbitrary user content on the server's own origin.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anyio.from_thread
from starlette.concurrency import iterate_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from adapters.http.auth import BearerAuth
from adapters.http.xrpc import call, int_param, ok, param, read
from adapters.http.xrpc_errors import XrpcError, invalid_request
from application.blobs import BlobService
from application.ports.blob_store import DEFAULT_MAX_BLOB_SIZE
from domain.blob_sniff import OCTET_STREAM, normalize_mime
from domain.data import atjson
from domain.data.cid import CID
from domain.data.errors import InvalidCid
from domain.syntax import is_valid_did

REPO = "/xrpc/com.atproto.repo."
SYNC = "/xrpc/com.atproto.sync."


def _is_wildcard(declared: str) -> bool:
    return declared.split(";", 1)[0].strip() == "*/*"


def _too_large() -> XrpcError:
    return XrpcError(413, "PayloadTooLarge", "request entity too large")


class BlobRoutes:
    """Handlers for the blob methods.

    `check_repo`, when given, is called with the DID before getBlob serves anything and
    raises (e.g. RepoNotFound, RepoTakendown) for a repo that is not available, as the
    reference's `assertRepoAvailability` does.
    """

    def __init__(
        self,
        blobs: BlobService,
        auth: BearerAuth,
        max_size: int = DEFAULT_MAX_BLOB_SIZE,
        *,
        check_repo: Callable[[str], object] | None = None,
    ) -> None:
        self.blobs = blobs
        self.auth = auth
        self.max_size = max_size
        self.check_repo = check_repo

    async def upload_blob(self, request: Request) -> JSONResponse:
        did = self.auth.require(request)
        declared = request.headers.get("content-type")
        if not declared:
            raise invalid_request("Request encoding (Content-Type) required but not provided")
        # `*/*` (what the Python SDK sends) is the lexicon's own input encoding: accept it and
        # let sniffing decide the type, as the reference does.
        if normalize_mime(declared) is None and not _is_wildcard(declared):
            raise invalid_request(f"Invalid request encoding (Content-Type): {declared[:100]}")
        encoding = request.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise XrpcError(415, "UnsupportedMediaType", "unsupported content-encoding")
        self._check_length(request)
        # BlobTooLarge, raised mid-stream for an undeclared length, maps to 413 the same way.
        blob = await call(self.blobs.upload, did, _pull_body(request), declared, self.max_size)
        return ok({"blob": atjson.to_json(blob)})

    def _check_length(self, request: Request) -> None:
        """Refuse a declared oversize body before reading it; require a body at all."""
        length = request.headers.get("content-length")
        if length is None:
            if "transfer-encoding" not in request.headers:
                raise invalid_request("A request body is expected but none was provided")
            return
        if not length.strip().isdigit():
            raise invalid_request("invalid content-length")
        if int(length) > self.max_size:
            raise _too_large()

    async def get_blob(self, request: Request) -> Response:
        did = param(request, "did") or ""
        if not is_valid_did(did):
            raise invalid_request(f"Invalid DID: {did[:100]}")
        try:
            cid = CID.parse(param(request, "cid") or "")
        except InvalidCid as exc:
            raise invalid_request("cid must be a CID") from exc
        if self.check_repo is not None:
            await read(request, self.check_repo, did)
        content = await call(self.blobs.get, did, cid)
        headers = {
            "content-type": content.mime_type or OCTET_STREAM,
            "content-length": str(content.size),
            # Never let a browser guess a type, render the blob inline or run anything in it.
            "x-content-type-options": "nosniff",
            "content-disposition": f'attachment; filename="{cid}"',
            "content-security-policy": "default-src 'none'; sandbox",
        }
        return StreamingResponse(_threaded(content.chunks), headers=headers)

    async def list_missing_blobs(self, request: Request) -> JSONResponse:
        did = self.auth.require(request)
        limit = int_param(request, "limit", 500, 1, 1000)
        cursor = param(request, "cursor", required=False)
        page = await call(self.blobs.list_missing, did, limit, cursor)
        body: dict[str, Any] = {
            "blobs": [{"cid": cid, "recordUri": uri} for cid, uri in page.blobs]
        }
        if page.cursor is not None:
            body["cursor"] = page.cursor
        return ok(body)

    def routes(self) -> list[Route]:
        """The blob routes."""
        return [
            Route(REPO + "uploadBlob", self.upload_blob, methods=["POST"]),
            Route(SYNC + "getBlob", self.get_blob, methods=["GET"]),
            Route(REPO + "listMissingBlobs", self.list_missing_blobs, methods=["GET"]),
        ]


def _pull_body(request: Request) -> Iterator[bytes]:
    """The request body as a synchronous iterator, for use in a worker thread only.

    Each chunk is awaited on the event loop through `anyio.from_thread`, so the upload flows
    at the client's pace straight into the blob store.
    """
    stream = request.stream()

    async def next_chunk() -> bytes | None:
        try:
            return await stream.__anext__()
        except StopAsyncIteration:
            return None

    while True:
        chunk = anyio.from_thread.run(next_chunk)
        if chunk is None:
            return
        if chunk:
            yield chunk


async def _threaded(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Read file chunks in worker threads so a slow disk never blocks the loop."""
    async for chunk in iterate_in_threadpool(chunks):
        yield chunk
