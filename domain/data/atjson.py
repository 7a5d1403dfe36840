"""atproto JSON <-> data model: `$link` objects become CIDs, `$bytes` objects become bytes.

JSON has no bytes or links, so atproto encodes them as single-key objects. The conversion is
strict in the directions the data-model spec asks: integer-valued floats (`123.0`) are
integers, other floats are rejected, `$type` must be a non-empty string, blob objects must
be complete. Legacy blobs (`{cid, mimeType}`) are read as plain maps; quire never writes them.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
from typing import Any

from domain.data.cid import CID
from domain.data.dag_cbor import MAX_DEPTH, Value
from domain.data.errors import DataModelError, InvalidCid

_BLOB_KEYS = frozenset(("$type", "ref", "mimeType", "size"))


def from_json(value: Any, *, top_level_object: bool = True) -> Value:
    """Convert parsed JSON into a data-model value (raise `DataModelError` if invalid)."""
    if top_level_object and type(value) is not dict:
        raise DataModelError("top-level value must be an object")
    try:
        return _from_json(value, 0)
    except RecursionError as exc:
        raise DataModelError("value nested too deeply") from exc


def _from_json(value: Any, depth: int) -> Value:
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return value
    if kind is int:
        if not -(2**63) <= value < 2**63:
            raise DataModelError("integer out of the 64-bit signed range")
        return value
    if kind is float:
        if value.is_integer() and abs(value) < 2**53:
            return int(value)
        raise DataModelError("floats are not allowed in the atproto data model")
    if depth > MAX_DEPTH:
        raise DataModelError(f"nesting deeper than {MAX_DEPTH}")
    if kind is list:
        return [_from_json(item, depth + 1) for item in value]
    if kind is dict:
        return _object_from_json(value, depth)
    raise DataModelError(f"{kind.__name__} is not a JSON type")


def _object_from_json(obj: dict[str, Any], depth: int) -> Value:
    if "$link" in obj:
        link = obj["$link"]
        if len(obj) != 1 or type(link) is not str:
            raise DataModelError("$link must be the only key and a string")
        try:
            return CID.parse(link)
        except InvalidCid as exc:
            raise DataModelError(f"invalid $link: {exc}") from exc
    if "$bytes" in obj:
        raw = obj["$bytes"]
        if len(obj) != 1 or type(raw) is not str:
            raise DataModelError("$bytes must be the only key and a string")
        return _b64decode(raw)
    out: dict[str, Value] = {}
    for key, item in obj.items():
        if type(key) is not str:
            raise DataModelError("object keys must be strings")
        out[key] = _from_json(item, depth + 1)
    if "$type" in out:
        type_name = out["$type"]
        if type(type_name) is not str or not type_name:
            raise DataModelError("$type must be a non-empty string")
        if type_name == "blob":
            check_blob(out)
    return out


def check_blob(obj: dict[str, Value]) -> None:
    """Check a `$type: blob` object has a CID ref, a string mimeType and an integer size."""
    if set(obj) != _BLOB_KEYS:
        raise DataModelError("blob must have exactly $type, ref, mimeType and size")
    if type(obj["ref"]) is not CID:
        raise DataModelError("blob ref must be a CID link")
    if type(obj["mimeType"]) is not str or not obj["mimeType"]:
        raise DataModelError("blob mimeType must be a non-empty string")
    if type(obj["size"]) is not int or obj["size"] < 0:
        raise DataModelError("blob size must be a non-negative integer")


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DataModelError("$bytes is not valid base64") from exc


def to_json(value: Value) -> Any:
    """Convert a data-model value into JSON-ready Python (links and bytes as objects)."""
    kind = type(value)
    if kind is dict:
        return {key: to_json(item) for key, item in value.items()}
    if kind is list:
        return [to_json(item) for item in value]
    if kind is CID:
        return {"$link": str(value)}
    if kind is bytes:
        return {"$bytes": base64.b64encode(value).decode("ascii").rstrip("=")}
    return value


def blob_refs(value: Value) -> list[CID]:
    """Every blob CID referenced by a record, including legacy `{cid, mimeType}` blobs."""
    found: list[CID] = []
    _collect_blobs(value, found)
    return found


def _collect_blobs(value: Value, found: list[CID]) -> None:
    kind = type(value)
    if kind is list:
        for item in value:
            _collect_blobs(item, found)
    elif kind is dict:
        if value.get("$type") == "blob" and type(value.get("ref")) is CID:
            found.append(value["ref"])
            return
        legacy = value.get("cid")
        if type(legacy) is str and type(value.get("mimeType")) is str and len(value) == 2:
            with contextlib.suppress(InvalidCid):
                found.append(CID.parse(legacy))
            return
        for item in value.values():
            _collect_blobs(item, found)
