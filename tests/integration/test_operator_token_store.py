"""`SqlOperatorTokens` on SQLite and Postgres: one token per (DID, purpose), found by digest.

Postgres runs in a fresh schema per test (failing, never skipping, under `CI=true`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from adapters.storage.sql_operator_tokens import SqlOperatorTokens
from application.ports.operator_tokens import TokenRecord
from tests.integration.stores import pg_engine

ALICE, BOB = "did:plc:alice", "did:plc:bob"


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlOperatorTokens]:
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'tokens.sqlite'}")
        yield SqlOperatorTokens(engine)
        engine.dispose()
        return
    with pg_engine() as pg:
        yield SqlOperatorTokens(pg)


def test_a_token_replaces_the_last_one_for_its_purpose(store: SqlOperatorTokens) -> None:
    store.put(ALICE, "reset_password", "d1", 100)
    store.put(ALICE, "reset_password", "d2", 200)
    store.put(ALICE, "delete_account", "d3", 300)
    assert store.get(ALICE, "reset_password") == TokenRecord("d2", 200)
    assert store.get(ALICE, "delete_account") == TokenRecord("d3", 300)


def test_a_token_is_found_by_purpose_and_digest_only(store: SqlOperatorTokens) -> None:
    store.put(ALICE, "reset_password", "shared", 100)
    store.put(BOB, "delete_account", "shared", 100)
    assert store.find("reset_password", "shared") == ALICE
    assert store.find("delete_account", "shared") == BOB
    assert store.find("reset_password", "other") is None


def test_taking_a_token_spends_it_once(store: SqlOperatorTokens) -> None:
    store.put(ALICE, "reset_password", "d1", 100)
    assert store.take(ALICE, "reset_password", "d1")
    assert not store.take(ALICE, "reset_password", "d1")
    assert store.find("reset_password", "d1") is None


def test_forgetting_an_account_drops_all_its_tokens(store: SqlOperatorTokens) -> None:
    store.put(ALICE, "reset_password", "d1", 100)
    store.put(ALICE, "delete_account", "d2", 100)
    store.put(BOB, "reset_password", "d3", 100)
    store.delete_all(ALICE)
    assert store.get(ALICE, "reset_password") is None
    assert store.get(ALICE, "delete_account") is None
    assert store.find("reset_password", "d3") == BOB
