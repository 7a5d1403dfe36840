"""XRPC query parameters: decode query-string text into typed values, then validate.

Query strings carry only text, so `limit=10` must become `10` and `reverse=true` `True`
before the schema's constraints apply. Decoding is strict where the reference server is
sloppy (it turns `limit=abc` into 0): a value that is not the declared type is an error.
Empty values count as absent, as in the reference server, and undeclared names are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from domain.lexicon.catalog import LexiconCatalog
from domain.lexicon.checks import compile_field
from domain.lexicon.defs import ArrayDef, BooleanDef, IntegerDef, ParamsDef, StringDef, UnknownDef
from domain.lexicon.errors import ValidationError

ParamsCheck = Callable[[Mapping[str, object]], dict[str, Any]]

_INTEGER: Final = re.compile(r"[+-]?[0-9]{1,19}")
_INT64: Final = range(-(2**63), 2**63)


def _decode_boolean(raw: object) -> object:
    if raw == "true":
        return True
    if raw == "false":
        return False
    if type(raw) is bool:
        return raw
    raise ValidationError("must be a boolean")


def _decode_integer(raw: object) -> object:
    if type(raw) is str and _INTEGER.fullmatch(raw) is not None:
        value = int(raw)
        if value in _INT64:
            return value
    elif type(raw) is int:
        return raw
    raise ValidationError("must be an integer")


def _decode_string(raw: object) -> object:
    if type(raw) is not str:
        raise ValidationError("must be a string")
    return raw


def _decode_unknown(raw: object) -> object:
    """`unknown` params have no query-string form to check; they pass through as given."""
    return raw


def _decoder(field: object) -> Callable[[object], object]:
    if isinstance(field, BooleanDef):
        return _decode_boolean
    if isinstance(field, IntegerDef):
        return _decode_integer
    if isinstance(field, StringDef):
        return _decode_string
    return _decode_unknown


def _is_absent(raw: object) -> bool:
    return raw is None or raw == "" or raw == []


def compile_params(catalog: LexiconCatalog, params: ParamsDef | None) -> ParamsCheck:
    """A function from raw query parameters to a dict of typed, validated, defaulted values."""
    if params is None:
        return lambda _raw: {}
    specs = tuple(
        (
            name,
            isinstance(field, ArrayDef),
            _decoder(field.items if isinstance(field, ArrayDef) else field),
            _decode_unknown if isinstance(field, UnknownDef) else compile_field(catalog, field),
            getattr(field, "default", None),
            name in params.required,
        )
        for name, field in params.properties.items()
    )

    def check(raw_params: Mapping[str, object]) -> dict[str, Any]:
        if not isinstance(raw_params, Mapping):
            raise ValidationError("must be a mapping of names to values")
        out: dict[str, Any] = {}
        for name, is_array, decode, validate, default, required in specs:
            raw = raw_params.get(name)
            if _is_absent(raw):
                if required:
                    raise ValidationError(f'must have the property "{name}"')
                if default is not None:
                    out[name] = default
                continue
            try:
                out[name] = validate(_decode(raw, is_array, decode))
            except ValidationError as exc:
                exc.prepend(name)
                raise
        return out

    return check


def _decode(raw: object, is_array: bool, decode: Callable[[object], object]) -> object:
    values = raw if type(raw) is list else [raw]
    if is_array:
        decoded = []
        for index, item in enumerate(values):
            if item == "":
                continue  # `?tag=&tag=x`: empty entries are absent, as in the reference
            try:
                decoded.append(decode(item))
            except ValidationError as exc:
                exc.prepend(str(index))
                raise
        return decoded
    if len(values) != 1:
        raise ValidationError("must be given only once")
    return decode(values[0])
