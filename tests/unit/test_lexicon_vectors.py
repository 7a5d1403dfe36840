"""The interop lexicon vectors: schema documents and record data, valid and invalid."""

from __future__ import annotations

import json
from typing import Any

import pytest

from domain.data.atjson import from_json
from domain.lexicon import (
    InvalidLexicon,
    LexiconCatalog,
    ValidationError,
    parse_lexicon,
    validate_record,
    validate_record_key,
)
from tests.conftest import INTEROP

LEXICON = INTEROP / "lexicon"
RECORD_NSID = "example.lexicon.record"


def _load(name: str) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads((LEXICON / name).read_text())
    return cases


def _ids(cases: list[dict[str, Any]]) -> list[str]:
    return [f"{i}-{case['name']}" for i, case in enumerate(cases)]


VALID_LEXICONS = _load("lexicon-valid.json")
INVALID_LEXICONS = _load("lexicon-invalid.json")
VALID_RECORDS = _load("record-data-valid.json")
INVALID_RECORDS = _load("record-data-invalid.json")


@pytest.fixture(scope="module")
def catalog() -> LexiconCatalog:
    paths = sorted((LEXICON / "catalog").glob("*.json"))
    return LexiconCatalog(json.loads(path.read_text()) for path in paths)


@pytest.mark.parametrize("case", VALID_LEXICONS, ids=_ids(VALID_LEXICONS))
def test_valid_lexicon_documents_parse(case: dict[str, Any]) -> None:
    doc = parse_lexicon(case["lexicon"])
    assert doc.id == case["lexicon"]["id"]


@pytest.mark.parametrize("case", INVALID_LEXICONS, ids=_ids(INVALID_LEXICONS))
def test_invalid_lexicon_documents_are_rejected(case: dict[str, Any]) -> None:
    with pytest.raises(InvalidLexicon):
        parse_lexicon(case["lexicon"])


def test_every_catalog_schema_file_parses(catalog: LexiconCatalog) -> None:
    assert {doc.id for doc in catalog} == {
        "example.lexicon.permissionset",
        "example.lexicon.procedure",
        "example.lexicon.query",
        "example.lexicon.record",
        "example.lexicon.subscription",
    }


@pytest.mark.parametrize("case", VALID_RECORDS, ids=_ids(VALID_RECORDS))
def test_valid_record_data_validates(catalog: LexiconCatalog, case: dict[str, Any]) -> None:
    value = from_json(case["data"])
    assert validate_record(catalog, RECORD_NSID, value) == {"defaultInteger": 42, **value}
    validate_record_key(catalog, RECORD_NSID, case["rkey"])


@pytest.mark.parametrize("case", INVALID_RECORDS, ids=_ids(INVALID_RECORDS))
def test_invalid_record_data_is_rejected(catalog: LexiconCatalog, case: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_record(catalog, RECORD_NSID, from_json(case["data"]))
    assert str(caught.value).startswith("Record")


FOCUSED = [case for case in INVALID_RECORDS if case["name"] != "missing required field"]


@pytest.mark.parametrize("case", FOCUSED, ids=_ids(FOCUSED))
def test_invalid_record_data_fails_for_its_own_field(
    catalog: LexiconCatalog, case: dict[str, Any]
) -> None:
    """Some vectors also omit the required `integer`; with it present they must still fail."""
    data = {"integer": 1, **case["data"]}
    with pytest.raises(ValidationError) as caught:
        validate_record(catalog, RECORD_NSID, from_json(data))
    assert "must have the property" not in str(caught.value)
    assert len(caught.value.path) >= 2
