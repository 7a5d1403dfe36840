"""XRPC query parameters checked against their lexicon before any handler runs.

The reference server validates every query's parameters with the method's lexicon and answers
a mismatch with 400 `InvalidRequest` ("Error: Params/handle must be a valid handle"), so a
malformed input never reaches a handler that would misread it (a bad handle used to come back
as `HandleNotFound`). Handlers still read their parameters themselves; this only refuses.

A pure ASGI middleware: the compiled check per NSID is cached in the catalog, and requests
that are not GET queries under `/xrpc/` pass straight through.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from adapters.http.xrpc_errors import send_error
from domain.lexicon import LexiconCatalog, ValidationError, validate_params
from domain.lexicon.defs import QueryDef
from domain.lexicon.errors import LexiconError

_PREFIX = "/xrpc/"


def _query_params(query_string: bytes) -> dict[str, str | list[str]]:
    """Query-string pairs; a name given more than once becomes a list (array params).

    Parsed exactly as Starlette's `request.query_params` parses them (percent-escapes as
    UTF-8, raw bytes as latin-1), so what is validated here is what the handler reads.
    """
    params: dict[str, str | list[str]] = {}
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        seen = params.get(name)
        if seen is None:
            params[name] = value
        elif isinstance(seen, list):
            seen.append(value)
        else:
            params[name] = [seen, value]
    return params


class XrpcParamsMiddleware:
    """Refuse a GET of a lexicon query whose parameters do not match its schema."""

    def __init__(self, app: Any, catalog: LexiconCatalog, served: frozenset[str]) -> None:
        """`served`: the NSIDs with a route here; any other is the router's 501 to answer."""
        self.app = app
        self.catalog = catalog
        self._queries = frozenset(nsid for nsid in served if _is_query(catalog, nsid))

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in ("GET", "HEAD")
            and scope["path"].startswith(_PREFIX)
        ):
            nsid = scope["path"][len(_PREFIX) :]
            if nsid in self._queries:
                try:
                    validate_params(self.catalog, nsid, _query_params(scope["query_string"]))
                except ValidationError as exc:
                    await send_error(send, 400, "InvalidRequest", f"Error: {exc}")
                    return
        await self.app(scope, receive, send)


def _is_query(catalog: LexiconCatalog, nsid: str) -> bool:
    try:
        return nsid in catalog and isinstance(catalog.resolve(f"{nsid}#main"), QueryDef)
    except LexiconError:
        return False
