"""resolveDid, resolveIdentity and refreshIdentity over a real socket, for accounts hosted
here (their handles resolve locally, their DIDs through the embedded PLC directory)."""

from __future__ import annotations

import time

import pytest

from tests.integration.conftest import Account, LiveServer, assert_xrpc_error

NS = "/xrpc/com.atproto.identity."
UNKNOWN_DID = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"


@pytest.fixture(scope="module")
def alice(server: LiveServer) -> Account:
    return server.create_account("alice")


@pytest.mark.parametrize("by", ["handle", "did"])
def test_an_identity_resolves_to_its_did_verified_handle_and_document(
    server: LiveServer, alice: Account, by: str
) -> None:
    identifier = alice.handle if by == "handle" else alice.did
    response = server.http.get(NS + "resolveIdentity", params={"identifier": identifier})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["did"], body["handle"]) == (alice.did, alice.handle)
    assert body["didDoc"]["id"] == alice.did
    assert f"at://{alice.handle}" in body["didDoc"]["alsoKnownAs"]


def test_a_did_resolves_to_its_document(server: LiveServer, alice: Account) -> None:
    response = server.http.get(NS + "resolveDid", params={"did": alice.did})
    assert response.status_code == 200, response.text
    services = response.json()["didDoc"]["service"]
    assert services[0]["serviceEndpoint"] == server.services.settings.public_url


def test_refresh_identity_answers_the_same_fresh(server: LiveServer, alice: Account) -> None:
    response = server.http.post(NS + "refreshIdentity", json={"identifier": alice.handle})
    assert response.status_code == 200, response.text
    assert (response.json()["did"], response.json()["handle"]) == (alice.did, alice.handle)


def test_an_unknown_did_is_did_not_found(server: LiveServer) -> None:
    assert_xrpc_error(
        server.http.get(NS + "resolveDid", params={"did": UNKNOWN_DID}), 400, "DidNotFound"
    )
    unknown = server.http.get(NS + "resolveIdentity", params={"identifier": UNKNOWN_DID})
    assert_xrpc_error(unknown, 400, "DidNotFound")


def test_a_handle_nobody_has_is_handle_not_found(server: LiveServer) -> None:
    started = time.monotonic()
    response = server.http.get(NS + "resolveIdentity", params={"identifier": "nobody.invalid"})
    assert_xrpc_error(response, 400, "HandleNotFound")
    assert time.monotonic() - started < 15


def test_malformed_identifiers_are_invalid_requests(server: LiveServer) -> None:
    bad = server.http.get(NS + "resolveIdentity", params={"identifier": "not an identifier"})
    assert_xrpc_error(bad, 400, "InvalidRequest")
    assert_xrpc_error(server.http.post(NS + "refreshIdentity", json={}), 400, "InvalidRequest")
