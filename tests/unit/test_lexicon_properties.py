"""Property tests: arbitrary values never crash validation with anything but ValidationError."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from adapters.lexicon_files import default_catalog
from domain.data.cid import CID
from domain.lexicon import (
    InvalidLexicon,
    ValidationError,
    parse_lexicon,
    validate_input,
    validate_output,
    validate_params,
    validate_record,
)
from domain.lexicon.defs import ObjectDef, ParamsDef, ProcedureDef, QueryDef, RecordDef, UnionDef
from domain.lexicon.refs import display_ref

CATALOG = default_catalog()


def _walk(node: object) -> Iterator[object]:
    yield node
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        for field in dataclasses.fields(node):
            yield from _walk(getattr(node, field.name))
    elif isinstance(node, dict):
        for item in node.values():
            yield from _walk(item)
    elif isinstance(node, tuple):
        for item in node:
            yield from _walk(item)


NODES = [node for doc in CATALOG for node in _walk(doc.defs)]
NAMES = sorted(
    {name for node in NODES if isinstance(node, ObjectDef | ParamsDef) for name in node.properties}
)
TYPES = sorted(
    {display_ref(ref) for node in NODES if isinstance(node, UnionDef) for ref in node.refs}
)
RECORDS = sorted(doc.id for doc in CATALOG if isinstance(doc.defs.get("main"), RecordDef))
PROCEDURES = sorted(doc.id for doc in CATALOG if isinstance(doc.defs.get("main"), ProcedureDef))
ENDPOINTS = PROCEDURES + sorted(
    doc.id for doc in CATALOG if isinstance(doc.defs.get("main"), QueryDef)
)
SOME_CID = CID.parse("bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm")

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(),
    st.sampled_from(["2024-05-01T00:00:00Z", "did:plc:ewvi7nxzyoun6zhxrhs64oiz", "en", "blob"]),
    st.binary(max_size=40),
    st.just(SOME_CID),
)
keys = st.one_of(st.sampled_from([*NAMES, "$type", "$link", "$bytes"]), st.text(max_size=8))


def _objects(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    plain = st.dictionaries(keys, children, max_size=6)
    typed = st.builds(lambda d, t: {**d, "$type": t}, plain, st.sampled_from([*TYPES, "blob"]))
    return st.one_of(plain, typed, st.lists(children, max_size=4))


values = st.recursive(scalars, _objects, max_leaves=30)


@given(st.sampled_from(RECORDS), values, st.booleans())
def test_records_of_any_shape_fail_only_with_validation_error(
    nsid: str, value: Any, typed: bool
) -> None:
    if typed and isinstance(value, dict):
        value = {**value, "$type": nsid}
    with contextlib.suppress(ValidationError):
        validate_record(CATALOG, nsid, value)


@given(st.sampled_from(ENDPOINTS), values)
def test_bodies_of_any_shape_fail_only_with_validation_error(nsid: str, value: Any) -> None:
    with contextlib.suppress(ValidationError):
        if nsid in PROCEDURES:
            validate_input(CATALOG, nsid, value)
        validate_output(CATALOG, nsid, value)


param_values = st.one_of(st.text(max_size=12), st.lists(st.text(max_size=12), max_size=3), scalars)


@given(
    st.sampled_from(ENDPOINTS),
    st.dictionaries(st.one_of(st.sampled_from(NAMES), st.text(max_size=6)), param_values),
)
def test_params_of_any_shape_fail_only_with_validation_error(
    nsid: str, params: dict[str, Any]
) -> None:
    try:
        result = validate_params(CATALOG, nsid, params)
    except ValidationError:
        return
    assert isinstance(result, dict)


LEXICON_WORDS = [
    *("type", "lexicon", "id", "defs", "main", "record", "key", "properties", "required"),
    *("nullable", "items", "ref", "refs", "closed", "format", "enum", "const", "default"),
    *("knownValues", "minLength", "maxLength", "maxGraphemes", "accept", "maxSize", "output"),
    *("input", "encoding", "schema", "parameters", "message", "errors", "name", "permissions"),
    *("object", "string", "integer", "boolean", "array", "union", "blob", "params", "query"),
    *("procedure", "subscription", "token", "unknown", "tid", "any", "#main", "com.example.x"),
]
lexicon_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.sampled_from(LEXICON_WORDS)),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.sampled_from(LEXICON_WORDS), children, max_size=5),
    ),
    max_leaves=40,
)


@given(lexicon_json, st.sampled_from(["main", "other"]))
def test_malformed_lexicon_documents_fail_only_with_invalid_lexicon(
    definition: Any, name: str
) -> None:
    document = {"lexicon": 1, "id": "com.example.x", "defs": {name: definition}}
    with contextlib.suppress(InvalidLexicon):
        parse_lexicon(document)
