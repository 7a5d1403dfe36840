"""getServiceAuth's rules, as the reference PDS applies them, over a fixed clock."""

from __future__ import annotations

import pytest

from application.service_auth import HOUR, MINUTE, ServiceAuth, ServiceAuthRefused
from domain.crypto.k256 import K256Keypair
from domain.crypto.service_jwt import read_service_jwt, verify_service_jwt

DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
AUD = "did:web:video.bsky.app"
NOW = 1_700_000_000
KEY = K256Keypair.from_private_key(bytes(range(1, 33)))


@pytest.fixture
def issuer() -> ServiceAuth:
    return ServiceAuth(lambda did: KEY, lambda: NOW + 0.7, lambda n: "ab" * n)


def test_a_default_token_lasts_a_minute_and_names_both_parties(issuer: ServiceAuth) -> None:
    token = issuer.issue(DID, AUD)
    payload = read_service_jwt(token)[1]
    assert payload == {"iat": NOW, "iss": DID, "aud": AUD, "exp": NOW + MINUTE, "jti": "ab" * 16}
    assert verify_service_jwt(token, KEY.did())


def test_a_method_bound_token_may_last_up_to_an_hour(issuer: ServiceAuth) -> None:
    lxm = "com.atproto.repo.uploadBlob"
    payload = read_service_jwt(issuer.issue(DID, AUD, exp=NOW + HOUR, lxm=lxm))[1]
    assert (payload["exp"], payload["lxm"]) == (NOW + HOUR, lxm)


@pytest.mark.parametrize(
    ("exp", "lxm"),
    [(NOW - 1, None), (NOW + HOUR + 1, "com.atproto.repo.uploadBlob"), (NOW + MINUTE + 1, None)],
    ids=["past", "beyond-an-hour", "method-less-beyond-a-minute"],
)
def test_bad_expirations_are_refused(issuer: ServiceAuth, exp: int, lxm: str | None) -> None:
    with pytest.raises(ServiceAuthRefused) as refused:
        issuer.issue(DID, AUD, exp=exp, lxm=lxm)
    assert refused.value.error == "BadExpiration"


@pytest.mark.parametrize(
    "lxm", ["com.atproto.server.createAppPassword", "com.atproto.identity.signPlcOperation"]
)
def test_account_management_methods_are_never_bound(issuer: ServiceAuth, lxm: str) -> None:
    with pytest.raises(ServiceAuthRefused, match="protected method") as refused:
        issuer.issue(DID, AUD, lxm=lxm)
    assert refused.value.error == "InvalidRequest"


@pytest.mark.parametrize("lxm", ["chat.bsky.convo.sendMessage", "com.atproto.server.createAccount"])
def test_app_password_sessions_cannot_bind_privileged_methods(
    issuer: ServiceAuth, lxm: str
) -> None:
    with pytest.raises(ServiceAuthRefused, match="insufficient access"):
        issuer.issue(DID, AUD, lxm=lxm, privileged=False)
    assert read_service_jwt(issuer.issue(DID, AUD, lxm=lxm))[1]["lxm"] == lxm


@pytest.mark.parametrize(
    "lxm", ["chat.bsky.convo.getLog", "chat.bsky.group.createGroup", "Chat.Bsky.convo.getLog"]
)
def test_privileged_sessions_bind_chat_methods_and_others_do_not(
    issuer: ServiceAuth, lxm: str
) -> None:
    assert read_service_jwt(issuer.issue(DID, AUD, lxm=lxm, privileged=True))[1]["lxm"] == lxm
    with pytest.raises(ServiceAuthRefused, match="insufficient access"):
        issuer.issue(DID, AUD, lxm=lxm, privileged=False)


def test_protected_methods_are_matched_in_any_case(issuer: ServiceAuth) -> None:
    with pytest.raises(ServiceAuthRefused, match="protected method"):
        issuer.issue(DID, AUD, lxm="com.atproto.server.CreateAppPassword")


def test_insufficient_access_is_reported_before_a_bad_expiration(issuer: ServiceAuth) -> None:
    with pytest.raises(ServiceAuthRefused, match="insufficient access"):
        issuer.issue(DID, AUD, exp=NOW - 1, lxm="chat.bsky.convo.getLog", privileged=False)
