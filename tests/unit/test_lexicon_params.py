"""XRPC query parameters: query-string text decoded to typed, validated, defaulted values."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.lexicon_files import default_catalog
from domain.lexicon import LexiconCatalog, ValidationError, validate_params

LIST_RECORDS = "com.atproto.repo.listRecords"
BASE = {"repo": "alice.test", "collection": "app.bsky.feed.post"}
URI = "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3kq2w3l4s5d2x"


@pytest.fixture(scope="module")
def catalog() -> LexiconCatalog:
    return default_catalog()


def test_text_values_become_typed_values(catalog: LexiconCatalog) -> None:
    params = {**BASE, "limit": "10", "reverse": "true", "cursor": "abc"}
    assert validate_params(catalog, LIST_RECORDS, params) == {
        **BASE,
        "limit": 10,
        "reverse": True,
        "cursor": "abc",
    }
    assert validate_params(catalog, LIST_RECORDS, {**BASE, "reverse": "false"})["reverse"] is False


def test_defaults_fill_absent_and_empty_parameters(catalog: LexiconCatalog) -> None:
    assert validate_params(catalog, LIST_RECORDS, BASE) == {**BASE, "limit": 50}
    assert validate_params(catalog, LIST_RECORDS, {**BASE, "limit": ""})["limit"] == 50


def test_undeclared_parameters_are_dropped(catalog: LexiconCatalog) -> None:
    assert "extra" not in validate_params(catalog, LIST_RECORDS, {**BASE, "extra": "1"})


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": "abc"}, "Params/limit must be an integer"),
        ({"limit": "1.5"}, "Params/limit must be an integer"),
        ({"limit": "1e3"}, "Params/limit must be an integer"),
        ({"limit": "٣"}, "Params/limit must be an integer"),  # non-ASCII digit
        ({"limit": "99999999999999999999"}, "Params/limit must be an integer"),
        ({"limit": "0"}, "Params/limit can not be less than 1"),
        ({"limit": "101"}, "Params/limit can not be greater than 100"),
        ({"limit": ["5", "6"]}, "Params/limit must be given only once"),
        ({"reverse": "yes"}, "Params/reverse must be a boolean"),
        ({"reverse": "True"}, "Params/reverse must be a boolean"),
        ({"repo": "not a handle"}, "Params/repo must be a valid did or a handle"),
        ({"collection": ""}, 'Params must have the property "collection"'),
    ],
)
def test_bad_values_are_rejected_with_the_parameter_named(
    catalog: LexiconCatalog, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_params(catalog, LIST_RECORDS, {**BASE, **params})
    assert str(caught.value) == message


def test_required_parameters_must_be_present(catalog: LexiconCatalog) -> None:
    with pytest.raises(ValidationError, match=r'^Params must have the property "repo"$'):
        validate_params(catalog, LIST_RECORDS, {})


def test_array_parameters_accept_one_or_many_values(catalog: LexiconCatalog) -> None:
    get_posts = "app.bsky.feed.getPosts"
    assert validate_params(catalog, get_posts, {"uris": URI}) == {"uris": [URI]}
    assert validate_params(catalog, get_posts, {"uris": [URI, URI]}) == {"uris": [URI, URI]}
    with pytest.raises(ValidationError, match=r"^Params/uris/1 must be a valid at-uri$"):
        validate_params(catalog, get_posts, {"uris": [URI, "nope"]})
    with pytest.raises(ValidationError, match=r"^Params/uris must not have more than 25"):
        validate_params(catalog, get_posts, {"uris": [URI] * 26})


def test_array_items_are_decoded_to_their_type() -> None:
    catalog = LexiconCatalog(
        [
            {
                "lexicon": 1,
                "id": "com.example.search",
                "defs": {
                    "main": {
                        "type": "query",
                        "parameters": {
                            "type": "params",
                            "properties": {
                                "n": {"type": "array", "items": {"type": "integer"}},
                                "flag": {"type": "boolean", "default": False},
                            },
                        },
                    }
                },
            }
        ]
    )
    result = validate_params(catalog, "com.example.search", {"n": ["1", "", "-2"]})
    assert result == {"n": [1, -2], "flag": False}


def test_endpoints_without_parameters_give_an_empty_dict(catalog: LexiconCatalog) -> None:
    assert validate_params(catalog, "com.atproto.server.createSession", {"x": "1"}) == {}
