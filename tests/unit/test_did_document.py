"""Reading atproto identity data out of DID documents, per the DID spec's parsing rules."""

from __future__ import annotations

from typing import Any

import pytest

from domain.crypto.k256 import K256Keypair
from domain.crypto.multibase import multibase_encode
from domain.crypto.p256 import P256Keypair
from domain.identity.did_document import (
    AtprotoIdentity,
    MalformedDidDocument,
    atproto_identity,
    check_did_document,
    service_endpoint,
)
from domain.plc.document import PlcData, did_document
from domain.plc.operation import Service

DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"


def plc_doc(signing_key: str) -> dict[str, Any]:
    return did_document(
        PlcData(
            did=DID,
            rotation_keys=(),
            verification_methods={"atproto": signing_key},
            also_known_as=("at://Alice.Example.com",),
            services={"atproto_pds": Service("AtprotoPersonalDataServer", "https://pds.example")},
        )
    )


@pytest.mark.parametrize("keypair", [K256Keypair.generate(), P256Keypair.generate()])
def test_a_plc_document_yields_handle_key_and_pds(keypair: Any) -> None:
    identity = atproto_identity(DID, plc_doc(keypair.did()))
    assert identity == AtprotoIdentity(
        did=DID,
        handle="alice.example.com",
        signing_key=keypair.did(),
        pds_endpoint="https://pds.example",
    )


def test_the_document_must_name_the_did_asked_for() -> None:
    doc = plc_doc(K256Keypair.generate().did())
    with pytest.raises(MalformedDidDocument):
        check_did_document("did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", doc)


@pytest.mark.parametrize(
    "doc",
    [
        None,
        [],
        {"id": DID, "alsoKnownAs": "at://a.com"},
        {"id": DID, "alsoKnownAs": [1]},
        {"id": DID, "verificationMethod": {}},
        {"id": DID, "service": ["#atproto_pds"]},
    ],
)
def test_badly_shaped_documents_are_refused(doc: Any) -> None:
    with pytest.raises(MalformedDidDocument):
        check_did_document(DID, doc)


def test_first_valid_handle_wins_and_other_uris_are_skipped() -> None:
    doc = {
        "id": DID,
        "alsoKnownAs": ["https://a.com", "at://not a handle", "at://b.com", "at://c.com"],
    }
    assert atproto_identity(DID, doc).handle == "b.com"


def test_keys_need_the_atproto_id_and_the_did_as_controller() -> None:
    good = K256Keypair.generate()
    stranger = K256Keypair.generate().public_key.multikey()
    doc = {
        "id": DID,
        "verificationMethod": [
            {"id": "#other", "type": "Multikey", "controller": DID, "publicKeyMultibase": stranger},
            {
                "id": "#atproto",
                "type": "Multikey",
                "controller": "did:web:x.com",
                "publicKeyMultibase": stranger,
            },
            {"id": "#atproto", "type": "Multikey", "controller": DID, "publicKeyMultibase": "zBad"},
            {
                "id": "#atproto",
                "type": "Multikey",
                "controller": DID,
                "publicKeyMultibase": good.public_key.multikey(),
            },
        ],
    }
    assert atproto_identity(DID, doc).signing_key == good.did()


def test_legacy_verification_method_with_uncompressed_key_is_read() -> None:
    keypair = K256Keypair.generate()
    doc = {
        "id": DID,
        "verificationMethod": [
            {
                "id": f"{DID}#atproto",
                "type": "EcdsaSecp256k1VerificationKey2019",
                "controller": DID,
                "publicKeyMultibase": multibase_encode(keypair.public_key.uncompressed()),
            }
        ],
    }
    assert atproto_identity(DID, doc).signing_key == keypair.did()


@pytest.mark.parametrize(
    ("service", "expected"),
    [
        (
            {
                "id": "#atproto_pds",
                "type": "AtprotoPersonalDataServer",
                "serviceEndpoint": "https://p.com",
            },
            "https://p.com",
        ),
        (
            {
                "id": f"{DID}#atproto_pds",
                "type": "AtprotoPersonalDataServer",
                "serviceEndpoint": "http://localhost:2583",
            },
            "http://localhost:2583",
        ),
        ({"id": "#atproto_pds", "type": "Other", "serviceEndpoint": "https://p.com"}, None),
        (
            {
                "id": "#atproto_pds",
                "type": "AtprotoPersonalDataServer",
                "serviceEndpoint": "ftp://p.com",
            },
            None,
        ),
        (
            {
                "id": "#atproto_pds",
                "type": "AtprotoPersonalDataServer",
                "serviceEndpoint": {"a": 1},
            },
            None,
        ),
        (
            {
                "id": "#atproto_pds",
                "type": "AtprotoPersonalDataServer",
                "serviceEndpoint": "https://p.com:x",
            },
            None,
        ),
    ],
)
def test_pds_endpoint_needs_the_right_id_type_and_an_http_url(
    service: dict[str, Any], expected: str | None
) -> None:
    assert atproto_identity(DID, {"id": DID, "service": [service]}).pds_endpoint == expected


def test_a_bare_document_has_no_atproto_data() -> None:
    assert atproto_identity(DID, {"id": DID}) == AtprotoIdentity(DID, None, None, None)


def test_a_named_service_endpoint_is_found_by_fragment_in_either_id_form() -> None:
    did = "did:web:api.bsky.app"
    doc = {
        "id": did,
        "service": [
            {"id": "#bsky_notif", "type": "BskyNotificationService",
             "serviceEndpoint": "https://notif.example"},
            {"id": f"{did}#bsky_appview", "type": "BskyAppView",
             "serviceEndpoint": "https://api.bsky.app"},
            {"id": "#broken", "type": "X", "serviceEndpoint": "ftp://nope.example"},
        ],
    }  # fmt: skip
    assert service_endpoint(did, doc, "bsky_appview") == "https://api.bsky.app"
    assert service_endpoint(did, doc, "bsky_notif") == "https://notif.example"
    assert service_endpoint(did, doc, "broken") is None
    assert service_endpoint(did, doc, "missing") is None
