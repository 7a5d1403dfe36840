"""Validate data-model values against a catalog: records, XRPC bodies, params, messages.

Every entry point compiles its definition once per catalog (cached in `catalog.compiled`)
and then only runs closures. Values are data-model values (`domain.data.atjson.from_json`
output or decoded DAG-CBOR): links are `CID`, bytes are `bytes`. Each returns the value,
with schema defaults filled in where a property was absent (a copy; input is not mutated).

Errors: `ValidationError` for a value that does not match; `LexiconNotFound` when the NSID
(or a ref the value reaches) is not in the catalog; `LexiconError` when the NSID names the
wrong kind of definition.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from domain.lexicon.catalog import LexiconCatalog
from domain.lexicon.checks import Check, compile_field, compile_ref, record_check
from domain.lexicon.defs import (
    BodyDef,
    ObjectDef,
    ProcedureDef,
    QueryDef,
    RecordDef,
    SubscriptionDef,
)
from domain.lexicon.errors import LexiconError, ValidationError
from domain.lexicon.params import compile_params
from domain.lexicon.refs import display_ref, qualify_ref
from domain.syntax import is_valid_nsid, is_valid_record_key, is_valid_tid

MAX_VALUE_DEPTH: Final = 256
"""Containers a validated value may nest. The checks recurse once per level; run from source,
Python's recursion limit stops them near 300 levels with a `RecursionError`, but compiled
(ADR 0018) nothing would stop them before the C stack ends. Data-model values are at most
129 deep (`dag_cbor.MAX_DEPTH`); only a raw JSON body can reach this."""


def _too_deep(value: Any) -> bool:
    """Does `value` nest more than `MAX_VALUE_DEPTH` lists and maps? (No recursion.)"""
    if type(value) is not dict and type(value) is not list:
        return False
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > MAX_VALUE_DEPTH:
            return True
        for child in item.values() if type(item) is dict else item:
            if type(child) is dict or type(child) is list:
                pending.append((child, depth + 1))
    return False


def _run(check: Callable[[Any], Any], root: str, value: Any) -> Any:
    if _too_deep(value):
        raise ValidationError("is nested too deeply", (root,))
    try:
        return check(value)
    except ValidationError as exc:
        exc.prepend(root)
        raise
    except RecursionError:
        raise ValidationError("is nested too deeply", (root,)) from None


def _cached(catalog: LexiconCatalog, key: tuple[str, str], build: Callable[[], Any]) -> Any:
    found = catalog.compiled.get(key)
    if found is None:
        found = catalog.compiled[key] = build()
    return found


def validate_record(catalog: LexiconCatalog, nsid: str, value: Any) -> Any:
    """Validate a record of collection `nsid`; its `$type` must be exactly `nsid`."""
    check = _cached(
        catalog,
        ("record", nsid),
        lambda: record_check(catalog, nsid, catalog.main(nsid, RecordDef)),
    )
    return _run(check, "Record", value)


def validate_value(catalog: LexiconCatalog, ref: str, value: Any) -> Any:
    """Validate a value against any data definition, e.g. `app.bsky.actor.defs#profileView`."""
    if ref.startswith("#"):
        raise LexiconError(f"{ref} needs an NSID before the #")
    canonical = ref if "#" in ref else f"{ref}#main"
    root = "Record" if isinstance(catalog.resolve(canonical), RecordDef) else "Object"
    return _run(compile_ref(catalog, canonical), root, value)


def validate_input(catalog: LexiconCatalog, nsid: str, value: Any) -> Any:
    """Validate the JSON body of procedure `nsid` (anything goes if it declares no schema)."""
    check = _cached(
        catalog, ("input", nsid), lambda: _body(catalog, catalog.main(nsid, ProcedureDef).input)
    )
    return _run(check, "Input", value)


def validate_output(catalog: LexiconCatalog, nsid: str, value: Any) -> Any:
    """Validate the JSON response body of query or procedure `nsid`."""

    def build() -> Check:
        endpoint = _endpoint(catalog, nsid)
        if isinstance(endpoint, SubscriptionDef):
            raise LexiconError(f"{nsid} is a subscription, which has no output body")
        return _body(catalog, endpoint.output)

    return _run(_cached(catalog, ("output", nsid), build), "Output", value)


def validate_params(
    catalog: LexiconCatalog, nsid: str, params: Mapping[str, str | list[str]]
) -> dict[str, Any]:
    """Decode and validate query parameters of `nsid`: typed values, defaults applied."""

    def build() -> Check:
        return compile_params(catalog, _endpoint(catalog, nsid).parameters)

    result: dict[str, Any] = _run(_cached(catalog, ("params", nsid), build), "Params", params)
    return result


def validate_message(
    catalog: LexiconCatalog, nsid: str, value: Any, message_type: str | None = None
) -> Any:
    """Validate a message of subscription `nsid`.

    Event-stream frames name their type in the frame header (`t: "#commit"`), not in the
    body, so `message_type` may supply it; without it the body must carry `$type`.
    """
    union = catalog.main(nsid, SubscriptionDef).message.schema
    if message_type is None:
        check = _cached(catalog, ("message", nsid), lambda: compile_field(catalog, union))
        return _run(check, "Message", value)
    try:
        ref = qualify_ref(message_type, nsid)
    except ValueError as exc:
        raise ValidationError(
            f"type {message_type!r} is not a valid reference", ("Message",)
        ) from exc
    if ref not in union.refs:
        if union.closed:
            expected = ", ".join(display_ref(r) for r in union.refs)
            raise ValidationError(f"type must be one of {expected}", ("Message",))
        return value
    return _run(
        _cached(catalog, ("message-type", ref), lambda: _message(catalog, ref)), "Message", value
    )


def _endpoint(catalog: LexiconCatalog, nsid: str) -> QueryDef | ProcedureDef | SubscriptionDef:
    found = catalog.resolve(f"{nsid}#main")
    if not isinstance(found, QueryDef | ProcedureDef | SubscriptionDef):
        raise LexiconError(f"{nsid} is not a query, procedure or subscription")
    return found


def _message(catalog: LexiconCatalog, ref: str) -> Check:
    target = catalog.resolve(ref)
    obj = target.record if isinstance(target, RecordDef) else target
    if not isinstance(obj, ObjectDef):
        raise LexiconError(f"message type {ref} is not an object")
    return compile_field(catalog, obj)


def _body(catalog: LexiconCatalog, body: BodyDef | None) -> Check:
    """A body schema (object, ref or union) whose value must also be a JSON object."""
    if body is None or body.schema is None:
        return _anything
    inner = compile_field(catalog, body.schema)

    def check(value: Any) -> Any:
        if type(value) is not dict:
            raise ValidationError("must be an object")
        return inner(value)

    return check


def _anything(value: Any) -> Any:
    return value


def record_key_type(catalog: LexiconCatalog, nsid: str) -> str:
    """The record key type of collection `nsid`: `tid`, `nsid`, `any` or `literal:<key>`."""
    return catalog.record_key_type(nsid)


def validate_record_key(catalog: LexiconCatalog, nsid: str, rkey: str) -> None:
    """Check `rkey` is a record key that collection `nsid`'s key type allows."""
    key_type = catalog.record_key_type(nsid)
    if not is_valid_record_key(rkey):
        raise ValidationError("must be a valid Record Key", ("rkey",))
    if key_type == "tid" and not is_valid_tid(rkey):
        raise ValidationError("must be a valid TID", ("rkey",))
    if key_type == "nsid" and not is_valid_nsid(rkey):
        raise ValidationError("must be a valid nsid", ("rkey",))
    literal = key_type.removeprefix("literal:")
    if literal != key_type and rkey != literal:
        raise ValidationError(f"must be {literal}", ("rkey",))
