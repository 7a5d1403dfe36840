"""`CredentialStore` contract, run against the in-memory fake, SQLite and Postgres alike.

Postgres runs in a fresh schema per test. Outside CI an unreachable server skips those cases;
under `CI=true` it fails them, so a broken database can never pass as green.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine

from adapters.security.argon2_hasher import FAST_FOR_TESTS, Argon2Hasher
from adapters.security.jwt_hs256 import HS256Signer
from adapters.storage import credential_tables
from adapters.storage.credential_tables import credential_metadata
from adapters.storage.sql_credential_store import SqlCredentialStore
from application.auth_errors import AuthenticationFailed, ExpiredToken
from application.ports.account_lookup import AccountInfo
from application.ports.credentials import AppPasswordInfo, CredentialStore, RefreshRecord
from application.sessions import SessionService
from tests.fakes.credentials import FakeAccounts, FakeClock, InMemoryCredentialStore
from tests.integration.stores import pg_engine

ALICE = "did:plc:alice"
BOB = "did:plc:bob"


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'credentials.sqlite'}")
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_engine() -> Iterator[Engine]:
    with pg_engine() as engine:
        yield engine


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest) -> CredentialStore:
    if request.param == "memory":
        return InMemoryCredentialStore()
    engine: Engine = request.getfixturevalue(f"{request.param}_engine")
    return SqlCredentialStore(engine)


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest) -> Engine:
    value: Engine = request.getfixturevalue(f"{request.param}_engine")
    return value


def rotate(store: CredentialStore, jti: str, next_jti: str, **overrides: Any) -> bool:
    args = {"next_expires_at": 9_000, "expires_at": 2_000, "used_at": 1_000, **overrides}
    return store.mark_used(jti, next_jti=next_jti, **args)


# Account passwords


def test_password_hash_is_stored_and_replaced(store: CredentialStore) -> None:
    assert store.get_password_hash(ALICE) is None
    store.set_password_hash(ALICE, "$argon2id$one")
    store.set_password_hash(ALICE, "$argon2id$two")
    assert store.get_password_hash(ALICE) == "$argon2id$two"
    assert store.get_password_hash(BOB) is None


# App passwords


def test_app_password_names_are_unique_per_account(store: CredentialStore) -> None:
    assert store.add_app_password(ALICE, "phone", "d1", "2024-01-01T00:00:00.000Z")
    assert not store.add_app_password(ALICE, "phone", "d2", "2024-01-02T00:00:00.000Z")
    assert store.add_app_password(BOB, "phone", "d3", "2024-01-01T00:00:00.000Z")
    found = store.find_app_password(ALICE, "d1")
    assert found == AppPasswordInfo("phone", "2024-01-01T00:00:00.000Z", privileged=False)
    assert store.find_app_password(ALICE, "d2") is None


def test_app_passwords_are_listed_newest_first(store: CredentialStore) -> None:
    store.add_app_password(ALICE, "old", "d1", "2024-01-01T00:00:00.000Z")
    store.add_app_password(ALICE, "new", "d2", "2024-03-01T00:00:00.000Z")
    store.add_app_password(BOB, "bobs", "d3", "2024-02-01T00:00:00.000Z")
    assert store.list_app_passwords(ALICE) == [
        AppPasswordInfo("new", "2024-03-01T00:00:00.000Z"),
        AppPasswordInfo("old", "2024-01-01T00:00:00.000Z"),
    ]
    assert store.list_app_passwords("did:plc:nobody") == []


def test_the_privileged_flag_is_stored_listed_and_found(store: CredentialStore) -> None:
    assert store.add_app_password(ALICE, "chat", "d1", "2024-02-01T00:00:00.000Z", privileged=True)
    assert store.add_app_password(ALICE, "plain", "d2", "2024-01-01T00:00:00.000Z")
    assert store.list_app_passwords(ALICE) == [
        AppPasswordInfo("chat", "2024-02-01T00:00:00.000Z", privileged=True),
        AppPasswordInfo("plain", "2024-01-01T00:00:00.000Z", privileged=False),
    ]
    chat, plain = store.find_app_password(ALICE, "d1"), store.find_app_password(ALICE, "d2")
    assert chat is not None and chat.privileged
    assert plain is not None and not plain.privileged


def test_a_refresh_record_carries_its_app_passwords_privilege(store: CredentialStore) -> None:
    store.add_app_password(ALICE, "chat", "d1", "2024-01-01T00:00:00.000Z", privileged=True)
    store.add_app_password(ALICE, "plain", "d2", "2024-01-01T00:00:00.000Z")
    store.add_app_password(BOB, "chat", "d3", "2024-01-01T00:00:00.000Z")  # same name, plain
    store.put_refresh("via-chat", ALICE, 5_000, "chat")
    store.put_refresh("via-plain", ALICE, 5_000, "plain")
    store.put_refresh("via-password", ALICE, 5_000, None)
    store.put_refresh("bobs-chat", BOB, 5_000, "chat")
    assert store.get_refresh("via-chat") == RefreshRecord(
        "via-chat", ALICE, 5_000, "chat", None, app_password_privileged=True
    )
    assert rotate(store, "via-chat", "next-chat")
    rotated = store.get_refresh("next-chat")
    assert rotated is not None and rotated.app_password_privileged
    for jti in ("via-plain", "via-password", "bobs-chat"):
        record = store.get_refresh(jti)
        assert record is not None and not record.app_password_privileged, jti


def test_app_password_is_found_only_under_its_own_account(store: CredentialStore) -> None:
    store.add_app_password(ALICE, "phone", "digest", "2024-01-01T00:00:00.000Z")
    assert store.find_app_password(BOB, "digest") is None


def test_revoking_an_app_password_revokes_its_refresh_tokens_only(
    store: CredentialStore,
) -> None:
    store.add_app_password(ALICE, "phone", "d1", "2024-01-01T00:00:00.000Z")
    store.put_refresh("via-phone", ALICE, 5_000, "phone")
    store.put_refresh("via-password", ALICE, 5_000, None)
    store.put_refresh("bobs-phone", BOB, 5_000, "phone")
    assert store.revoke_app_password(ALICE, "phone")
    assert store.find_app_password(ALICE, "d1") is None
    assert store.get_refresh("via-phone") is None
    assert store.get_refresh("via-password") is not None
    assert store.get_refresh("bobs-phone") is not None
    assert not store.revoke_app_password(ALICE, "phone")


# Refresh tokens


def test_refresh_record_round_trips(store: CredentialStore) -> None:
    store.put_refresh("t1", ALICE, 5_000, "phone")
    assert store.get_refresh("t1") == RefreshRecord("t1", ALICE, 5_000, "phone", None)
    assert store.get_refresh("t2") is None


def test_putting_an_existing_refresh_token_changes_nothing(store: CredentialStore) -> None:
    store.put_refresh("t1", ALICE, 5_000, None)
    store.put_refresh("t1", BOB, 9_999, "other")
    assert store.get_refresh("t1") == RefreshRecord("t1", ALICE, 5_000, None, None)


def test_revoking_a_refresh_token_reports_whether_it_existed(store: CredentialStore) -> None:
    store.put_refresh("t1", ALICE, 5_000, None)
    assert store.revoke_refresh("t1")
    assert store.get_refresh("t1") is None
    assert not store.revoke_refresh("t1")


def test_revoke_all_touches_only_that_account(store: CredentialStore) -> None:
    store.put_refresh("a1", ALICE, 5_000, None)
    store.put_refresh("a2", ALICE, 5_000, "phone")
    store.put_refresh("b1", BOB, 5_000, None)
    store.revoke_all(ALICE)
    assert store.get_refresh("a1") is None
    assert store.get_refresh("a2") is None
    assert store.get_refresh("b1") is not None


def test_revoking_credentials_clears_one_accounts_password_app_passwords_and_tokens(
    store: CredentialStore,
) -> None:
    for did in (ALICE, BOB):
        store.set_password_hash(did, f"$argon2id${did}")
        store.add_app_password(did, "phone", f"digest-{did}", "2024-01-01T00:00:00.000Z")
        store.put_refresh(f"{did}-password", did, 5_000, None)
        store.put_refresh(f"{did}-phone", did, 5_000, "phone")

    store.revoke_credentials(ALICE)

    assert store.get_password_hash(ALICE) is None
    assert store.list_app_passwords(ALICE) == []
    assert store.get_refresh(f"{ALICE}-password") is None
    assert store.get_refresh(f"{ALICE}-phone") is None
    assert store.get_password_hash(BOB) == f"$argon2id${BOB}"
    assert [info.name for info in store.list_app_passwords(BOB)] == ["phone"]
    assert store.get_refresh(f"{BOB}-phone") is not None
    store.revoke_credentials(ALICE)  # again: nothing left to revoke, not an error


def test_delete_expired_removes_tokens_expiring_at_or_before_now(store: CredentialStore) -> None:
    store.put_refresh("past", ALICE, 999, None)
    store.put_refresh("edge", ALICE, 1_000, None)
    store.put_refresh("future", ALICE, 1_001, None)
    store.put_refresh("bobs", BOB, 10, None)
    store.delete_expired(ALICE, 1_000)
    assert store.get_refresh("past") is None
    assert store.get_refresh("edge") is None
    assert store.get_refresh("future") is not None
    assert store.get_refresh("bobs") is not None


def test_mark_used_points_at_the_next_token_and_records_it(store: CredentialStore) -> None:
    store.put_refresh("t1", ALICE, 5_000, "phone")
    assert rotate(store, "t1", "t2")
    assert store.get_refresh("t1") == RefreshRecord("t1", ALICE, 2_000, "phone", "t2")
    assert store.get_refresh("t2") == RefreshRecord("t2", ALICE, 9_000, "phone", None)


def test_mark_used_again_with_the_same_next_token_is_a_re_grant(store: CredentialStore) -> None:
    store.put_refresh("t1", ALICE, 5_000, None)
    assert rotate(store, "t1", "t2")
    assert rotate(store, "t1", "t2", next_expires_at=12_000, expires_at=1_900, used_at=1_500)
    assert store.get_refresh("t1") == RefreshRecord("t1", ALICE, 1_900, None, "t2")
    assert store.get_refresh("t2") == RefreshRecord("t2", ALICE, 9_000, None, None)


def test_mark_used_with_another_next_token_loses_and_changes_nothing(
    store: CredentialStore,
) -> None:
    store.put_refresh("t1", ALICE, 5_000, None)
    assert rotate(store, "t1", "t2")
    assert not rotate(store, "t1", "t3", expires_at=1_000)
    assert store.get_refresh("t1") == RefreshRecord("t1", ALICE, 2_000, None, "t2")
    assert store.get_refresh("t3") is None


def test_mark_used_on_a_revoked_token_fails(store: CredentialStore) -> None:
    assert not rotate(store, "gone", "t2")
    assert store.get_refresh("t2") is None


def test_concurrent_rotations_have_exactly_one_winner(store: CredentialStore) -> None:
    store.put_refresh("t1", ALICE, 5_000, None)
    results: dict[str, bool] = {}
    barrier = threading.Barrier(6)

    def attempt(next_jti: str) -> None:
        barrier.wait()
        results[next_jti] = rotate(store, "t1", next_jti)

    threads = [threading.Thread(target=attempt, args=(f"n{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [jti for jti, won in results.items() if won]
    assert len(winners) == 1
    record = store.get_refresh("t1")
    assert record is not None and record.next_jti == winners[0]
    assert [jti for jti in results if store.get_refresh(jti) is not None] == winners


# SQL specifics


def test_tables_live_in_their_own_metadata_and_are_created_idempotently(engine: Engine) -> None:
    from adapters.storage.schema import metadata as view_metadata

    assert not set(credential_metadata.tables) & set(view_metadata.tables)
    SqlCredentialStore(engine).set_password_hash(ALICE, "h")
    assert SqlCredentialStore(engine).get_password_hash(ALICE) == "h"


_OLD_APP_PASSWORDS = """CREATE TABLE app_passwords (
    did TEXT NOT NULL, name TEXT NOT NULL, hash TEXT NOT NULL, created_at TEXT NOT NULL,
    PRIMARY KEY (did, name))"""
"""`app_passwords` as created before the `privileged` column existed."""


def test_a_database_from_before_privileged_app_passwords_is_upgraded(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text(_OLD_APP_PASSWORDS))
        conn.execute(
            text(
                "INSERT INTO app_passwords VALUES (:did, 'old', 'd1', '2024-01-01T00:00:00.000Z')"
            ),
            {"did": ALICE},
        )
    store = SqlCredentialStore(engine)
    store.put_refresh("via-old", ALICE, 5_000, "old")

    assert store.list_app_passwords(ALICE) == [
        AppPasswordInfo("old", "2024-01-01T00:00:00.000Z", privileged=False)
    ]
    record = store.get_refresh("via-old")
    assert record is not None and not record.app_password_privileged
    assert store.add_app_password(ALICE, "new", "d2", "2024-02-01T00:00:00.000Z", privileged=True)
    reopened = SqlCredentialStore(engine)  # the upgrade runs once; opening again changes nothing
    assert [(p.name, p.privileged) for p in reopened.list_app_passwords(ALICE)] == [
        ("new", True),
        ("old", False),
    ]
    with engine.connect() as conn:
        names = [c["name"] for c in inspect(conn).get_columns("app_passwords")]
    assert names.count("privileged") == 1


def test_a_column_another_process_added_meanwhile_is_not_an_error(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    SqlCredentialStore(engine)
    looked: list[str] = []
    real = credential_tables._has_column

    def stale_first(engine: Engine, table: str, column: str) -> bool:
        looked.append(column)
        return len(looked) > 1 and real(engine, table, column)

    monkeypatch.setattr(credential_tables, "_has_column", stale_first)
    SqlCredentialStore(engine).add_app_password(ALICE, "x", "d", "2024-01-01T00:00:00.000Z")
    # SQLite's ALTER failed on the existing column and the store looked again; Postgres's
    # `ADD COLUMN IF NOT EXISTS` was a no-op.
    assert len(looked) == (2 if engine.dialect.name == "sqlite" else 1)


def test_first_use_time_is_kept_across_re_grants(engine: Engine) -> None:
    store = SqlCredentialStore(engine)
    store.put_refresh("t1", ALICE, 5_000, None)
    rotate(store, "t1", "t2", used_at=1_000)
    rotate(store, "t1", "t2", used_at=1_500)
    with engine.connect() as conn:
        used_at = conn.scalar(text("SELECT used_at FROM refresh_tokens WHERE jti = 't1'"))
    assert used_at == 1_000


def test_sessions_work_end_to_end_on_the_real_adapters(engine: Engine) -> None:
    clock = FakeClock()
    service = SessionService(
        SqlCredentialStore(engine),
        Argon2Hasher(FAST_FOR_TESTS),
        HS256Signer(b"s" * 32, clock=clock),
        FakeAccounts(AccountInfo(ALICE, "alice.test", "alice@example.com", "active")),
        clock,
        service_did="did:web:pds.test",
    )
    service.set_password(ALICE, "hunter2")
    app = service.create_app_password(ALICE, "phone")
    session = service.create_session("alice@example.com", "hunter2")
    rotated = service.refresh_session(session.refresh_jwt)
    assert service.refresh_session(session.refresh_jwt).refresh_jwt == rotated.refresh_jwt
    assert service.verify_access(rotated.access_jwt).did == ALICE
    via_app = service.create_session("alice.test", app.password)
    assert service.verify_access(via_app.access_jwt).scope == "com.atproto.appPass"
    chat = service.create_app_password(ALICE, "chat", privileged=True)
    via_chat = service.refresh_session(service.create_session(ALICE, chat.password).refresh_jwt)
    assert service.verify_access(via_chat.access_jwt).scope == "com.atproto.appPassPrivileged"
    service.revoke_app_password(ALICE, "phone")
    with pytest.raises(AuthenticationFailed):
        service.create_session("alice.test", app.password)
    service.delete_session(rotated.refresh_jwt)
    with pytest.raises(ExpiredToken):
        service.refresh_session(rotated.refresh_jwt)


# Email confirmation


def test_the_last_confirmed_address_is_remembered_per_account(store: CredentialStore) -> None:
    assert store.confirmed_email(ALICE) is None
    store.confirm_email(ALICE, "a@example.com", "2024-01-01T00:00:00.000Z")
    store.confirm_email(ALICE, "b@example.com", "2024-02-01T00:00:00.000Z")
    store.confirm_email(BOB, "bob@example.com", "2024-01-01T00:00:00.000Z")
    assert store.confirmed_email(ALICE) == "b@example.com"
    assert store.confirmed_email(BOB) == "bob@example.com"
