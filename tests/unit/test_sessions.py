"""Session use cases: login, token shape, rotation with a grace period, app passwords."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest

from adapters.security.jwt_hs256 import HS256Signer
from application.auth_errors import (
    AccountTakedown,
    AuthenticationFailed,
    ExpiredToken,
    InvalidCredentialRequest,
    InvalidToken,
)
from application.ports.account_lookup import AccountInfo
from application.sessions import SessionService
from tests.fakes.credentials import FakeAccounts, FakeClock, FastHasher, InMemoryCredentialStore

SERVICE = "did:web:pds.test"
SECRET = b"s" * 32
ALICE = AccountInfo(
    did="did:plc:alice", handle="alice.test", email="alice@example.com", status="active"
)
BOB = AccountInfo(did="did:plc:bob", handle="bob.test", email=None, status="active")
PASSWORD = "correct horse battery staple"
HOUR = 3600
DAY = 86400


class World:
    """A service over fakes, with handles on each fake for the assertions."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.store = InMemoryCredentialStore()
        self.hasher = FastHasher()
        self.accounts = FakeAccounts(ALICE, BOB)
        self.signer = HS256Signer(SECRET, clock=self.clock)
        self.service = self.make_service(SERVICE)
        self.service.set_password(ALICE.did, PASSWORD)
        self.service.set_password(BOB.did, "bob's password")

    def make_service(self, service_did: str, store: Any = None) -> SessionService:
        return SessionService(
            store or self.store,
            self.hasher,
            self.signer,
            self.accounts,
            self.clock,
            service_did=service_did,
        )


@pytest.fixture
def w() -> World:
    return World()


