"""Compile field definitions into validator closures, once per catalog.

Interpreting schema dataclasses on every value costs a dispatch per field; a closure that
captured its constraints up front only does the comparisons that apply. Each check takes a
value and returns it (or a copy with defaults filled in) or raises `ValidationError` with a
path relative to itself; containers prepend their key while the error unwinds. Refs compile
lazily on first use, which handles recursive schemas and refs to documents not yet loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeAlias

from domain.data.cid import CID
from domain.lexicon.catalog import LexiconCatalog
from domain.lexicon.defs import (
    ArrayDef,
    BlobDef,
    BooleanDef,
    BytesDef,
    CidLinkDef,
    FieldDef,
    IntegerDef,
    ObjectDef,
    RecordDef,
    RefDef,
    StringDef,
    UnionDef,
    UnknownDef,
)
from domain.lexicon.errors import InvalidLexicon, ValidationError
from domain.lexicon.refs import display_ref, type_names
from domain.lexicon.strings import compile_string

Check: TypeAlias = Callable[[Any], Any]

_MISSING: Final[Any] = object()
_DATA_DEFS: Final = (
    BooleanDef,
    IntegerDef,
    StringDef,
    BytesDef,
    CidLinkDef,
    BlobDef,
    ArrayDef,
    ObjectDef,
)


def compile_field(catalog: LexiconCatalog, field: FieldDef) -> Check:
    """The validator for one (inline) field definition."""
    if isinstance(field, StringDef):
        return compile_string(field)
    if isinstance(field, ObjectDef):
        return _object(catalog, field)
    if isinstance(field, RefDef):
        return _ref(catalog, field.ref)
    if isinstance(field, UnionDef):
        return _union(catalog, field)
    if isinstance(field, ArrayDef):
        return _array(catalog, field)
    if isinstance(field, IntegerDef):
        return _integer(field)
    if isinstance(field, BooleanDef):
        return _boolean(field)
    if isinstance(field, BlobDef):
        return _blob(field)
    if isinstance(field, BytesDef):
        return _bytes(field)
    if isinstance(field, CidLinkDef):
        return _cid_link
    if isinstance(field, UnknownDef):
        return _unknown
    raise InvalidLexicon(f"{type(field).__name__} does not describe a value")


def compile_ref(catalog: LexiconCatalog, ref: str) -> Check:
    """The validator for the named definition at canonical `ref` (cached in the catalog)."""
    key = ("ref", ref)
    found: Check | None = catalog.compiled.get(key)
    if found is None:
        target = catalog.resolve(ref)
        if isinstance(target, RecordDef):
            found = record_check(catalog, display_ref(ref), target)
        elif isinstance(target, _DATA_DEFS):
            found = compile_field(catalog, target)
        else:
            raise InvalidLexicon(f"{ref} is a {type(target).__name__}, which holds no data")
        catalog.compiled[key] = found
    return found


def record_check(catalog: LexiconCatalog, nsid: str, record: RecordDef) -> Check:
    """A record is its object schema plus a `$type` naming the record's NSID."""
    check_object = _object(catalog, record.record)

    def check(value: Any) -> Any:
        if type(value) is not dict:
            raise ValidationError("must be an object")
        if value.get("$type") != nsid:
            raise ValidationError(f"must be {nsid}", ("$type",))
        return check_object(value)

    return check


def _variant(catalog: LexiconCatalog, ref: str) -> Check:
    """A union variant: an object, or a record whose `$type` the union already matched."""
    key = ("variant", ref)
    found: Check | None = catalog.compiled.get(key)
    if found is None:
        target = catalog.resolve(ref)
        if isinstance(target, RecordDef):
            found = _object(catalog, target.record)
        elif isinstance(target, ObjectDef):
            found = _object(catalog, target)
        else:
            raise InvalidLexicon(f"union variant {ref} is not an object or record")
        catalog.compiled[key] = found
    return found


def _ref(catalog: LexiconCatalog, ref: str) -> Check:
    target: Check | None = None

    def check(value: Any) -> Any:
        nonlocal target
        if target is None:
            target = compile_ref(catalog, ref)
        return target(value)

    return check


def _union(catalog: LexiconCatalog, union: UnionDef) -> Check:
    variants = {name: ref for ref in union.refs for name in type_names(ref)}
    compiled: dict[str, Check] = {}
    closed = union.closed
    expected = ", ".join(display_ref(ref) for ref in union.refs)

    def check(value: Any) -> Any:
        if type(value) is not dict or type(value.get("$type")) is not str:
            raise ValidationError('must be an object which includes the "$type" property')
        ref = variants.get(value["$type"])
        if ref is None:
            if closed:
                raise ValidationError(f"must be one of {expected}", ("$type",))
            if not value["$type"]:
                raise ValidationError("must not be empty", ("$type",))
            return value  # open union: a type this schema does not know is allowed
        variant = compiled.get(ref)
        if variant is None:
            variant = compiled[ref] = _variant(catalog, ref)
        return variant(value)

    return check


