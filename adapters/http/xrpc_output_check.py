"""Opt-in check of every XRPC JSON response against its method's lexicon output.

`QUIRE_VALIDATE_OUTPUT=1` turns it on (the test servers always run with it). A response that
does not match its schema is a bug of ours; a client must not receive it as if it were valid,
so it is logged with the mismatch and replaced by a 500 `InternalServerError`. Off (the
default), nothing is wrapped and nothing is buffered.

Only successful `application/json` responses of served methods whose output encoding is JSON
are buffered and checked; CARs, blobs and the firehose pass through untouched.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from adapters.http.xrpc_errors import send_error
from domain.data import atjson
from domain.data.errors import DataModelError
from domain.lexicon import LexiconCatalog, ValidationError, validate_output
from domain.lexicon.defs import ProcedureDef, QueryDef
from domain.lexicon.errors import LexiconError

log = logging.getLogger("quire.output")
_PREFIX = "/xrpc/"


def _json_output(catalog: LexiconCatalog, nsid: str) -> bool:
    try:
        endpoint = catalog.resolve(f"{nsid}#main") if nsid in catalog else None
    except LexiconError:
        return False
    if not isinstance(endpoint, QueryDef | ProcedureDef) or endpoint.output is None:
        return False
    return endpoint.output.encoding == "application/json" and endpoint.output.schema is not None


class XrpcOutputCheckMiddleware:
    """Buffer, validate and pass on (or replace) the JSON output of every served method."""

    def __init__(self, app: Any, catalog: LexiconCatalog, served: frozenset[str]) -> None:
        self.app = app
        self.catalog = catalog
        self._checked = frozenset(nsid for nsid in served if _json_output(catalog, nsid))

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        nsid = path[len(_PREFIX) :] if path.startswith(_PREFIX) else ""
        if scope["type"] != "http" or nsid not in self._checked:
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] | None = None
        body = bytearray()

        async def capture(message: dict[str, Any]) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                if message["status"] != 200 or not _is_json(message):
                    start = None
                    await send(message)
                return
            if start is None:  # not checked: stream as it comes
                await send(message)
                return
            body.extend(message.get("body", b""))
            if not message.get("more_body", False):
                await self._finish(nsid, start, bytes(body), send)

        await self.app(scope, receive, capture)

    async def _finish(self, nsid: str, start: dict[str, Any], body: bytes, send: Any) -> None:
        try:
            validate_output(self.catalog, nsid, atjson.from_json(json.loads(body)))
        except (ValidationError, DataModelError, ValueError) as exc:
            log.error("%s answered output that does not match its lexicon: %s", nsid, exc)
            await send_error(send, 500, "InternalServerError", "Internal Server Error")
            return
        await send(start)
        await send({"type": "http.response.body", "body": body})


def _is_json(start: dict[str, Any]) -> bool:
    for name, value in start.get("headers", []):
        if name.lower() == b"content-type":
            return bytes(value).startswith(b"application/json")
    return False
