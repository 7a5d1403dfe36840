"""The log readers replay's workers use: the same rows as the recorder, by seq range."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.storage.sql_key_store import SqlKeyStore, engine_for
from adapters.storage.store import Store, sqlite_store
from application.repo_host.app import RepoHost
from domain.crypto.k256 import K256Keypair
from domain.repo.writes import RecordWrite
from tests.integration.stores import Backend, open_backend

DID = "did:plc:" + "f" * 24
NOTE = "com.example.note"


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    with open_backend(request.param, tmp_path) as opened:
        yield opened


def _write(store: Store, schema: str | None) -> RepoHost:
    keys = SqlKeyStore(engine_for(store.dialect, store.conninfo, schema))
    host = RepoHost(store.env, blocks=store.views, keys=keys, accounts=store.views)
    host.create_account(DID, "pages.test", None, K256Keypair.generate())
    for i in range(5):
        host.apply_writes(DID, [RecordWrite("create", NOTE, f"n{i}", {"$type": NOTE, "n": i})])
    return host


def test_ranges_hold_exactly_the_recorders_notifications(backend: Backend) -> None:
    host = _write(backend.store, backend.schema)
    try:
        log = backend.store.log_pages(host.recorder.events_table_name)  # type: ignore[attr-defined]
        expected = [
            (n.id, n.originator_id, n.originator_version, n.topic, n.state)
            for n in host.recorder.select_notifications(1, 100)
        ]
        last = expected[-1][0]
        assert log(0, last) == expected
        middle = expected[3][0]
        assert log(0, middle) + log(middle, last) == expected  # ranges split without overlap
        assert log(last, last + 1000) == []
    finally:
        host.close()


def test_a_data_directory_with_uri_characters_in_its_path(tmp_path: Path) -> None:
    store = sqlite_store(tmp_path / "a dir #1 ?x=%20")
    host = _write(store, None)
    try:
        rows = store.log_pages("stored_events")(0, 1000)
        recorded = host.recorder.select_notifications(1, 1000)
        assert [row[0] for row in rows] == [n.id for n in recorded]
        assert len(rows) > 5
        # and the signing keys went into the same file, not one named by the path cut at `?`
        assert sorted(p.name for p in tmp_path.iterdir()) == ["a dir #1 ?x=%20"]
    finally:
        host.close()
        store.close()
