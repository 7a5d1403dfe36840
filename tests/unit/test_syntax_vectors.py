"""Every line of the atproto interop syntax vectors, one test case per line.

Lines are taken exactly as written (only the newline is removed): several vectors carry
meaningful leading or trailing spaces that must be rejected. Blank lines and lines
starting with '#' are comments, per the fixture conventions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from domain.syntax import (
    InvalidAtIdentifier,
    InvalidAtUri,
    InvalidCidString,
    InvalidDatetime,
    InvalidDid,
    InvalidHandle,
    InvalidLanguage,
    InvalidNsid,
    InvalidRecordKey,
    InvalidSyntax,
    InvalidTid,
    InvalidUri,
    ensure_valid_at_identifier,
    ensure_valid_at_uri,
    ensure_valid_cid_string,
    ensure_valid_datetime,
    ensure_valid_did,
    ensure_valid_handle,
    ensure_valid_language,
    ensure_valid_nsid,
    ensure_valid_record_key,
    ensure_valid_tid,
    ensure_valid_uri,
    has_datetime_syntax,
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
    normalize_handle,
    nsid_authority,
    nsid_name,
    parse_at_uri,
    parse_datetime,
    parse_language,
)
from tests.conftest import INTEROP

SYNTAX = INTEROP / "syntax"

Check = Callable[[str], bool]
Ensure = Callable[[str], None]

# vector file prefix -> (is_valid, ensure_valid, error raised by ensure_valid)
KINDS: dict[str, tuple[Check, Ensure, type[InvalidSyntax]]] = {
    "handle": (is_valid_handle, ensure_valid_handle, InvalidHandle),
    "did": (is_valid_did, ensure_valid_did, InvalidDid),
    "nsid": (is_valid_nsid, ensure_valid_nsid, InvalidNsid),
    "recordkey": (is_valid_record_key, ensure_valid_record_key, InvalidRecordKey),
    "aturi": (is_valid_at_uri, ensure_valid_at_uri, InvalidAtUri),
    "datetime": (is_valid_datetime, ensure_valid_datetime, InvalidDatetime),
    "language": (is_valid_language, ensure_valid_language, InvalidLanguage),
    "tid": (is_valid_tid, ensure_valid_tid, InvalidTid),
    "cid": (is_valid_cid_string, ensure_valid_cid_string, InvalidCidString),
    "atidentifier": (is_valid_at_identifier, ensure_valid_at_identifier, InvalidAtIdentifier),
    "uri": (is_valid_uri, ensure_valid_uri, InvalidUri),
}
EXTRA_FILES = {"datetime_parse_invalid.txt", "language_parse_invalid.txt"}


def _lines(filename: str) -> list[tuple[int, str]]:
    """(line number, line) for each vector in a file, byte-exact apart from the newline."""
    text = (SYNTAX / filename).read_bytes().decode("utf-8")
    return [
        (n, line)
        for n, line in enumerate(text.split("\n"), start=1)
        if line and not line.startswith("#")
    ]


def _cases(suffix: str, kinds: list[str] | None = None) -> list[Any]:
    """One param per vector line, with an id naming its file and line number."""
    return [
        pytest.param(kind, line, id=f"{kind}_{suffix}:{n}")
        for kind in kinds or list(KINDS)
        for n, line in _lines(f"{kind}_{suffix}.txt")
    ]


def _file_cases(filename: str) -> list[Any]:
    return [pytest.param(line, id=f"{filename}:{n}") for n, line in _lines(filename)]


def test_every_vector_file_is_exercised() -> None:
    expected = {f"{kind}_syntax_{v}.txt" for kind in KINDS for v in ("valid", "invalid")}
    present = {p.name for p in SYNTAX.glob("*.txt")}
    assert present == expected | EXTRA_FILES


@pytest.mark.parametrize(("kind", "value"), _cases("syntax_valid"))
def test_valid_vector_is_accepted(kind: str, value: str) -> None:
    is_valid, ensure_valid, _ = KINDS[kind]
    assert is_valid(value)
    ensure_valid(value)


@pytest.mark.parametrize(("kind", "value"), _cases("syntax_invalid"))
def test_invalid_vector_is_rejected_with_its_typed_error(kind: str, value: str) -> None:
    is_valid, ensure_valid, error = KINDS[kind]
    assert not is_valid(value)
    with pytest.raises(error):
        ensure_valid(value)


@pytest.mark.parametrize(("kind", "value"), _cases("syntax_invalid", ["datetime"]))
def test_datetime_syntax_invalid_vector_fails_the_grammar_alone(kind: str, value: str) -> None:
    assert not has_datetime_syntax(value)


@pytest.mark.parametrize("value", _file_cases("datetime_parse_invalid.txt"))
def test_datetime_with_good_grammar_but_no_real_instant_fails_to_parse(value: str) -> None:
    assert has_datetime_syntax(value)
    assert not is_valid_datetime(value)
    with pytest.raises(InvalidDatetime):
        parse_datetime(value)


@pytest.mark.parametrize("value", _file_cases("language_parse_invalid.txt"))
def test_well_formed_but_invalid_language_tag_fails_to_parse(value: str) -> None:
    assert is_valid_language(value)
    with pytest.raises(InvalidLanguage):
        parse_language(value)


@pytest.mark.parametrize(("kind", "value"), _cases("syntax_valid", ["language"]))
def test_valid_language_vector_also_parses_as_valid(kind: str, value: str) -> None:
    parse_language(value)


@pytest.mark.parametrize(("kind", "value"), _cases("syntax_valid", ["aturi"]))
def test_valid_at_uri_round_trips_through_its_parts(kind: str, value: str) -> None:
    assert str(parse_at_uri(value)) == value


@pytest.mark.parametrize(("kind", "value"), _cases("syntax_valid", ["nsid"]))
def test_valid_nsid_splits_into_domain_authority_and_name(kind: str, value: str) -> None:
    authority, name = nsid_authority(value), nsid_name(value)
    assert ".".join([*reversed(authority.split(".")), name]) == value
    # The vectors accept authorities longer than a handle's 253 chars (see domain.syntax.nsid).
    assert len(authority) > 253 or is_valid_handle(authority)


@pytest.mark.parametrize(("kind", "value"), _cases("syntax_valid", ["handle"]))
def test_valid_handle_stays_valid_once_normalized(kind: str, value: str) -> None:
    normalized = normalize_handle(value)
    assert normalized == value.lower()
    assert is_valid_handle(normalized)
