"""Parse the field types of a lexicon definition (the shared half of `schema`).

`FieldParser` holds the typed readers every part of a document needs and parses the
types that describe values (`string`, `object`, `ref`, ...); `schema` adds documents,
named definitions and the primary types on top.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from domain.lexicon.defs import (
    STRING_FORMATS,
    ArrayDef,
    BlobDef,
    BooleanDef,
    BytesDef,
    CidLinkDef,
    FieldDef,
    IntegerDef,
    ObjectDef,
    RefDef,
    StringDef,
    UnionDef,
    UnknownDef,
)
from domain.lexicon.errors import InvalidLexicon
from domain.lexicon.refs import qualify_ref

_T = TypeVar("_T")
Obj = Mapping[str, Any]

FIELD_TYPES = frozenset(
    (
        *("boolean", "integer", "string", "unknown", "bytes", "cid-link", "blob"),
        *("ref", "union", "array", "object"),
    )
)


def opt(obj: Obj, key: str, kind: type[_T], where: str) -> _T | None:
    """`obj[key]` if it is exactly a `kind`; None if absent or null; else `InvalidLexicon`."""
    value = obj.get(key)
    if value is None:
        return None
    if type(value) is not kind:
        raise InvalidLexicon(f"{where}: {key} must be {kind.__name__}")
    return value


class FieldParser:
    """Reads one definition of a document, tracking where it is for error messages."""

    def __init__(self, doc_id: str, name: str) -> None:
        self.doc_id = doc_id
        self.root = f"{doc_id}#{name}"
        self.is_main = name == "main"

    def fail(self, where: str, problem: str) -> InvalidLexicon:
        return InvalidLexicon(f"{where}: {problem}")

    def obj(self, value: object, where: str) -> Obj:
        if type(value) is not dict:
            raise self.fail(where, "must be an object")
        return value

    def type_of(self, value: object, where: str) -> tuple[Obj, str]:
        obj = self.obj(value, where)
        kind = obj.get("type")
        if type(kind) is not str:
            raise self.fail(where, "type must be a string")
        return obj, kind

    def opt_str(self, obj: Obj, key: str, where: str) -> str | None:
        return opt(obj, key, str, where)

    def opt_bool(self, obj: Obj, key: str, where: str) -> bool | None:
        return opt(obj, key, bool, where)

    def opt_int(self, obj: Obj, key: str, where: str, *, minimum: int | None = None) -> int | None:
        value = opt(obj, key, int, where)
        if value is not None and minimum is not None and value < minimum:
            raise self.fail(where, f"{key} must be at least {minimum}")
        return value

    def opt_list(
        self, obj: Obj, key: str, kind: type[_T], where: str, check: Callable[[_T], bool] | None
    ) -> tuple[_T, ...] | None:
        value = obj.get(key)
        if value is None:
            return None
        if type(value) is not list or any(type(item) is not kind for item in value):
            raise self.fail(where, f"{key} must be an array of {kind.__name__}")
        if check is not None and not all(check(item) for item in value):
            raise self.fail(where, f"{key} has an invalid entry")
        return tuple(value)

    def bounds(self, obj: Obj, low: str, high: str, where: str) -> tuple[int | None, int | None]:
        lo = self.opt_int(obj, low, where, minimum=0)
        hi = self.opt_int(obj, high, where, minimum=0)
        if lo is not None and hi is not None and lo > hi:
            raise self.fail(where, f"{low} is greater than {high}")
        return lo, hi

    def ref(self, ref: object, where: str) -> str:
        if type(ref) is not str:
            raise self.fail(where, "ref must be a string")
        try:
            return qualify_ref(ref, self.doc_id)
        except ValueError as exc:
            raise self.fail(where, str(exc)) from exc

    def exclusive(self, obj: Obj, where: str) -> None:
        if "const" in obj and "default" in obj:
            raise self.fail(where, "const and default are mutually exclusive")

    # -- field types -----------------------------------------------------------------------
    def field(self, obj: Obj, where: str) -> FieldDef:
        kind = obj.get("type")
        if type(kind) is not str or kind not in FIELD_TYPES:
            raise self.fail(where, f"unknown or misplaced type {kind!r}")
        description = self.opt_str(obj, "description", where)
        if kind == "boolean":
            self.exclusive(obj, where)
            return BooleanDef(
                self.opt_bool(obj, "default", where),
                self.opt_bool(obj, "const", where),
                description,
            )
        if kind == "integer":
            return self.integer(obj, where, description)
        if kind == "string":
            return self.string(obj, where, description)
        if kind == "bytes":
            return BytesDef(*self.bounds(obj, "minLength", "maxLength", where), description)
        if kind == "cid-link":
            return CidLinkDef(description)
        if kind == "blob":
            accept = self.opt_list(obj, "accept", str, where, _valid_accept)
            return BlobDef(accept, self.opt_int(obj, "maxSize", where, minimum=0), description)
        if kind == "unknown":
            return UnknownDef(description)
        if kind == "ref":
            return RefDef(self.ref(obj.get("ref"), where), description)
        if kind == "union":
            return self.union(obj, where)
        if kind == "array":
            items, _ = self.type_of(obj.get("items"), f"{where}/items")
            return ArrayDef(
                self.field(items, f"{where}/items"),
                *self.bounds(obj, "minLength", "maxLength", where),
                description,
            )
        return self.object_def(obj, where)

    def integer(self, obj: Obj, where: str, description: str | None) -> IntegerDef:
        self.exclusive(obj, where)
        minimum, maximum = self.opt_int(obj, "minimum", where), self.opt_int(obj, "maximum", where)
        if minimum is not None and maximum is not None and minimum > maximum:
            raise self.fail(where, "minimum is greater than maximum")
        return IntegerDef(
            minimum,
            maximum,
            self.opt_list(obj, "enum", int, where, None),
            self.opt_int(obj, "default", where),
            self.opt_int(obj, "const", where),
            description,
        )

    def string(self, obj: Obj, where: str, description: str | None) -> StringDef:
        self.exclusive(obj, where)
        fmt = self.opt_str(obj, "format", where)
        if fmt is not None and fmt not in STRING_FORMATS:
            raise self.fail(where, f"unknown string format {fmt!r}")
        min_length, max_length = self.bounds(obj, "minLength", "maxLength", where)
        min_graphemes, max_graphemes = self.bounds(obj, "minGraphemes", "maxGraphemes", where)
        return StringDef(
            format=fmt,
            min_length=min_length,
            max_length=max_length,
            min_graphemes=min_graphemes,
            max_graphemes=max_graphemes,
            known_values=self.opt_list(obj, "knownValues", str, where, None),
            enum=self.opt_list(obj, "enum", str, where, None),
            default=self.opt_str(obj, "default", where),
            const=self.opt_str(obj, "const", where),
            description=description,
        )

    def union(self, obj: Obj, where: str) -> UnionDef:
        refs = obj.get("refs")
        if type(refs) is not list:
            raise self.fail(where, "refs must be an array")
        closed = bool(self.opt_bool(obj, "closed", where))
        if closed and not refs:
            raise self.fail(where, "a closed union needs at least one ref")
        qualified = tuple(self.ref(ref, where) for ref in refs)
        return UnionDef(qualified, closed, self.opt_str(obj, "description", where))

    def object_def(self, obj: Obj, where: str) -> ObjectDef:
        props_raw = self.obj(obj.get("properties"), f"{where}/properties")
        props: dict[str, FieldDef] = {}
        for name, prop_raw in props_raw.items():
            prop, _ = self.type_of(prop_raw, f"{where}/properties/{name}")
            props[name] = self.field(prop, f"{where}/properties/{name}")
        return ObjectDef(
            props,
            self.required(obj, props, "required", where),
            self.required(obj, props, "nullable", where),
            self.opt_str(obj, "description", where),
        )

    def required(
        self, obj: Obj, props: Mapping[str, object], key: str, where: str
    ) -> tuple[str, ...]:
        names = self.opt_list(obj, key, str, where, None) or ()
        for name in names:
            if name not in props:
                raise self.fail(where, f"{key} property {name!r} is not defined")
        return names


def _valid_accept(pattern: str) -> bool:
    """`type/subtype`, `type/*` or `*/*`: no bare `*`, no partial globs like `text/ht*`."""
    major, slash, minor = pattern.partition("/")
    if not slash or not major or not minor or "/" in minor:
        return False
    if major == "*":
        return minor == "*"
    return minor == "*" or "*" not in minor
