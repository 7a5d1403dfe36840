"""The PLC directory HTTP API over the embedded `PlcDirectory`.

Paths, status codes and bodies follow the directory API (did-method-plc `routes.ts` and its
OpenAPI spec): errors are `{"message": ...}`, a refused operation is 400 with the rule that
refused it, an unknown DID 404 `DID not registered`, and a tombstoned DID 410 `DID not
available` on `/:did` and `/:did/data` (the OpenAPI spec and plc.directory say 410; the
reference server's code answers 404 — see the module note on `TOMBSTONE_STATUS`). The logs
of a tombstoned DID stay readable. `/export` answers JSON lines.

`plc_routes()` is relative to wherever it is mounted (`/plc` inside the PDS); `plc_app()` is
the same routes as a standalone ASGI app.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from application.plc_directory.app import MAX_EXPORT_COUNT, PlcDirectory
from application.plc_directory.errors import (
    DidNotAvailable,
    DidNotRegistered,
    InvalidExportCursor,
)
from domain.plc.errors import PlcError

DID_DOCUMENT_TYPE: Final = "application/did+ld+json"
JSONLINES_TYPE: Final = "application/jsonlines"
MAX_BODY_BYTES: Final = 100_000  # express.json()'s default limit in the reference server
TOMBSTONE_STATUS: Final = 410
"""410 Gone, as the directory's OpenAPI spec documents; the reference code sends 404."""
VERSION: Final = "quire-plc"


def _message(status: int, message: str) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status)


def _json(value: Any, media_type: str = "application/json") -> Response:
    body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(body, media_type=media_type)


class PlcRoutes:
    """Request handlers over one directory."""

    def __init__(self, directory: PlcDirectory) -> None:
        self.directory = directory

    def routes(self) -> list[Route]:
        """Export and health first: `/{did}` would otherwise swallow them."""
        return [
            Route("/_health", self.health, methods=["GET"]),
            Route("/export", self.export, methods=["GET"]),
            Route("/{did}", self.document, methods=["GET"]),
            Route("/{did}", self.submit, methods=["POST"]),
            Route("/{did}/data", self.data, methods=["GET"]),
            Route("/{did}/log", self.operation_log, methods=["GET"]),
            Route("/{did}/log/audit", self.audit_log, methods=["GET"]),
            Route("/{did}/log/last", self.last_op, methods=["GET"]),
        ]

    async def health(self, request: Request) -> Response:
        return _json({"version": VERSION})

    async def export(self, request: Request) -> Response:
        count_param = request.query_params.get("count")
        after_param = request.query_params.get("after") or None
        try:
            count = int(count_param) if count_param else MAX_EXPORT_COUNT
        except ValueError:
            return _message(400, "Invalid count parameter")
        after: str | int | None = after_param
        if after_param is not None and after_param.isascii() and after_param.isdigit():
            after = int(after_param)
        try:
            lines = await run_in_threadpool(self.directory.export, after, count)
        except InvalidExportCursor as exc:
            return _message(400, str(exc))
        body = "\n".join(json.dumps(line, separators=(",", ":")) for line in lines)
        return Response(body.encode("utf-8"), media_type=JSONLINES_TYPE)

    async def document(self, request: Request) -> Response:
        did = request.path_params["did"]
        return await self._read(lambda: _json(self.directory.document(did), DID_DOCUMENT_TYPE))

    async def data(self, request: Request) -> Response:
        did = request.path_params["did"]
        return await self._read(lambda: _json(self.directory.data(did).to_value()))

    async def operation_log(self, request: Request) -> Response:
        did = request.path_params["did"]
        return await self._read(
            lambda: _json([op.to_value() for op in self.directory.operation_log(did)])
        )

    async def audit_log(self, request: Request) -> Response:
        did = request.path_params["did"]
        return await self._read(
            lambda: _json([entry.to_value() for entry in self.directory.audit_log(did)])
        )

    async def last_op(self, request: Request) -> Response:
        did = request.path_params["did"]
        return await self._read(lambda: _json(self.directory.last_op(did).to_value()))

    async def submit(self, request: Request) -> Response:
        did = request.path_params["did"]
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return _message(413, "request entity too large")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                return _message(413, "request entity too large")
        try:
            op_json = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return _message(400, "request body is not valid JSON")
        try:
            await run_in_threadpool(self.directory.submit, did, op_json)
        except PlcError as exc:
            return _message(400, str(exc))
        return PlainTextResponse("OK")

    async def _read(self, render: Callable[[], Response]) -> Response:
        try:
            response: Response = await run_in_threadpool(render)
        except DidNotRegistered as exc:
            return _message(404, str(exc))
        except DidNotAvailable as exc:
            return _message(TOMBSTONE_STATUS, str(exc))
        return response


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else "Internal Server Error"
    return _message(status, str(detail))


def plc_routes(directory: PlcDirectory) -> list[Route]:
    """The directory API's routes, relative to their mount point."""
    return PlcRoutes(directory).routes()


def plc_app(directory: PlcDirectory) -> Starlette:
    """The directory API as an ASGI app: mount it (`Mount("/plc", app=...)`) or serve it."""
    return Starlette(
        routes=plc_routes(directory),
        exception_handlers={HTTPException: _http_error, Exception: _http_error},
    )