def _object(catalog: LexiconCatalog, obj: ObjectDef) -> Check:
    props = tuple(
        (
            name,
            compile_field(catalog, field),
            _default_of(field),
            name in obj.required,
            name in obj.nullable,
        )
        for name, field in obj.properties.items()
    )

    def check(value: Any) -> Any:
        if type(value) is not dict:
            raise ValidationError("must be an object")
        out = value
        for name, prop_check, default, required, nullable in props:
            item = value.get(name, _MISSING)
            if item is _MISSING:
                if required:
                    raise ValidationError(f'must have the property "{name}"')
                if default is _MISSING:
                    continue
                new = default
            elif item is None and nullable:
                continue
            else:
                try:
                    new = prop_check(item)
                except ValidationError as exc:
                    exc.prepend(name)
                    raise
                if new is item:
                    continue
            if out is value:
                out = dict(value)
            out[name] = new
        return out

    return check


def _default_of(field: FieldDef) -> Any:
    if isinstance(field, BooleanDef | IntegerDef | StringDef) and field.default is not None:
        return field.default
    return _MISSING


def _array(catalog: LexiconCatalog, array: ArrayDef) -> Check:
    item_check = compile_field(catalog, array.items)
    min_length, max_length = array.min_length, array.max_length

    def check(value: Any) -> Any:
        if type(value) is not list:
            raise ValidationError("must be an array")
        if max_length is not None and len(value) > max_length:
            raise ValidationError(f"must not have more than {max_length} elements")
        if min_length is not None and len(value) < min_length:
            raise ValidationError(f"must not have fewer than {min_length} elements")
        out = value
        for index, item in enumerate(value):
            try:
                new = item_check(item)
            except ValidationError as exc:
                exc.prepend(str(index))
                raise
            if new is not item:
                if out is value:
                    out = list(value)
                out[index] = new
        return out

    return check


def _boolean(boolean: BooleanDef) -> Check:
    const = boolean.const

    def check(value: Any) -> Any:
        if type(value) is not bool:
            raise ValidationError("must be a boolean")
        if const is not None and value is not const:
            raise ValidationError(f"must be {str(const).lower()}")
        return value

    return check


def _integer(integer: IntegerDef) -> Check:
    const, minimum, maximum = integer.const, integer.minimum, integer.maximum
    enum = frozenset(integer.enum) if integer.enum is not None else None
    enum_text = "|".join(map(str, integer.enum or ()))

    def check(value: Any) -> Any:
        if type(value) is not int:
            raise ValidationError("must be an integer")
        if const is not None and value != const:
            raise ValidationError(f"must be {const}")
        if enum is not None and value not in enum:
            raise ValidationError(f"must be one of ({enum_text})")
        if maximum is not None and value > maximum:
            raise ValidationError(f"can not be greater than {maximum}")
        if minimum is not None and value < minimum:
            raise ValidationError(f"can not be less than {minimum}")
        return value

    return check


def _bytes(bytes_def: BytesDef) -> Check:
    min_length, max_length = bytes_def.min_length, bytes_def.max_length

    def check(value: Any) -> Any:
        if type(value) is not bytes:
            raise ValidationError("must be a byte array")
        if max_length is not None and len(value) > max_length:
            raise ValidationError(f"must not be larger than {max_length} bytes")
        if min_length is not None and len(value) < min_length:
            raise ValidationError(f"must not be smaller than {min_length} bytes")
        return value

    return check


def _cid_link(value: Any) -> Any:
    if type(value) is not CID:
        raise ValidationError("must be a CID")
    return value


def _unknown(value: Any) -> Any:
    """Any object, but not one shaped like a blob, link or bytes (spec: `unknown`)."""
    if type(value) is not dict or value.get("$type") == "blob":
        raise ValidationError("must be an object")
    if len(value) == 1 and ("$link" in value or "$bytes" in value):
        raise ValidationError("must be an object")
    return value


def _blob(blob: BlobDef) -> Check:
    max_size = blob.max_size
    accept = blob.accept
    exact = frozenset(p.lower() for p in accept or () if not p.endswith("/*"))
    prefixes = tuple(p[:-1].lower() for p in accept or () if p.endswith("/*"))
    any_type = accept is None or "*/*" in accept
    accept_text = ", ".join(accept or ())

    def check(value: Any) -> Any:
        if type(value) is not dict:
            raise ValidationError("should be a blob ref")
        mime, size = _blob_fields(value)
        if not any_type:
            essence = mime.partition(";")[0].strip().lower()
            if essence not in exact and not essence.startswith(prefixes):
                raise ValidationError(f"mimeType must be one of {accept_text}")
        if max_size is not None and size is not None and size > max_size:
            raise ValidationError(f"must not be larger than {max_size} bytes")
        return value

    return check


def _blob_fields(value: dict[Any, Any]) -> tuple[str, int | None]:
    """The mimeType and size of a blob ref; legacy `{cid, mimeType}` refs have no size.

    Legacy refs still appear in old records, and the reference implementation accepts them.
    """
    if value.get("$type") == "blob":
        mime, size = value.get("mimeType"), value.get("size")
        if (
            len(value) == 4
            and type(value.get("ref")) is CID
            and type(mime) is str
            and mime
            and type(size) is int
            and size >= 0
        ):
            return mime, size
    elif len(value) == 2 and type(value.get("cid")) is str:
        mime = value.get("mimeType")
        if type(mime) is str and mime:
            return mime, None
    raise ValidationError("should be a blob ref")
