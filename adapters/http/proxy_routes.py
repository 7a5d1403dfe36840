"""The XRPC fallback: a method served elsewhere is forwarded (`application/service_proxy.py`),
anything else is 501 MethodNotImplemented.

For the AppView views of an account's own posts and profile (`application/read_after_write.py`)
the answer is parsed and the account's writes the AppView has not indexed yet are spliced in;
if that fails for any reason the AppView's answer goes back as it came.

The call is forwarded as it came (method, query string, body and content type, the client's
language and labeler preferences) with the account's service token in place of its session,
and the service's answer comes back with its status and content type. A client-named service
is only reached at a public address (`AddressGuard`); the operator's configured ones may be
anywhere. Upstream failures are typed XRPC errors, never a stack trace.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.http.auth import BearerAuth
from adapters.http.xrpc import call
from adapters.http.xrpc_errors import XrpcError, error_response
from application.read_after_write import GET_POST_THREAD, Munged, ReadAfterWrite, ThreadFetch
from application.service_proxy import ProxyTarget, ServiceProxy
from application.sessions import AuthContext
from domain.syntax import is_valid_nsid

MAX_BODY = 10 * 1024 * 1024
MAX_RESPONSE = 20 * 1024 * 1024
FORWARDED_REQUEST_HEADERS = ("content-type", "accept", "accept-language", "atproto-accept-labelers")
RETURNED_HEADERS = (
    "content-type",
    "content-language",
    "atproto-content-labelers",
    "atproto-repo-rev",
)
REPO_REV = "atproto-repo-rev"
log = logging.getLogger("quire.proxy")


class ProxyRoutes:
    """The `/xrpc/{method}` catch-all."""

    def __init__(
        self,
        proxy: ServiceProxy,
        auth: BearerAuth,
        configured_client: httpx.Client,
        guarded_client: httpx.Client,
        read_after_write: ReadAfterWrite | None = None,
        thread_fetch: ThreadFetch | None = None,
    ) -> None:
        self.proxy, self.auth = proxy, auth
        self._clients: dict[bool, httpx.Client] = {True: configured_client, False: guarded_client}
        self.read_after_write, self.thread_fetch = read_after_write, thread_fetch

    async def handle(self, request: Request) -> Response:
        nsid = request.path_params["method"]
        header = request.headers.get("atproto-proxy")
        target = await self.target(nsid, header) if is_valid_nsid(nsid) else None
        if target is None:
            return not_implemented(nsid)
        context = self.auth.context(request)
        body = await _body(request)
        if self.read_after_write is not None and self.read_after_write.applies_to(nsid):
            exchanged = await self._exchange(request, nsid, target, context, body)
            return await self._spliced(request, nsid, context.did, *exchanged)
        return await self.forward(request, nsid, target, context, body)

    async def target(self, nsid: str, header: str | None) -> ProxyTarget | None:
        """Where a call to `nsid` goes (the `atproto-proxy` header, else a default), or None."""
        return await call(self.proxy.target, nsid, header)

    async def forward(
        self,
        request: Request,
        nsid: str,
        target: ProxyTarget,
        context: AuthContext,
        body: bytes,
        *,
        content_type: str | None = None,
    ) -> Response:
        """Send the call to `target` as `context`'s account and answer with its response.

        `body` is what to forward (a handler that already parsed the request passes it
        re-encoded, with its `content_type`).
        """
        exchanged = await self._exchange(request, nsid, target, context, body,
                                         content_type=content_type)  # fmt: skip
        status, content, returned = exchanged
        return Response(content, status_code=status, headers=returned)

    async def _exchange(
        self,
        request: Request,
        nsid: str,
        target: ProxyTarget,
        context: AuthContext,
        body: bytes,
        *,
        content_type: str | None = None,
    ) -> tuple[int, bytes, dict[str, str]]:
        token = await call(
            self.proxy.token, context.did, target, nsid,
            privileged=context.privileged,
        )  # fmt: skip
        headers = {name: request.headers[name] for name in FORWARDED_REQUEST_HEADERS
                   if name in request.headers}  # fmt: skip
        if content_type is not None:
            headers["content-type"] = content_type
        headers["authorization"] = f"Bearer {token}"
        url = f"{target.origin}/xrpc/{nsid}"
        query = request.url.query
        send = self._sender(target, request.method, url + (f"?{query}" if query else ""))
        return await call(send, headers, body)

    async def _spliced(
        self,
        request: Request,
        nsid: str,
        requester: str,
        status: int,
        content: bytes,
        returned: dict[str, str],
    ) -> Response:
        """The AppView's answer with `requester`'s unindexed writes, else as it came."""
        rev = returned.get(REPO_REV)
        munged: Munged | None = None
        if rev and returned.get("content-type", "").startswith("application/json"):
            try:
                munged = await call(self._munge, request, nsid, requester, rev, status, content)
            except Exception:  # best effort: the AppView's own answer is still a good one
                log.warning("read-after-write for %s failed", nsid, exc_info=True)
        if munged is None:
            return Response(content, status_code=status, headers=returned)
        headers = {k: v for k, v in returned.items() if k != "content-type"}
        if munged.lag_ms is not None:
            headers["atproto-upstream-lag"] = str(munged.lag_ms)
        return JSONResponse(munged.body, headers=headers)

    def _munge(
        self, request: Request, nsid: str, requester: str, rev: str, status: int, content: bytes
    ) -> Munged | None:
        assert self.read_after_write is not None
        answer: Any = json.loads(content)
        if status == 200 and isinstance(answer, dict):
            return self.read_after_write.munge(nsid, requester, rev, answer)
        not_found = isinstance(answer, dict) and answer.get("error") == "NotFound"
        uri = request.query_params.get("uri")
        if nsid != GET_POST_THREAD or not not_found or not uri or self.thread_fetch is None:
            return None
        params = {k: v for k, v in request.query_params.items() if k == "parentHeight"}
        return self.read_after_write.thread_not_found(
            requester, rev, uri, params, self.thread_fetch
        )

    def _sender(
        self, target: ProxyTarget, method: str, url: str
    ) -> Callable[[dict[str, str], bytes], tuple[int, bytes, dict[str, str]]]:
        client = self._clients[target.configured]

        def send(headers: dict[str, str], body: bytes) -> tuple[int, bytes, dict[str, str]]:
            try:
                with client.stream(method, url, headers=headers, content=body or None) as upstream:
                    content = bytearray()
                    for chunk in upstream.iter_bytes():
                        content += chunk
                        if len(content) > MAX_RESPONSE:
                            raise XrpcError(502, "UpstreamFailure", "Upstream response too large")
                    returned = {name: upstream.headers[name] for name in RETURNED_HEADERS
                                if name in upstream.headers}  # fmt: skip
                    return upstream.status_code, bytes(content), returned
            except httpx.TimeoutException as exc:
                raise XrpcError(504, "UpstreamTimeout", "Upstream service timed out") from exc
            except httpx.HTTPError as exc:
                raise XrpcError(502, "UpstreamFailure", "Upstream service unreachable") from exc

        return send

    def routes(self) -> list[Route]:
        """The catch-all route; it must come after every served method."""
        return [Route("/xrpc/{method}", self.handle, methods=["GET", "POST"])]


def not_implemented(nsid: str) -> Response:
    """The answer for a method with nowhere to go."""
    return error_response(501, "MethodNotImplemented", f"Method not implemented: {nsid}")


async def _body(request: Request) -> bytes:
    if request.method != "POST":
        return b""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise XrpcError(413, "PayloadTooLarge", "request entity too large")
    return bytes(body)