def decode(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    def part(segment: str) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(base64.urlsafe_b64decode(segment + "=="))
        return value

    header, payload, _ = token.split(".")
    return part(header), part(payload)


# Logging in


@pytest.mark.parametrize(
    "identifier", ["alice.test", "Alice.Test", "did:plc:alice", "ALICE@example.com"]
)
def test_login_accepts_handle_did_or_email_in_any_case(w: World, identifier: str) -> None:
    session = w.service.create_session(identifier, PASSWORD)
    assert (session.did, session.handle, session.email) == (ALICE.did, "alice.test", ALICE.email)
    assert session.active is True
    assert session.status is None


def test_wrong_password_fails_with_the_generic_message(w: World) -> None:
    with pytest.raises(AuthenticationFailed, match="Invalid identifier or password") as exc:
        w.service.create_session("alice.test", "wrong")
    assert exc.value.error == "AuthenticationRequired"
    assert exc.value.status == 401


def test_unknown_account_fails_the_same_way_and_still_costs_a_hash(w: World) -> None:
    before = w.hasher.verifications
    with pytest.raises(AuthenticationFailed, match="Invalid identifier or password"):
        w.service.create_session("nobody.test", PASSWORD)
    assert w.hasher.verifications == before + 1


def test_account_without_a_password_cannot_log_in(w: World) -> None:
    w.accounts.add(AccountInfo("did:plc:carol", "carol.test", None, "active"))
    with pytest.raises(AuthenticationFailed):
        w.service.create_session("carol.test", "")


def test_deleted_account_cannot_log_in(w: World) -> None:
    w.accounts.set_status(ALICE.did, "deleted")
    with pytest.raises(AuthenticationFailed):
        w.service.create_session("alice.test", PASSWORD)


@pytest.mark.parametrize("status", ["takendown", "suspended"])
def test_taken_down_account_with_right_password_is_told_so(w: World, status: str) -> None:
    w.accounts.set_status(ALICE.did, status)
    with pytest.raises(AccountTakedown) as exc:
        w.service.create_session("alice.test", PASSWORD)
    assert exc.value.error == "AccountTakedown"


def test_taken_down_account_with_wrong_password_learns_nothing(w: World) -> None:
    w.accounts.set_status(ALICE.did, "takendown")
    with pytest.raises(AuthenticationFailed):
        w.service.create_session("alice.test", "wrong")


def test_taken_down_account_cannot_use_an_app_password(w: World) -> None:
    app = w.service.create_app_password(ALICE.did, "client")
    w.accounts.set_status(ALICE.did, "takendown")
    with pytest.raises(AuthenticationFailed):
        w.service.create_session("alice.test", app.password)


def test_deactivated_account_logs_in_but_is_not_active(w: World) -> None:
    w.accounts.set_status(ALICE.did, "deactivated")
    session = w.service.create_session("alice.test", PASSWORD)
    assert (session.active, session.status) == (False, "deactivated")


def test_overlong_password_is_refused_before_hashing(w: World) -> None:
    before = w.hasher.verifications
    with pytest.raises(AuthenticationFailed, match="too long"):
        w.service.create_session("alice.test", "x" * 513)
    assert w.hasher.verifications == before


def test_login_upgrades_a_hash_made_with_old_parameters(w: World) -> None:
    old = w.store.passwords[ALICE.did]
    w.hasher.params = 2
    w.service.create_session("alice.test", PASSWORD)
    new = w.store.passwords[ALICE.did]
    assert new != old
    assert not w.hasher.needs_rehash(new)
    w.service.create_session("alice.test", PASSWORD)


# Token shape


def test_access_token_is_a_two_hour_at_jwt_for_this_service(w: World) -> None:
    header, claims = decode(w.service.create_session("alice.test", PASSWORD).access_jwt)
    assert header == {"alg": "HS256", "typ": "at+jwt"}
    assert claims["scope"] == "com.atproto.access"
    assert (claims["sub"], claims["aud"]) == (ALICE.did, SERVICE)
    assert claims["iat"] == int(w.clock.now)
    assert claims["exp"] - claims["iat"] == 2 * HOUR


def test_refresh_token_is_a_ninety_day_refresh_jwt_with_an_id(w: World) -> None:
    header, claims = decode(w.service.create_session("alice.test", PASSWORD).refresh_jwt)
    assert header == {"alg": "HS256", "typ": "refresh+jwt"}
    assert claims["scope"] == "com.atproto.refresh"
    assert (claims["sub"], claims["aud"]) == (ALICE.did, SERVICE)
    assert claims["exp"] - claims["iat"] == 90 * DAY
    assert isinstance(claims["jti"], str) and len(claims["jti"]) >= 32
    assert w.store.get_refresh(claims["jti"]) is not None


# Verifying tokens


def test_access_token_verifies_to_its_account_and_scope(w: World) -> None:
    session = w.service.create_session("alice.test", PASSWORD)
    ctx = w.service.verify_access(session.access_jwt)
    assert (ctx.did, ctx.scope) == (ALICE.did, "com.atproto.access")


def test_access_token_expires_after_two_hours(w: World) -> None:
    session = w.service.create_session("alice.test", PASSWORD)
    w.clock.advance(2 * HOUR - 60)
    w.service.verify_access(session.access_jwt)
    w.clock.advance(120)
    with pytest.raises(ExpiredToken) as exc:
        w.service.verify_access(session.access_jwt)
    assert (exc.value.error, exc.value.status) == ("ExpiredToken", 400)


def test_refresh_token_presented_as_access_token_is_invalid(w: World) -> None:
    session = w.service.create_session("alice.test", PASSWORD)
    with pytest.raises(InvalidToken):
        w.service.verify_access(session.refresh_jwt)


def test_access_token_presented_as_refresh_token_is_invalid(w: World) -> None:
    session = w.service.create_session("alice.test", PASSWORD)
    with pytest.raises(InvalidToken):
        w.service.refresh_session(session.access_jwt)


def test_token_for_another_service_is_invalid(w: World) -> None:
    other = w.make_service("did:web:other.test")
    session = other.create_session("alice.test", PASSWORD)
    with pytest.raises(InvalidToken, match="another service"):
        w.service.verify_access(session.access_jwt)


def test_token_signed_with_another_secret_is_invalid(w: World) -> None:
    forged = HS256Signer(b"x" * 32, clock=w.clock).issue(
        {"scope": "com.atproto.access", "sub": ALICE.did, "aud": SERVICE, "exp": 2**40},
        "at+jwt",
    )
    with pytest.raises(InvalidToken):
        w.service.verify_access(forged)


@pytest.mark.parametrize(
    "claims",
    [
        {"scope": "com.atproto.refresh", "sub": ALICE.did},
        {"scope": "com.atproto.admin", "sub": ALICE.did},
        {"sub": ALICE.did},
        {"scope": "com.atproto.access", "sub": "alice"},
        {"scope": "com.atproto.access"},
        {"scope": "com.atproto.access", "sub": ALICE.did, "lxm": "com.atproto.repo.createRecord"},
        {"scope": "com.atproto.access", "sub": ALICE.did, "cnf": {"jkt": "x"}},
    ],
)
def test_well_signed_access_token_with_bad_claims_is_invalid(
    w: World, claims: dict[str, Any]
) -> None:
    token = w.signer.issue({**claims, "aud": SERVICE, "exp": int(w.clock.now) + 60}, "at+jwt")
    with pytest.raises(InvalidToken):
        w.service.verify_access(token)


def test_refresh_token_without_an_id_is_invalid(w: World) -> None:
    token = w.signer.issue(
        {"scope": "com.atproto.refresh", "sub": ALICE.did, "aud": SERVICE, "exp": 2**40},
        "refresh+jwt",
    )
    with pytest.raises(InvalidToken, match="token id"):
        w.service.verify_refresh(token)


# Refreshing


def test_refresh_rotates_to_a_new_working_pair(w: World) -> None:
    first = w.service.create_session("alice.test", PASSWORD)
    w.clock.advance(60)
    second = w.service.refresh_session(first.refresh_jwt)
    assert second.refresh_jwt != first.refresh_jwt
    assert decode(second.refresh_jwt)[1]["jti"] != decode(first.refresh_jwt)[1]["jti"]
    assert w.service.verify_access(second.access_jwt).did == ALICE.did
    third = w.service.refresh_session(second.refresh_jwt)
    assert third.did == ALICE.did


def test_reusing_a_rotated_token_in_the_grace_period_yields_the_same_next_token(
    w: World,
) -> None:
    first = w.service.create_session("alice.test", PASSWORD)
    second = w.service.refresh_session(first.refresh_jwt)
    w.clock.advance(HOUR)
    again = w.service.refresh_session(first.refresh_jwt)
    assert decode(again.refresh_jwt)[1]["jti"] == decode(second.refresh_jwt)[1]["jti"]


def test_rotated_token_is_refused_after_the_grace_period(w: World) -> None:
    first = w.service.create_session("alice.test", PASSWORD)
    second = w.service.refresh_session(first.refresh_jwt)
    w.clock.advance(2 * HOUR)
    with pytest.raises(ExpiredToken, match="revoked"):
        w.service.refresh_session(first.refresh_jwt)
    w.service.refresh_session(second.refresh_jwt)


def test_reuse_does_not_extend_the_grace_period(w: World) -> None:
    first = w.service.create_session("alice.test", PASSWORD)
    w.service.refresh_session(first.refresh_jwt)
    w.clock.advance(HOUR)
    w.service.refresh_session(first.refresh_jwt)
    w.clock.advance(HOUR)
    with pytest.raises(ExpiredToken):
        w.service.refresh_session(first.refresh_jwt)


def test_grace_period_never_outlives_the_original_expiry(w: World) -> None:
    first = w.service.create_session("alice.test", PASSWORD)
    jti = decode(first.refresh_jwt)[1]["jti"]
    original_expiry = w.store.refresh[jti].expires_at
    w.clock.advance(90 * DAY - 600)
    w.service.refresh_session(first.refresh_jwt)
    assert w.store.refresh[jti].expires_at == original_expiry


def test_refresh_token_expires_after_ninety_days(w: World) -> None:
    first = w.service.create_session("alice.test", PASSWORD)
    w.clock.advance(90 * DAY + 60)
    with pytest.raises(ExpiredToken):
        w.service.refresh_session(first.refresh_jwt)


def test_losing_a_concurrent_refresh_yields_the_winners_next_token(w: World) -> None:
    first = w.service.create_session("alice.test", PASSWORD)
    jti = decode(first.refresh_jwt)[1]["jti"]

    class RacingStore:
        """Lets another refresh win just before ours marks the token used."""

        def __init__(self, inner: InMemoryCredentialStore) -> None:
            self.inner = inner
            self.raced = False

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

        def mark_used(self, jti_: str, **kwargs: Any) -> bool:
            if not self.raced:
                self.raced = True
                self.inner.mark_used(jti_, **{**kwargs, "next_jti": "winner-jti"})
            return self.inner.mark_used(jti_, **kwargs)

    racing = w.make_service(SERVICE, store=RacingStore(w.store))
    session = racing.refresh_session(first.refresh_jwt)
    assert decode(session.refresh_jwt)[1]["jti"] == "winner-jti"
    assert w.store.refresh[jti].next_jti == "winner-jti"


def test_refresh_is_refused_once_the_account_is_taken_down(w: World) -> None:
    first = w.service.create_session("alice.test", PASSWORD)
    w.accounts.set_status(ALICE.did, "takendown")
    with pytest.raises(AccountTakedown):
        w.service.refresh_session(first.refresh_jwt)


def test_refresh_is_refused_once_the_account_is_deleted(w: World) -> None:
    first = w.service.create_session("alice.test", PASSWORD)
    w.accounts.set_status(ALICE.did, "deleted")
    with pytest.raises(InvalidToken):
        w.service.refresh_session(first.refresh_jwt)


def test_password_change_revokes_existing_refresh_tokens(w: World) -> None:
    first = w.service.create_session("alice.test", PASSWORD)
    w.service.set_password(ALICE.did, "a new password")
    with pytest.raises(ExpiredToken, match="revoked"):
        w.service.refresh_session(first.refresh_jwt)
    with pytest.raises(AuthenticationFailed):
        w.service.create_session("alice.test", PASSWORD)
    w.service.create_session("alice.test", "a new password")


@pytest.mark.parametrize("password", ["", "x" * 257])
def test_new_password_must_be_one_to_256_characters(w: World, password: str) -> None:
    with pytest.raises(InvalidCredentialRequest):
        w.service.set_password(ALICE.did, password)


# Logging out


def test_deleted_session_cannot_be_refreshed(w: World) -> None:
    first = w.service.create_session("alice.test", PASSWORD)
    w.service.delete_session(first.refresh_jwt)
    with pytest.raises(ExpiredToken, match="revoked"):
        w.service.refresh_session(first.refresh_jwt)


def test_delete_session_accepts_an_expired_refresh_token(w: World) -> None:
    first = w.service.create_session("alice.test", PASSWORD)
    jti = decode(first.refresh_jwt)[1]["jti"]
    w.clock.advance(91 * DAY)
    w.service.delete_session(first.refresh_jwt)
    assert w.store.get_refresh(jti) is None


def test_delete_session_leaves_other_sessions_alone(w: World) -> None:
    one = w.service.create_session("alice.test", PASSWORD)
    two = w.service.create_session("alice.test", PASSWORD)
    w.service.delete_session(one.refresh_jwt)
    w.service.refresh_session(two.refresh_jwt)


def test_delete_session_refuses_an_access_token(w: World) -> None:
    first = w.service.create_session("alice.test", PASSWORD)
    with pytest.raises(InvalidToken):
        w.service.delete_session(first.access_jwt)


# Other session entry points


def test_get_session_reports_the_account_status(w: World) -> None:
    assert w.service.get_session(ALICE.did).active is True
    w.accounts.set_status(ALICE.did, "deactivated")
    info = w.service.get_session(ALICE.did)
    assert (info.handle, info.active, info.status) == ("alice.test", False, "deactivated")


def test_session_for_a_new_account_is_a_working_pair(w: World) -> None:
    session = w.service.session_for(BOB.did)
    assert w.service.verify_access(session.access_jwt).did == BOB.did
    w.service.refresh_session(session.refresh_jwt)


# App passwords


def test_app_password_has_the_reference_shape_and_a_timestamp(w: World) -> None:
    app = w.service.create_app_password(ALICE.did, "my client")
    assert re.fullmatch(r"[a-z2-7]{4}(-[a-z2-7]{4}){3}", app.password)
    assert app.created_at == "2023-11-14T22:13:20.000Z"
    assert app.name == "my client"


def test_app_password_logs_in_with_the_app_pass_scope(w: World) -> None:
    app = w.service.create_app_password(ALICE.did, "client")
    session = w.service.create_session("alice.test", app.password)
    assert w.service.verify_access(session.access_jwt).scope == "com.atproto.appPass"


def test_refreshing_an_app_password_session_keeps_its_scope(w: World) -> None:
    app = w.service.create_app_password(ALICE.did, "client")
    session = w.service.refresh_session(
        w.service.create_session("alice.test", app.password).refresh_jwt
    )
    assert w.service.verify_access(session.access_jwt).scope == "com.atproto.appPass"


def test_a_privileged_app_password_logs_in_and_refreshes_with_the_privileged_scope(
    w: World,
) -> None:
    app = w.service.create_app_password(ALICE.did, "chat", privileged=True)
    assert app.privileged
    session = w.service.create_session("alice.test", app.password)
    ctx = w.service.verify_access(session.access_jwt)
    assert ctx.scope == "com.atproto.appPassPrivileged"
    assert (ctx.privileged, ctx.full_access) == (True, False)
    for _ in range(2):
        session = w.service.refresh_session(session.refresh_jwt)
        assert w.service.verify_access(session.access_jwt).scope == ctx.scope


@pytest.mark.parametrize(
    ("scope", "privileged", "full_access"),
    [
        ("com.atproto.access", True, True),
        ("com.atproto.appPassPrivileged", True, False),
        ("com.atproto.appPass", False, False),
    ],
)
def test_each_access_scope_is_accepted_with_its_rights(
    w: World, scope: str, privileged: bool, full_access: bool
) -> None:
    token = w.signer.issue(
        {"scope": scope, "sub": ALICE.did, "aud": SERVICE, "exp": 2**40}, "at+jwt"
    )
    ctx = w.service.verify_access(token)
    assert (ctx.scope, ctx.privileged, ctx.full_access) == (scope, privileged, full_access)


def test_app_passwords_are_listed_with_their_privilege(w: World) -> None:
    w.service.create_app_password(ALICE.did, "plain")
    w.clock.advance(1)
    w.service.create_app_password(ALICE.did, "chat", privileged=True)
    listed = w.service.list_app_passwords(ALICE.did)
    assert [(a.name, a.privileged) for a in listed] == [("chat", True), ("plain", False)]


def test_app_password_is_stored_only_as_a_digest(w: World) -> None:
    app = w.service.create_app_password(ALICE.did, "client")
    stored = repr(w.store.app_passwords)
    assert app.password not in stored


def test_app_passwords_are_listed_newest_first_without_secrets(w: World) -> None:
    w.service.create_app_password(ALICE.did, "older")
    w.clock.advance(1)
    w.service.create_app_password(ALICE.did, "newer")
    listed = w.service.list_app_passwords(ALICE.did)
    assert [a.name for a in listed] == ["newer", "older"]
    assert w.service.list_app_passwords(BOB.did) == []


def test_app_password_names_are_unique_per_account(w: World) -> None:
    w.service.create_app_password(ALICE.did, "client")
    with pytest.raises(InvalidCredentialRequest, match="already in use"):
        w.service.create_app_password(ALICE.did, "client")
    w.service.create_app_password(BOB.did, "client")


def test_app_password_name_must_not_be_blank(w: World) -> None:
    with pytest.raises(InvalidCredentialRequest):
        w.service.create_app_password(ALICE.did, "  ")


def test_app_password_only_opens_its_own_account(w: World) -> None:
    app = w.service.create_app_password(ALICE.did, "client")
    with pytest.raises(AuthenticationFailed):
        w.service.create_session("bob.test", app.password)


def test_revoking_an_app_password_ends_its_logins_and_sessions(w: World) -> None:
    app = w.service.create_app_password(ALICE.did, "client")
    via_app = w.service.create_session("alice.test", app.password)
    via_password = w.service.create_session("alice.test", PASSWORD)
    w.service.revoke_app_password(ALICE.did, "client")
    with pytest.raises(AuthenticationFailed):
        w.service.create_session("alice.test", app.password)
    with pytest.raises(ExpiredToken, match="revoked"):
        w.service.refresh_session(via_app.refresh_jwt)
    w.service.refresh_session(via_password.refresh_jwt)
    assert w.service.list_app_passwords(ALICE.did) == []
