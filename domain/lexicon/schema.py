"""Parse lexicon JSON documents strictly into the typed definitions of `defs`.

Strict means: every field the lexicon language defines is type-checked, every rule the spec
states (primary types only as `main`, no named `ref`/`union`/`unknown`, required properties
declared, closed unions not empty, record key types) is enforced, and a document that breaks
one is an `InvalidLexicon`. Fields the language does not define are ignored, so documents
written for a newer revision of the language still load.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from domain.lexicon.defs import (
    PRIMARY_TYPES,
    ArrayDef,
    BodyDef,
    BooleanDef,
    ErrorDef,
    IntegerDef,
    LexiconDoc,
    MessageDef,
    ObjectDef,
    ParamDef,
    ParamsDef,
    PermissionDef,
    PermissionSetDef,
    ProcedureDef,
    QueryDef,
    RecordDef,
    RefDef,
    StringDef,
    SubscriptionDef,
    TokenDef,
    UnionDef,
    UnknownDef,
    UserDef,
)
from domain.lexicon.errors import InvalidLexicon
from domain.lexicon.schema_fields import FieldParser, Obj, opt
from domain.syntax import is_valid_language, is_valid_nsid, is_valid_record_key

_NAMED_DATA_TYPES = frozenset(
    ("boolean", "integer", "string", "bytes", "cid-link", "blob", "array", "object", "token")
)
_PARAM_SCALARS = frozenset(("boolean", "integer", "string", "unknown"))
_RECORD_KEY_TYPES = frozenset(("tid", "nsid", "any"))


def parse_lexicon_text(text: str | bytes) -> LexiconDoc:
    """Parse a lexicon file's text, rejecting duplicate keys (`main` defined twice)."""
    try:
        raw = json.loads(text, object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError) as exc:
        raise InvalidLexicon(f"not a JSON document: {exc}") from exc
    return parse_lexicon(raw)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise InvalidLexicon(f"key {key!r} defined twice")
        out[key] = value
    return out


def parse_lexicon(raw: object) -> LexiconDoc:
    """Check and convert one parsed lexicon document (raise `InvalidLexicon` if it is bad)."""
    if type(raw) is not dict:
        raise InvalidLexicon("a lexicon document must be a JSON object")
    if raw.get("lexicon") != 1 or type(raw.get("lexicon")) is not int:
        raise InvalidLexicon("lexicon: must be the integer 1")
    doc_id = raw.get("id")
    if type(doc_id) is not str or not is_valid_nsid(doc_id):
        raise InvalidLexicon(f"id: {doc_id!r} is not a valid NSID")
    revision = opt(raw, "revision", int, doc_id)
    description = opt(raw, "description", str, doc_id)
    defs_raw = raw.get("defs")
    if type(defs_raw) is not dict or not defs_raw:
        raise InvalidLexicon(f"{doc_id}: defs must be a non-empty object")
    defs: dict[str, UserDef] = {}
    for name, def_raw in defs_raw.items():
        if not name or "#" in name or not name.isprintable() or " " in name:
            raise InvalidLexicon(f"{doc_id}: {name!r} is not a valid definition name")
        defs[name] = _Parser(doc_id, name).user_def(def_raw)
    return LexiconDoc(id=doc_id, defs=defs, revision=revision, description=description)


