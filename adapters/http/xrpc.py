"""Small XRPC helpers over Starlette: params, JSON bodies with limits, thread offloading."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from adapters.http.error_mapping import to_xrpc
from adapters.http.xrpc_errors import XrpcError, invalid_request
from adapters.lexicon_files import default_catalog
from domain.data import atjson
from domain.data.errors import DataModelError
from domain.lexicon.errors import LexiconError, ValidationError
from domain.lexicon.validate import validate_input

T = TypeVar("T")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
"""A JSON escape of a UTF-16 surrogate: paired ones decode to one character, lone ones do not."""

MAX_JSON_BODY = 1_100_000


def param(request: Request, name: str, *, required: bool = True) -> str | None:
    """A query parameter (InvalidRequest when a required one is missing)."""
    value = request.query_params.get(name)
    if value is None and required:
        raise invalid_request(f'Error: Params must have the property "{name}"')
    return value


def text_field(body: dict[str, Any], name: str) -> str:
    """A required string property of a JSON input (400 otherwise)."""
    value = body.get(name)
    if type(value) is not str:
        raise invalid_request(f"Input/{name} must be a string")
    return value


def optional_text_field(body: dict[str, Any], name: str) -> str | None:
    """A string property of a JSON input that may be absent (or null)."""
    return None if body.get(name) is None else text_field(body, name)


def int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    """An integer parameter within [low, high]."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise invalid_request(f"Error: {name} must be an integer") from exc
    if not low <= value <= high:
        raise invalid_request(f"Error: {name} must be between {low} and {high}")
    return value


def bool_param(request: Request, name: str) -> bool:
    """A boolean parameter ("true"/"false")."""
    raw = request.query_params.get(name)
    if raw is None:
        return False
    if raw not in ("true", "false", "1", "0"):
        raise invalid_request(f"Error: {name} must be a boolean")
    return raw in ("true", "1")


async def json_body(request: Request, limit: int = MAX_JSON_BODY) -> dict[str, Any]:
    """The request's JSON object body, size limited (413) and parsed strictly (400)."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise XrpcError(413, "PayloadTooLarge", "request entity too large")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise XrpcError(413, "PayloadTooLarge", "request entity too large")
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid_request("Request body is not valid JSON") from exc
    if type(value) is not dict:
        raise invalid_request("Request body must be a JSON object")
    if _SURROGATE_ESCAPE.search(body) and _has_lone_surrogate(value):
        raise invalid_request("Request body has a lone UTF-16 surrogate: not valid Unicode text")
    # The scope's path, not `request.url`: building a URL object costs more than the check.
    _check_input(request.scope["path"].removeprefix("/xrpc/"), value)
    return value


def _has_lone_surrogate(value: Any) -> bool:
    """Does any string (or key) in a parsed JSON value hold a surrogate no pair absorbed?

    JSON lets `"\\ud800"` through, but such text cannot be UTF-8, so it could be neither
    stored, nor signed in a record, nor sent on: refused at the edge, before it reaches a
    password hash, an email field or the log.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) is str:
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif type(item) is dict:
            stack.extend(item)
            stack.extend(item.values())
        elif type(item) is list:
            stack.extend(item)
    return False


def _check_input(nsid: str, value: dict[str, Any]) -> None:
    """Validate a procedure's JSON input against its lexicon (ADR 0007); 400 on mismatch.

    Records inside the input are validated separately (by collection) when written, so the
    schemas' `unknown` record fields pass here untouched.
    """
    catalog = default_catalog()
    if nsid not in catalog:
        return
    try:
        validate_input(catalog, nsid, atjson.from_json(value))
    except DataModelError as exc:
        raise invalid_request(f"Input is not valid atproto data: {exc}") from exc
    except ValidationError as exc:
        raise invalid_request(str(exc)) from exc
    except LexiconError:
        return  # not a JSON procedure (e.g. a binary upload); the handler checks its own body


def data_model(value: Any, what: str) -> Any:
    """atproto JSON -> data model, as a 400 on failure."""
    try:
        return atjson.from_json(value)
    except DataModelError as exc:
        raise invalid_request(f"Invalid {what}: {exc}") from exc


async def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run synchronous application code off the event loop, mapping known errors."""
    with _as_xrpc_errors():
        return await run_in_threadpool(fn, *args, **kwargs)


async def read(request: Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """A bounded local read (a few indexed rows): inline on embedded SQLite, else as `call`.

    An indexed SQLite read takes tens of microseconds and never waits on a network, while a
    hop to a worker thread and back costs about 250 µs of CPU per call here (measured on
    getRecord), so on SQLite the read runs on the event loop, as the reference PDS reads
    its SQLite synchronously on its own loop. Against Postgres every read waits on a round
    trip, so it goes to the threadpool. The app says which with `state.inline_reads`.
    """
    if not getattr(request.app.state, "inline_reads", False):
        return await call(fn, *args, **kwargs)
    with _as_xrpc_errors():
        return fn(*args, **kwargs)


@contextmanager
def _as_xrpc_errors() -> Iterator[None]:
    """Known application errors leave as their XRPC errors; anything else as it is."""
    try:
        yield
    except Exception as exc:
        mapped = to_xrpc(exc)
        if mapped is None:
            raise
        raise mapped from exc


def ok(body: dict[str, Any]) -> JSONResponse:
    """A 200 JSON response."""
    return JSONResponse(body)
