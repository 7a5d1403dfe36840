"""The interop data-model vectors: JSON -> DAG-CBOR bytes -> CID must match exactly."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from domain.data import atjson, dag_cbor
from domain.data.cid import CID
from domain.data.errors import DataModelError
from tests.conftest import INTEROP

DATA_MODEL = INTEROP / "data-model"


def _load(name: str) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads((DATA_MODEL / name).read_text())
    return cases


def _b64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


FIXTURES = _load("data-model-fixtures.json")


@pytest.mark.parametrize("case", FIXTURES, ids=[f["cid"][:16] for f in FIXTURES])
def test_fixture_json_encodes_to_exact_bytes_and_cid(case: dict[str, Any]) -> None:
    value = atjson.from_json(case["json"])
    encoded = dag_cbor.encode(value)
    assert encoded == _b64(case["cbor_base64"])
    assert str(CID.for_dag_cbor(encoded)) == case["cid"]


@pytest.mark.parametrize("case", FIXTURES, ids=[f["cid"][:16] for f in FIXTURES])
def test_fixture_bytes_decode_back_to_the_same_json(case: dict[str, Any]) -> None:
    value = dag_cbor.decode(_b64(case["cbor_base64"]))
    assert atjson.to_json(value) == json.loads(json.dumps(case["json"]))


VALID = _load("data-model-valid.json")
INVALID = _load("data-model-invalid.json")


@pytest.mark.parametrize("case", VALID, ids=[c["note"] for c in VALID])
def test_valid_data_model_case_is_accepted(case: dict[str, Any]) -> None:
    value = atjson.from_json(case["json"])
    assert dag_cbor.decode(dag_cbor.encode(value)) == value


@pytest.mark.parametrize("case", INVALID, ids=[c["note"] for c in INVALID])
def test_invalid_data_model_case_is_rejected(case: dict[str, Any]) -> None:
    with pytest.raises(DataModelError):
        dag_cbor.encode(atjson.from_json(case["json"]))
