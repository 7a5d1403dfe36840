"""The sign-up helpers of `com.atproto.temp.*`, over a real socket."""

from __future__ import annotations

from tests.integration.conftest import Account, LiveServer, assert_xrpc_error

NS = "/xrpc/com.atproto.temp."
AVAILABILITY = "com.atproto.temp.checkHandleAvailability"


def test_a_free_handle_is_available(server: LiveServer) -> None:
    response = server.http.get(NS + "checkHandleAvailability", params={"handle": "fresh.test"})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "handle": "fresh.test", "result": {"$type": f"{AVAILABILITY}#resultAvailable"}
    }  # fmt: skip


def test_a_taken_handle_comes_with_free_suggestions(server: LiveServer) -> None:
    taken = server.create_account("taken")
    response = server.http.get(NS + "checkHandleAvailability", params={"handle": taken.handle})
    result = response.json()["result"]
    assert result["$type"] == f"{AVAILABILITY}#resultUnavailable"
    suggested = [s["handle"] for s in result["suggestions"]]
    assert len(suggested) == 5 and taken.handle not in suggested
    for handle in suggested:
        again = server.http.get(NS + "checkHandleAvailability", params={"handle": handle})
        assert again.json()["result"]["$type"].endswith("#resultAvailable")


def test_handles_outside_the_served_domains_are_refused(server: LiveServer) -> None:
    response = server.http.get(NS + "checkHandleAvailability", params={"handle": "a.example.com"})
    assert_xrpc_error(response, 400, "UnsupportedDomain")
    malformed = server.http.get(NS + "checkHandleAvailability", params={"handle": "no handle"})
    assert_xrpc_error(malformed, 400, "InvalidRequest")


def test_the_signup_queue_is_always_open(server: LiveServer, account: Account) -> None:
    response = server.http.get(NS + "checkSignupQueue", headers=account.auth)
    assert response.json() == {"activated": True}
    assert_xrpc_error(server.http.get(NS + "checkSignupQueue"), 401, "AuthenticationRequired")
