"""Lexicon documents: the language rules the parser enforces, and the bundled lexicons."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from adapters.lexicon_files import LEXICON_ROOT, default_catalog, load_catalog
from domain.lexicon import (
    InvalidLexicon,
    LexiconCatalog,
    LexiconError,
    LexiconNotFound,
    parse_lexicon,
    parse_lexicon_text,
    record_key_type,
)
from domain.lexicon.defs import ObjectDef, RecordDef, RefDef, StringDef, UnionDef

LEXICON_FILES = sorted(LEXICON_ROOT.rglob("*.json"))


def _doc(main: dict[str, Any], **defs: Any) -> dict[str, Any]:
    return {"lexicon": 1, "id": "com.example.thing", "defs": {"main": main, **defs}}


def _record(properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return _doc(
        {
            "type": "record",
            "key": "tid",
            "record": {"type": "object", "properties": properties, **extra},
        }
    )


def test_bundled_lexicons_are_numerous_enough_to_cover_the_three_namespaces() -> None:
    assert len(LEXICON_FILES) > 300
    top = {path.relative_to(LEXICON_ROOT).parts[:2] for path in LEXICON_FILES}
    assert {("com", "atproto"), ("app", "bsky"), ("chat", "bsky")} <= top


@pytest.mark.parametrize(
    "path", LEXICON_FILES, ids=[str(p.relative_to(LEXICON_ROOT)) for p in LEXICON_FILES]
)
def test_every_bundled_lexicon_file_parses(path: Path) -> None:
    doc = parse_lexicon_text(path.read_bytes())
    assert doc.id == ".".join(path.relative_to(LEXICON_ROOT).with_suffix("").parts)


def test_bundled_catalog_loads_with_every_ref_resolving() -> None:
    catalog = load_catalog()
    assert len(catalog) == len(LEXICON_FILES)
    catalog.check_refs()


def test_default_catalog_is_loaded_once() -> None:
    assert default_catalog() is default_catalog()


def test_post_record_key_type_is_tid() -> None:
    catalog = default_catalog()
    assert record_key_type(catalog, "app.bsky.feed.post") == "tid"
    assert record_key_type(catalog, "app.bsky.actor.profile") == "literal:self"


def test_refs_are_stored_fully_qualified() -> None:
    doc = parse_lexicon(
        _record(
            {
                "local": {"type": "ref", "ref": "#other"},
                "main": {"type": "ref", "ref": "com.example.defs"},
                "union": {"type": "union", "refs": ["com.example.defs#a", "#other"]},
            }
        )
    )
    record = doc.defs["main"]
    assert isinstance(record, RecordDef)
    props = record.record.properties
    assert props["local"] == RefDef("com.example.thing#other")
    assert props["main"] == RefDef("com.example.defs#main")
    union = props["union"]
    assert isinstance(union, UnionDef)
    assert union.refs == ("com.example.defs#a", "com.example.thing#other")


def test_string_constraints_are_parsed() -> None:
    doc = parse_lexicon(
        _doc({"type": "string", "format": "did", "maxLength": 10, "maxGraphemes": 5})
    )
    assert doc.defs["main"] == StringDef(format="did", max_length=10, max_graphemes=5)


def test_main_defined_twice_in_the_text_is_rejected() -> None:
    text = (
        '{"lexicon": 1, "id": "com.example.x",'
        ' "defs": {"main": {"type": "token"}, "main": {"type": "token"}}}'
    )
    with pytest.raises(InvalidLexicon, match="twice"):
        parse_lexicon_text(text)


def test_malformed_json_text_is_an_invalid_lexicon() -> None:
    with pytest.raises(InvalidLexicon):
        parse_lexicon_text("{not json")


BAD_DOCS: dict[str, dict[str, Any]] = {
    "lexicon version 2": {"lexicon": 2, "id": "com.example.x", "defs": {"a": {"type": "token"}}},
    "lexicon version true": {
        "lexicon": True,
        "id": "com.example.x",
        "defs": {"a": {"type": "token"}},
    },
    "no defs": {"lexicon": 1, "id": "com.example.x", "defs": {}},
    "defs not an object": {"lexicon": 1, "id": "com.example.x", "defs": []},
    "fragment in id": {"lexicon": 1, "id": "com.example.x#y", "defs": {"a": {"type": "token"}}},
    "unknown type": _doc({"type": "float"}),
    "type missing": _doc({"description": "no type"}),
    "named union": _doc({"type": "union", "refs": []}),
    "named params": _doc({"type": "params", "properties": {}}),
    "record without key": _doc({"type": "record", "record": {"type": "object", "properties": {}}}),
    "record with unknown key type": _doc(
        {"type": "record", "key": "uuid", "record": {"type": "object", "properties": {}}}
    ),
    "record with bad literal key": _doc(
        {"type": "record", "key": "literal:..", "record": {"type": "object", "properties": {}}}
    ),
    "record of non-object": _doc({"type": "record", "key": "tid", "record": {"type": "string"}}),
    "object without properties": _doc({"type": "object"}),
    "required property not declared": _doc({"type": "object", "required": ["a"], "properties": {}}),
    "nullable property not declared": _doc({"type": "object", "nullable": ["a"], "properties": {}}),
    "property of unknown type": _doc({"type": "object", "properties": {"a": {"type": "float"}}}),
    "token as a property": _doc({"type": "object", "properties": {"a": {"type": "token"}}}),
    "closed union without refs": _record({"u": {"type": "union", "refs": [], "closed": True}}),
    "ref with two fragments": _record({"r": {"type": "ref", "ref": "com.example.a#b#c"}}),
    "ref with empty fragment": _record({"r": {"type": "ref", "ref": "com.example.a#"}}),
    "ref to a non-nsid": _record({"r": {"type": "ref", "ref": "not an nsid#x"}}),
    "unknown string format": _doc({"type": "string", "format": "email"}),
    "minLength above maxLength": _doc({"type": "string", "minLength": 5, "maxLength": 2}),
    "negative maxGraphemes": _doc({"type": "string", "maxGraphemes": -1}),
    "string length not an integer": _doc({"type": "string", "maxLength": "10"}),
    "const and default together": _doc({"type": "integer", "const": 1, "default": 1}),
    "integer minimum above maximum": _doc({"type": "integer", "minimum": 5, "maximum": 1}),
    "enum of wrong type": _doc({"type": "integer", "enum": ["a"]}),
    "blob accept bare wildcard": _doc({"type": "blob", "accept": ["*"]}),
    "blob accept partial glob": _doc({"type": "blob", "accept": ["text/ht*"]}),
    "array without items": _doc({"type": "array"}),
    "query output without encoding": _doc(
        {"type": "query", "output": {"schema": {"type": "object", "properties": {}}}}
    ),
    "query output schema of string": _doc(
        {"type": "query", "output": {"encoding": "application/json", "schema": {"type": "string"}}}
    ),
    "params with an object": _doc(
        {
            "type": "query",
            "parameters": {"type": "params", "properties": {"o": {"type": "object"}}},
        }
    ),
    "params array of refs": _doc(
        {
            "type": "query",
            "parameters": {
                "type": "params",
                "properties": {"a": {"type": "array", "items": {"type": "ref", "ref": "#x"}}},
            },
        }
    ),
    "error name with spaces": _doc({"type": "query", "errors": [{"name": "Bad Thing"}]}),
    "subscription without message": _doc({"type": "subscription"}),
    "subscription message not a union": _doc(
        {"type": "subscription", "message": {"schema": {"type": "object", "properties": {}}}}
    ),
    "permission without resource": _doc(
        {"type": "permission-set", "permissions": [{"type": "permission"}]}
    ),
    "permission-set title:lang with bad tag": _doc(
        {"type": "permission-set", "permissions": [], "title:lang": {"not a tag!": "x"}}
    ),
    "permission-set without permissions": _doc({"type": "permission-set"}),
}


@pytest.mark.parametrize("raw", list(BAD_DOCS.values()), ids=list(BAD_DOCS))
def test_documents_breaking_language_rules_are_rejected(raw: dict[str, Any]) -> None:
    with pytest.raises(InvalidLexicon):
        parse_lexicon(raw)


def test_fields_the_language_does_not_define_are_ignored() -> None:
    raw = _doc({"type": "string", "x-future": {"anything": True}}, other={"type": "token"})
    raw["x-top"] = 1
    assert isinstance(parse_lexicon(raw).defs["main"], StringDef)


def test_catalog_rejects_the_same_nsid_twice() -> None:
    catalog = LexiconCatalog([_doc({"type": "token"})])
    with pytest.raises(LexiconError, match="already"):
        catalog.add(_doc({"type": "token"}))


def test_catalog_reports_dangling_and_misdirected_refs() -> None:
    catalog = LexiconCatalog(
        [
            _record(
                {
                    "missing": {"type": "ref", "ref": "com.example.gone#x"},
                    "token": {"type": "ref", "ref": "com.example.defs#tok"},
                    "union": {"type": "union", "refs": ["com.example.defs#str"]},
                }
            ),
            {
                "lexicon": 1,
                "id": "com.example.defs",
                "defs": {"tok": {"type": "token"}, "str": {"type": "string"}},
            },
        ]
    )
    with pytest.raises(InvalidLexicon) as caught:
        catalog.check_refs()
    message = str(caught.value)
    assert "com.example.gone#x is not defined" in message
    assert "does not describe data" in message
    assert "not an object or record" in message


def test_catalog_lookups_name_what_is_missing() -> None:
    catalog = LexiconCatalog([_doc({"type": "object", "properties": {}})])
    assert isinstance(catalog.resolve("com.example.thing"), ObjectDef)
    with pytest.raises(LexiconNotFound, match=r"com\.example\.nope"):
        catalog.doc("com.example.nope")
    with pytest.raises(LexiconError, match="not a record"):
        catalog.record_key_type("com.example.thing")


def test_catalog_does_not_mutate_the_raw_documents_it_is_given() -> None:
    raw = _record({"r": {"type": "ref", "ref": "#x"}})
    raw["defs"]["x"] = {"type": "string"}
    before = copy.deepcopy(raw)
    LexiconCatalog([raw])
    assert raw == before
    assert json.dumps(raw) == json.dumps(before)
