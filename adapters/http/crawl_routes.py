"""`com.atproto.sync.requestCrawl` (inbound, and its deprecated alias `notifyOfUpdate`) and
`com.atproto.repo.importRepo`."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.http.auth import BearerAuth
from adapters.http.xrpc import call, json_body
from adapters.http.xrpc_errors import XrpcError, invalid_request
from adapters.storage.crawl_requests import SqlCrawlRequests
from application.repo_host.app import RepoHost
from domain.syntax import is_valid_handle

MAX_IMPORT_BYTES = 100 * 1024 * 1024


class CrawlAndImportRoutes:
    """Handlers for crawl requests and repo import (account migration)."""

    def __init__(self, host: RepoHost, auth: BearerAuth, crawls: SqlCrawlRequests) -> None:
        self.host, self.auth, self.crawls = host, auth, crawls

    async def request_crawl(self, request: Request) -> Response:
        body = await json_body(request, limit=10_000)
        hostname = body.get("hostname")
        if type(hostname) is not str or not is_valid_handle(hostname.lower()):
            raise invalid_request("Input/hostname must be a hostname")
        await call(self.crawls.record, hostname.lower())
        return Response(status_code=200)

    async def import_repo(self, request: Request) -> Response:
        did = self.auth.require(request, full_access=True)
        if request.headers.get("content-type", "").split(";")[0] != "application/vnd.ipld.car":
            raise invalid_request("importRepo expects an application/vnd.ipld.car body")
        data = bytearray()
        async for chunk in request.stream():
            data += chunk
            if len(data) > MAX_IMPORT_BYTES:
                raise XrpcError(413, "PayloadTooLarge", "repository CAR is too large")
        commit: Any = await call(self.host.import_repo, did, bytes(data))
        return Response(status_code=200, headers={"x-quire-rev": commit.rev})

    def routes(self) -> list[Route]:
        """The routes."""
        return [
            Route("/xrpc/com.atproto.sync.requestCrawl", self.request_crawl, methods=["POST"]),
            # Deprecated alias still sent by older PDSes: the same handler, so the same record,
            # validation and limits.
            Route("/xrpc/com.atproto.sync.notifyOfUpdate", self.request_crawl, methods=["POST"]),
            Route("/xrpc/com.atproto.repo.importRepo", self.import_repo, methods=["POST"]),
        ]