class _Parser(FieldParser):
    """Parses the named definitions of one document, primary types included."""

    # -- named definitions ---------------------------------------------------------------
    def user_def(self, raw: object) -> UserDef:
        where = self.root
        obj, kind = self.type_of(raw, where)
        if kind in PRIMARY_TYPES:
            if not self.is_main:
                raise self.fail(where, f"a {kind} definition must be named main")
            return self.primary(obj, kind, where)
        if kind not in _NAMED_DATA_TYPES:
            raise self.fail(where, f"type {kind!r} can not be a named definition")
        if kind == "token":
            return TokenDef(description=self.opt_str(obj, "description", where))
        data = self.field(obj, where)
        assert not isinstance(data, UnknownDef | RefDef | UnionDef)  # excluded by kind above
        return data

    def primary(self, obj: Obj, kind: str, where: str) -> UserDef:
        description = self.opt_str(obj, "description", where)
        if kind == "record":
            key = obj.get("key")
            if type(key) is not str or not _valid_record_key_type(key):
                raise self.fail(where, f"record key type {key!r} is not tid, nsid, any or literal:")
            record, record_kind = self.type_of(obj.get("record"), f"{where}/record")
            if record_kind != "object":
                raise self.fail(f"{where}/record", "must be an object schema")
            return RecordDef(key, self.object_def(record, f"{where}/record"), description)
        if kind == "query":
            return QueryDef(
                parameters=self.params(obj.get("parameters"), f"{where}/parameters"),
                output=self.body(obj.get("output"), f"{where}/output"),
                errors=self.errors(obj.get("errors"), f"{where}/errors"),
                description=description,
            )
        if kind == "procedure":
            return ProcedureDef(
                parameters=self.params(obj.get("parameters"), f"{where}/parameters"),
                input=self.body(obj.get("input"), f"{where}/input"),
                output=self.body(obj.get("output"), f"{where}/output"),
                errors=self.errors(obj.get("errors"), f"{where}/errors"),
                description=description,
            )
        if kind == "subscription":
            message = self.obj(obj.get("message"), f"{where}/message")
            schema, schema_kind = self.type_of(message.get("schema"), f"{where}/message/schema")
            if schema_kind != "union":
                raise self.fail(f"{where}/message/schema", "must be a union")
            return SubscriptionDef(
                message=MessageDef(
                    self.union(schema, f"{where}/message/schema"),
                    self.opt_str(message, "description", f"{where}/message"),
                ),
                parameters=self.params(obj.get("parameters"), f"{where}/parameters"),
                errors=self.errors(obj.get("errors"), f"{where}/errors"),
                description=description,
            )
        return self.permission_set(obj, where)

    def permission_set(self, obj: Obj, where: str) -> PermissionSetDef:
        perms = obj.get("permissions")
        if type(perms) is not list:
            raise self.fail(where, "permissions must be an array")
        return PermissionSetDef(
            permissions=tuple(
                self.permission(p, f"{where}/permissions/{i}") for i, p in enumerate(perms)
            ),
            title=self.opt_str(obj, "title", where),
            title_lang=self.lang_map(obj.get("title:lang"), f"{where}/title:lang"),
            detail=self.opt_str(obj, "detail", where),
            detail_lang=self.lang_map(obj.get("detail:lang"), f"{where}/detail:lang"),
            description=self.opt_str(obj, "description", where),
        )

    def permission(self, raw: object, where: str) -> PermissionDef:
        obj, kind = self.type_of(raw, where)
        if kind != "permission":
            raise self.fail(where, "must have type permission")
        resource = obj.get("resource")
        if type(resource) is not str or not resource:
            raise self.fail(where, "resource must be a non-empty string")
        for key, value in obj.items():
            items = value if type(value) is list else [value]
            if not all(type(item) in (str, int, bool) for item in items):
                raise self.fail(where, f"{key} must be a string, integer, boolean or array")
        fields = {k: v for k, v in obj.items() if k not in ("type", "resource")}
        return PermissionDef(resource, fields)

    def lang_map(self, raw: object, where: str) -> Mapping[str, str] | None:
        if raw is None:
            return None
        obj = self.obj(raw, where)
        for lang, text in obj.items():
            if not is_valid_language(lang) or type(text) is not str:
                raise self.fail(where, f"{lang!r} must be a language tag mapped to a string")
        return dict(obj)

    # -- XRPC parts ------------------------------------------------------------------------
    def params(self, raw: object, where: str) -> ParamsDef | None:
        if raw is None:
            return None
        obj, kind = self.type_of(raw, where)
        if kind != "params":
            raise self.fail(where, "must have type params")
        props_raw = self.obj(obj.get("properties"), f"{where}/properties")
        props: dict[str, ParamDef] = {}
        for name, prop_raw in props_raw.items():
            prop_where = f"{where}/properties/{name}"
            prop, prop_kind = self.type_of(prop_raw, prop_where)
            if prop_kind == "array":
                _, items_kind = self.type_of(prop.get("items"), f"{prop_where}/items")
                if items_kind not in _PARAM_SCALARS:
                    raise self.fail(prop_where, "array params hold booleans, integers or strings")
            elif prop_kind not in _PARAM_SCALARS:
                raise self.fail(prop_where, f"type {prop_kind!r} is not allowed in params")
            param = self.field(prop, prop_where)
            assert isinstance(param, BooleanDef | IntegerDef | StringDef | UnknownDef | ArrayDef)
            props[name] = param
        required = self.required(obj, props, "required", where)
        return ParamsDef(props, required, self.opt_str(obj, "description", where))

    def body(self, raw: object, where: str) -> BodyDef | None:
        if raw is None:
            return None
        obj = self.obj(raw, where)
        encoding = obj.get("encoding")
        if type(encoding) is not str or not encoding:
            raise self.fail(where, "encoding must be a non-empty string")
        schema: ObjectDef | RefDef | UnionDef | None = None
        if obj.get("schema") is not None:
            schema_obj, kind = self.type_of(obj["schema"], f"{where}/schema")
            if kind not in ("object", "ref", "union"):
                raise self.fail(f"{where}/schema", "must be an object, ref or union")
            field = self.field(schema_obj, f"{where}/schema")
            assert isinstance(field, ObjectDef | RefDef | UnionDef)
            schema = field
        return BodyDef(encoding, schema, self.opt_str(obj, "description", where))

    def errors(self, raw: object, where: str) -> tuple[ErrorDef, ...]:
        if raw is None:
            return ()
        if type(raw) is not list:
            raise self.fail(where, "must be an array")
        out = []
        for i, item in enumerate(raw):
            obj = self.obj(item, f"{where}/{i}")
            name = obj.get("name")
            if type(name) is not str or not name or any(c.isspace() for c in name):
                raise self.fail(f"{where}/{i}", "name must be a string without whitespace")
            out.append(ErrorDef(name, self.opt_str(obj, "description", f"{where}/{i}")))
        return tuple(out)


def _valid_record_key_type(key: str) -> bool:
    if key in _RECORD_KEY_TYPES:
        return True
    literal = key.removeprefix("literal:")
    return literal != key and is_valid_record_key(literal)
