"""String validation: const/enum, UTF-8 byte lengths, grapheme counts and formats.

Length checks are the hot path of record validation (every post's text), so cheap bounds
come first: code points bound UTF-8 bytes (x1..x4) and graphemes (<= code points), which
usually settles the check without encoding or segmenting the string.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from domain.lexicon.defs import StringDef
from domain.lexicon.errors import ValidationError
from domain.lexicon.graphemes import grapheme_count
from domain.syntax import (
    is_valid_at_identifier,
    is_valid_at_uri,
    is_valid_cid_string,
    is_valid_datetime,
    is_valid_did,
    is_valid_handle,
    is_valid_language,
    is_valid_nsid,
    is_valid_record_key,
    is_valid_tid,
    is_valid_uri,
)

FORMATS: Final[dict[str, tuple[Callable[[str], bool], str]]] = {
    "datetime": (
        is_valid_datetime,
        "must be an valid atproto datetime (both RFC-3339 and ISO-8601)",
    ),
    "uri": (is_valid_uri, "must be a uri"),
    "at-uri": (is_valid_at_uri, "must be a valid at-uri"),
    "did": (is_valid_did, "must be a valid did"),
    "handle": (is_valid_handle, "must be a valid handle"),
    "at-identifier": (is_valid_at_identifier, "must be a valid did or a handle"),
    "nsid": (is_valid_nsid, "must be a valid nsid"),
    "cid": (is_valid_cid_string, "must be a cid string"),
    "language": (is_valid_language, "must be a well-formed BCP 47 language tag"),
    "tid": (is_valid_tid, "must be a valid TID"),
    "record-key": (is_valid_record_key, "must be a valid Record Key"),
}


def utf8_length(text: str) -> int:
    """UTF-8 byte length; lone surrogates (possible from JSON) count as 3 bytes, not errors."""
    return len(text.encode("utf-8", "surrogatepass"))


def compile_string(string: StringDef) -> Callable[[Any], Any]:
    """The validator closure for one string definition."""
    const = string.const
    enum = frozenset(string.enum) if string.enum is not None else None
    enum_text = "|".join(string.enum or ())
    min_len, max_len = string.min_length, string.max_length
    min_graph, max_graph = string.min_graphemes, string.max_graphemes
    has_len = min_len is not None or max_len is not None
    has_graph = min_graph is not None or max_graph is not None
    fmt = FORMATS[string.format] if string.format is not None else None

    def check(value: Any) -> Any:
        if type(value) is not str:
            raise ValidationError("must be a string")
        if const is not None and value != const:
            raise ValidationError(f"must be {const}")
        if enum is not None and value not in enum:
            raise ValidationError(f"must be one of ({enum_text})")
        if has_len:
            _check_length(value, min_len, max_len)
        if has_graph:
            _check_graphemes(value, min_graph, max_graph)
        if fmt is not None and not fmt[0](value):
            raise ValidationError(fmt[1])
        return value

    return check


def _check_length(value: str, low: int | None, high: int | None) -> None:
    chars = len(value)
    if high is not None and chars * 4 > high:
        size = chars if chars > high else utf8_length(value)
        if size > high:
            raise ValidationError(f"must not be longer than {high} UTF-8 bytes")
    if low is not None and chars < low and utf8_length(value) < low:
        raise ValidationError(f"must not be shorter than {low} UTF-8 bytes")


def _check_graphemes(value: str, low: int | None, high: int | None) -> None:
    chars = len(value)
    if low is not None and chars < low:
        raise ValidationError(f"must not be shorter than {low} graphemes")
    over_high = high is not None and chars > high  # else graphemes <= code points <= high
    exact = value.isascii() and "\r" not in value  # then graphemes == code points >= low
    if not over_high and (low is None or exact):
        return
    count = grapheme_count(value)
    if high is not None and count > high:
        raise ValidationError(f"must not be longer than {high} graphemes")
    if low is not None and count < low:
        raise ValidationError(f"must not be shorter than {low} graphemes")
