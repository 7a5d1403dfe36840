"""Validating real Bluesky data against the bundled lexicons."""

from __future__ import annotations

import pickle
import time
from typing import Any

import pytest

from adapters.lexicon_files import default_catalog
from domain.data.atjson import from_json
from domain.lexicon import (
    LexiconCatalog,
    LexiconError,
    LexiconNotFound,
    ValidationError,
    validate_input,
    validate_message,
    validate_output,
    validate_record,
    validate_record_key,
    validate_value,
)
from domain.lexicon.validate import MAX_VALUE_DEPTH

POST = "app.bsky.feed.post"
URI = "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3kq2w3l4s5d2x"
CID_TEXT = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"
BLOB_REF = {"$link": "bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy"}


@pytest.fixture(scope="module")
def catalog() -> LexiconCatalog:
    return default_catalog()


def _post(**fields: Any) -> Any:
    base = {"$type": POST, "text": "hello world", "createdAt": "2024-05-01T12:34:56.789Z"}
    return from_json({**base, **fields})


def _reason(catalog: LexiconCatalog, nsid: str, value: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        validate_record(catalog, nsid, value)
    return str(caught.value)


FULL_POST = {
    "text": "a reply with a #tag 🙂",
    "langs": ["en", "pt-BR"],
    "tags": ["extra"],
    "facets": [
        {
            "index": {"byteStart": 15, "byteEnd": 19},
            "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "tag"}],
        }
    ],
    "reply": {"root": {"uri": URI, "cid": CID_TEXT}, "parent": {"uri": URI, "cid": CID_TEXT}},
    "embed": {
        "$type": "app.bsky.embed.images",
        "images": [
            {
                "alt": "a picture",
                "image": {"$type": "blob", "ref": BLOB_REF, "mimeType": "image/png", "size": 1000},
            }
        ],
    },
    "labels": {"$type": "com.atproto.label.defs#selfLabels", "values": [{"val": "nudity"}]},
}


def test_a_full_valid_post_passes_and_is_returned_without_copying(
    catalog: LexiconCatalog,
) -> None:
    post = _post(**FULL_POST)
    assert validate_record(catalog, POST, post) is post


def test_post_text_that_is_not_a_string_fails_at_its_path(catalog: LexiconCatalog) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_record(catalog, POST, _post(text=123))
    assert caught.value.path == ("Record", "text")
    assert str(caught.value) == "Record/text must be a string"


def test_post_text_of_301_graphemes_fails(catalog: LexiconCatalog) -> None:
    assert "300 graphemes" in _reason(catalog, POST, _post(text="a" * 301))
    assert "300 graphemes" in _reason(catalog, POST, _post(text="👍🏽" * 301))


def test_post_text_of_300_multi_codepoint_graphemes_passes(catalog: LexiconCatalog) -> None:
    validate_record(catalog, POST, _post(text="👍🏽" * 300))  # 600 code points
    validate_record(catalog, POST, _post(text="🇧🇷" * 300))


def test_post_text_length_is_counted_in_utf8_bytes(catalog: LexiconCatalog) -> None:
    family = "👩‍👩‍👦‍👦"  # one grapheme, 25 UTF-8 bytes
    assert "3000 UTF-8 bytes" in _reason(catalog, POST, _post(text=family * 121))
    validate_record(catalog, POST, _post(text=family * 120))


def test_record_type_must_name_the_collection(catalog: LexiconCatalog) -> None:
    post = _post()
    del post["$type"]
    assert _reason(catalog, POST, post) == f"Record/$type must be {POST}"
    assert "$type" in _reason(catalog, POST, _post(**{"$type": "app.bsky.feed.like"}))
    assert "$type" in _reason(catalog, POST, _post(**{"$type": f"{POST}#main"}))
    assert _reason(catalog, POST, []) == "Record must be an object"


def test_nested_failures_report_the_full_path(catalog: LexiconCatalog) -> None:
    reply = {"root": {"uri": URI, "cid": CID_TEXT}, "parent": {"uri": "nope", "cid": CID_TEXT}}
    reason = _reason(catalog, POST, _post(reply=reply))
    assert reason == "Record/reply/parent/uri must be a valid at-uri"
    post = _post()
    post["facets"] = [{"index": {"byteStart": 0, "byteEnd": 1}, "features": [{"$type": 7}]}]
    assert _reason(catalog, POST, post).startswith("Record/facets/0/features/0 ")


def test_required_properties_are_named(catalog: LexiconCatalog) -> None:
    post = _post()
    del post["createdAt"]
    assert _reason(catalog, POST, post) == 'Record must have the property "createdAt"'


def test_open_union_accepts_unknown_variants_but_checks_known_ones(
    catalog: LexiconCatalog,
) -> None:
    validate_record(catalog, POST, _post(embed={"$type": "com.example.embed", "anything": 1}))
    bad = _post(embed={"$type": "app.bsky.embed.external", "external": {"uri": "x"}})
    assert _reason(catalog, POST, bad).startswith("Record/embed/external/")
    assert "$type" in _reason(catalog, POST, _post(embed={"images": []}))


def test_union_variants_match_with_or_without_main_suffix(catalog: LexiconCatalog) -> None:
    images = {"images": [{"alt": "", "image": 5}]}
    for type_name in ("app.bsky.embed.images", "app.bsky.embed.images#main"):
        bad = _post(embed={"$type": type_name, **images})
        assert _reason(catalog, POST, bad) == "Record/embed/images/0/image should be a blob ref"


def test_closed_union_rejects_unlisted_types(catalog: LexiconCatalog) -> None:
    body = {"repo": "alice.test", "writes": [{"$type": "com.example.write"}]}
    with pytest.raises(ValidationError, match=r"^Input/writes/0/\$type must be one of"):
        validate_input(catalog, "com.atproto.repo.applyWrites", body)


def test_array_length_and_item_format_are_checked(catalog: LexiconCatalog) -> None:
    too_many = _reason(catalog, POST, _post(langs=["en", "fr", "de", "es"]))
    assert too_many == "Record/langs must not have more than 3 elements"
    assert _reason(catalog, POST, _post(langs=["en", "!!"])).startswith("Record/langs/1 ")


def _profile(avatar: dict[str, Any]) -> Any:
    return from_json({"$type": "app.bsky.actor.profile", "avatar": avatar})


def test_blob_mime_type_and_size_are_checked(catalog: LexiconCatalog) -> None:
    profile = "app.bsky.actor.profile"
    png = {"$type": "blob", "ref": BLOB_REF, "mimeType": "image/png", "size": 1000}
    validate_record(catalog, profile, _profile(png))
    wrong_type = _reason(catalog, profile, _profile({**png, "mimeType": "text/plain"}))
    assert wrong_type == "Record/avatar mimeType must be one of image/png, image/jpeg"
    too_big = _reason(catalog, profile, _profile({**png, "size": 1_000_001}))
    assert too_big == "Record/avatar must not be larger than 1000000 bytes"


def test_legacy_blob_refs_are_accepted_with_their_mime_type_checked(
    catalog: LexiconCatalog,
) -> None:
    profile = "app.bsky.actor.profile"
    legacy = {"cid": BLOB_REF["$link"], "mimeType": "image/jpeg"}
    validate_record(catalog, profile, _profile(legacy))
    assert "mimeType" in _reason(catalog, profile, _profile({**legacy, "mimeType": "image/gif"}))


def test_blob_accept_wildcards_match_the_major_type() -> None:
    doc = {
        "lexicon": 1,
        "id": "com.example.media",
        "defs": {
            "main": {
                "type": "record",
                "key": "any",
                "record": {
                    "type": "object",
                    "properties": {
                        "img": {"type": "blob", "accept": ["image/*"]},
                        "any": {"type": "blob", "accept": ["*/*"]},
                    },
                },
            }
        },
    }
    catalog = LexiconCatalog([doc])

    def blob(mime: str) -> dict[str, Any]:
        return {"$type": "blob", "ref": BLOB_REF, "mimeType": mime, "size": 1}

    record = {"$type": "com.example.media", "img": blob("IMAGE/webp"), "any": blob("x/y")}
    validate_record(catalog, "com.example.media", from_json(record))
    with pytest.raises(ValidationError, match="Record/img mimeType"):
        validate_record(
            catalog, "com.example.media", from_json({**record, "img": blob("video/mp4")})
        )


def test_input_and_output_bodies_are_validated(catalog: LexiconCatalog) -> None:
    body = {"repo": "alice.test", "collection": POST, "record": {"text": "x"}}
    assert validate_input(catalog, "com.atproto.repo.createRecord", body) is body
    with pytest.raises(ValidationError, match=r'^Input must have the property "collection"$'):
        validate_input(catalog, "com.atproto.repo.createRecord", {"repo": "alice.test"})
    with pytest.raises(ValidationError, match=r"^Input must be an object$"):
        validate_input(catalog, "com.atproto.repo.createRecord", [])
    with pytest.raises(ValidationError, match=r"^Output/records must be an array$"):
        validate_output(catalog, "com.atproto.repo.listRecords", {"records": {}})


def test_nullable_properties_accept_null_and_others_do_not(catalog: LexiconCatalog) -> None:
    body = {"repo": "alice.test", "collection": POST, "rkey": "self", "record": {}}
    validate_input(catalog, "com.atproto.repo.putRecord", {**body, "swapRecord": None})
    with pytest.raises(ValidationError, match=r"^Input/swapCommit must be a string$"):
        validate_input(catalog, "com.atproto.repo.putRecord", {**body, "swapCommit": None})


def test_unknown_fields_must_hold_plain_objects(catalog: LexiconCatalog) -> None:
    body = {"repo": "alice.test", "collection": POST}
    for record in ("text", b"bytes", {"$type": "blob", "ref": 1}, {"$link": CID_TEXT}):
        with pytest.raises(ValidationError, match=r"^Input/record must be an object$"):
            validate_input(catalog, "com.atproto.repo.createRecord", {**body, "record": record})


def test_value_against_a_named_object_def(catalog: LexiconCatalog) -> None:
    ref = "com.atproto.repo.strongRef"
    validate_value(catalog, ref, {"uri": URI, "cid": CID_TEXT})
    with pytest.raises(ValidationError, match=r"^Object/cid must be a cid string$"):
        validate_value(catalog, ref, {"uri": URI, "cid": "nope"})
    with pytest.raises(ValidationError, match=r"^Object must be an object$"):
        validate_value(catalog, "app.bsky.actor.defs#profileViewBasic", "did:plc:x")


def test_subscription_messages_take_their_type_from_the_frame(catalog: LexiconCatalog) -> None:
    nsid = "com.atproto.sync.subscribeRepos"
    event = {"seq": 1, "did": "did:plc:ewvi7nxzyoun6zhxrhs64oiz", "time": "2024-05-01T00:00:00Z"}
    validate_message(catalog, nsid, event, "#identity")
    validate_message(catalog, nsid, {"$type": f"{nsid}#identity", **event})
    with pytest.raises(ValidationError, match=r'^Message must have the property "did"$'):
        validate_message(catalog, nsid, {"seq": 1, "time": event["time"]}, "#identity")
    with pytest.raises(ValidationError, match=r"^Message must be an object which includes"):
        validate_message(catalog, nsid, event)
    validate_message(catalog, nsid, {"new": "kind"}, "#futureEvent")  # open union


def test_record_keys_follow_the_collection_key_type(catalog: LexiconCatalog) -> None:
    validate_record_key(catalog, POST, "3kq2w3l4s5d2x")
    with pytest.raises(ValidationError, match="TID"):
        validate_record_key(catalog, POST, "self")
    validate_record_key(catalog, "app.bsky.actor.profile", "self")
    with pytest.raises(ValidationError, match="must be self"):
        validate_record_key(catalog, "app.bsky.actor.profile", "3kq2w3l4s5d2x")
    with pytest.raises(ValidationError, match="Record Key"):
        validate_record_key(catalog, "app.bsky.actor.profile", "..")


def test_unknown_lexicons_and_wrong_kinds_are_not_validation_errors(
    catalog: LexiconCatalog,
) -> None:
    with pytest.raises(LexiconNotFound):
        validate_record(catalog, "com.example.nope", {"$type": "com.example.nope"})
    with pytest.raises(LexiconError, match="not a record") as caught:
        validate_record(catalog, "com.atproto.repo.listRecords", {})
    assert not isinstance(caught.value, ValidationError)
    with pytest.raises(LexiconError, match="not a procedure"):
        validate_input(catalog, "com.atproto.repo.listRecords", {})


def test_validation_errors_survive_pickling() -> None:
    error = ValidationError("must be a string", ("Record", "text"))
    clone = pickle.loads(pickle.dumps(error))
    assert (clone.path, str(clone)) == (error.path, str(error))


def test_a_typical_post_validates_in_well_under_a_millisecond(catalog: LexiconCatalog) -> None:
    post = _post(**FULL_POST)
    validate_record(catalog, POST, post)
    runs = 500
    start = time.perf_counter()
    for _ in range(runs):
        validate_record(catalog, POST, post)
    per_call = (time.perf_counter() - start) / runs
    assert per_call < 500e-6  # measured ~20 µs; this only catches a return to interpretation


def test_recursive_schemas_validate_and_overly_deep_values_fail_cleanly() -> None:
    catalog = LexiconCatalog(
        [
            {
                "lexicon": 1,
                "id": "com.example.tree",
                "defs": {
                    "main": {
                        "type": "object",
                        "properties": {"child": {"type": "ref", "ref": "#main"}},
                    }
                },
            }
        ]
    )
    tree: dict[str, Any] = {}
    for _ in range(50):
        tree = {"child": tree}
    validate_value(catalog, "com.example.tree", tree)
    for _ in range(100_000):
        tree = {"child": tree}
    with pytest.raises(ValidationError, match="nested too deeply"):
        validate_value(catalog, "com.example.tree", tree)


def test_nesting_is_bounded_at_the_same_depth_compiled_or_not() -> None:
    """The bound is the validator's own (ADR 0018), not Python's recursion limit: a value of
    `MAX_VALUE_DEPTH` nested containers is checked, one more is refused, in both builds."""
    catalog = LexiconCatalog(
        [
            {
                "lexicon": 1,
                "id": "com.example.box",
                "defs": {"main": {"type": "object", "properties": {"v": {"type": "unknown"}}}},
            }
        ]
    )

    def nested(depth: int) -> dict[str, Any]:
        inner: Any = {}
        for _ in range(depth - 3):  # the two maps around the lists, and the one inside
            inner = [inner]
        return {"v": {"x": inner}}

    assert validate_value(catalog, "com.example.box", nested(MAX_VALUE_DEPTH))
    with pytest.raises(ValidationError, match="nested too deeply"):
        validate_value(catalog, "com.example.box", nested(MAX_VALUE_DEPTH + 1))
