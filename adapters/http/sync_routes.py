"""`com.atproto.sync.*` over HTTP: repo export, heads, blocks, proofs, repo listing."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterator
from typing import Any

from starlette.concurrency import iterate_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from adapters.http.xrpc import call, int_param, ok, param, read
from adapters.http.xrpc_errors import XrpcError, invalid_request
from application.repo_export import RepoExporter
from application.repo_reads import RepoReader
from domain.data.cid import CID
from domain.data.errors import InvalidCid
from domain.repo.car import write_car
from domain.syntax import is_valid_did, is_valid_nsid, is_valid_record_key

NS = "/xrpc/com.atproto.sync."
CAR_TYPE = "application/vnd.ipld.car"


def _did_param(request: Request) -> str:
    did = param(request, "did") or ""
    if not is_valid_did(did):
        raise invalid_request(f"Invalid DID: {did}")
    return did


class SyncRoutes:
    """Handlers for repository synchronisation."""

    def __init__(self, reader: RepoReader, exporter: RepoExporter) -> None:
        self.reader, self.exporter = reader, exporter

    def check_hosted(self, did: str) -> Any:
        """The account row if `did`'s repo may be served; the right XRPC error otherwise."""
        account = self.reader.views.get_account(did)
        if account is None or account.status == "deleted":
            raise XrpcError(404, "RepoNotFound", f"Could not find repo for DID: {did}")
        if account.status == "takendown":
            raise XrpcError(400, "RepoTakendown", f"Repo has been takendown: {did}")
        if account.status == "deactivated":
            raise XrpcError(400, "RepoDeactivated", f"Repo has been deactivated: {did}")
        return account

    async def get_latest_commit(self, request: Request) -> JSONResponse:
        did = _did_param(request)
        await read(request, self.check_hosted, did)
        head = await read(request, self.reader.head, did)
        return ok({"cid": str(head.commit), "rev": head.rev})

    async def get_head(self, request: Request) -> JSONResponse:
        """Deprecated `getHead`, still asked by older relays and tools: the commit CID."""
        did = _did_param(request)
        try:
            await read(request, self.check_hosted, did)
            head = await read(request, self.reader.head, did)
        except XrpcError as exc:
            if exc.error != "RepoNotFound":
                raise
            raise XrpcError(400, "HeadNotFound", f"Could not find root for DID: {did}") from exc
        return ok({"root": str(head.commit)})

    async def get_repo_status(self, request: Request) -> JSONResponse:
        did = _did_param(request)
        account = self.reader.views.get_account(did)
        head = self.reader.views.get_head(did)
        if account is None or head is None:
            raise XrpcError(404, "RepoNotFound", f"Could not find repo for DID: {did}")
        body: dict[str, Any] = {"did": did, "active": account.status == "active", "rev": head.rev}
        if account.status != "active":
            body["status"] = account.status
        return ok(body)

    async def list_repos(self, request: Request) -> JSONResponse:
        limit = int_param(request, "limit", 500, 1, 1000)
        cursor = param(request, "cursor", required=False)
        heads = await read(request, self.reader.views.list_heads, cursor, limit)
        repos = []
        for head in heads:
            account = self.reader.views.get_account(head.did)
            status = account.status if account else "deleted"
            entry: dict[str, Any] = {
                "did": head.did,
                "head": str(head.commit),
                "rev": head.rev,
                "active": status == "active",
            }
            if status != "active":
                entry["status"] = status
            repos.append(entry)
        body: dict[str, Any] = {"repos": repos}
        if len(heads) == limit:
            body["cursor"] = heads[-1].did
        return ok(body)

    async def list_repos_by_collection(self, request: Request) -> JSONResponse:
        """Active repos with a record in the collection; deactivated and taken-down ones are
        left out, since a consumer would only be refused their records."""
        collection = param(request, "collection") or ""
        limit = int_param(request, "limit", 500, 1, 2000)
        cursor = param(request, "cursor", required=False)
        # Off the loop even on SQLite: a rare collection probes every repo after the cursor.
        dids = await call(self.reader.views.list_dids_with_collection, collection, cursor, limit)
        body: dict[str, Any] = {"repos": [{"did": did} for did in dids]}
        if len(dids) == limit:
            body["cursor"] = dids[-1]
        return ok(body)

    async def get_repo(self, request: Request) -> Response:
        did = _did_param(request)
        since = param(request, "since", required=False)
        chunks: Iterator[bytes] = await call(self._export_hosted, did, since)
        return StreamingResponse(_threaded(chunks), media_type=CAR_TYPE)

    def _export_hosted(self, did: str, since: str | None) -> Iterator[bytes]:
        """The status check, then the export: one trip to a worker thread, not two."""
        self.check_hosted(did)
        return self.exporter.export(did, since)

    async def get_blocks(self, request: Request) -> Response:
        did = _did_param(request)
        await read(request, self.check_hosted, did)
        try:
            cids = [CID.parse(text) for text in request.query_params.getlist("cids")]
        except InvalidCid as exc:
            raise invalid_request("cids must be CID strings") from exc
        if not cids:
            raise invalid_request('Error: Params must have the property "cids"')
        found = await call(self.reader.blocks.get_blocks, cids)
        missing = [str(cid) for cid in cids if cid not in found]
        if missing:
            raise invalid_request(
                f"Could not find cids: {', '.join(missing[:10])}", "BlockNotFound"
            )
        data = b"".join(write_car(None, [(cid, found[cid]) for cid in cids]))
        return Response(data, media_type=CAR_TYPE)

    async def get_record(self, request: Request) -> Response:
        did = _did_param(request)
        collection, rkey = param(request, "collection") or "", param(request, "rkey") or ""
        if not is_valid_nsid(collection) or not is_valid_record_key(rkey):
            raise invalid_request("Invalid collection or record key")
        await read(request, self.check_hosted, did)
        data = await read(request, self.exporter.record_proof, did, collection, rkey)
        return Response(data, media_type=CAR_TYPE)

    async def list_blobs(self, request: Request) -> JSONResponse:
        did = _did_param(request)
        await read(request, self.check_hosted, did)
        limit = int_param(request, "limit", 500, 1, 1000)
        cursor = param(request, "cursor", required=False)
        try:
            after = CID.parse(cursor).raw if cursor else b""
        except InvalidCid as exc:
            raise invalid_request("cursor must be a CID") from exc
        cids = await read(request, self.reader.views.list_blobs, did, after, limit)
        body: dict[str, Any] = {"cids": [str(cid) for cid in cids]}
        if len(cids) == limit:
            body["cursor"] = str(cids[-1])
        return ok(body)

    def routes(self) -> list[Route]:
        """Every `com.atproto.sync.*` HTTP route served here."""
        return [
            Route(NS + "getLatestCommit", self.get_latest_commit, methods=["GET"]),
            Route(NS + "getHead", self.get_head, methods=["GET"]),
            Route(NS + "getRepoStatus", self.get_repo_status, methods=["GET"]),
            Route(NS + "listRepos", self.list_repos, methods=["GET"]),
            Route(NS + "listReposByCollection", self.list_repos_by_collection, methods=["GET"]),
            Route(NS + "getRepo", self.get_repo, methods=["GET"]),
            Route(NS + "getCheckout", self.get_repo, methods=["GET"]),
            Route(NS + "getBlocks", self.get_blocks, methods=["GET"]),
            Route(NS + "getRecord", self.get_record, methods=["GET"]),
            Route(NS + "listBlobs", self.list_blobs, methods=["GET"]),
        ]


async def _threaded(chunks: Iterator[bytes]) -> AsyncGenerator[bytes, None]:
    """Pull a synchronous chunk iterator in worker threads so export never blocks the loop.

    A stream cut short (the client went away) closes the iterator, so an export being written
    to the CAR cache is discarded now rather than whenever it is garbage-collected.
    """
    try:
        async for chunk in iterate_in_threadpool(chunks):
            yield chunk
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
