"""The block index behind the log (ADR 0014) as a property: whatever interleaves (commits from
two writers that share nothing in memory, saves that fail after handing their blocks over,
passes of any size), every committed block is readable at every moment, every block below the
mark is indexed, and once caught up the index holds exactly the blocks of the log."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.storage import sqlite_block_index
from adapters.storage.sql_key_store import SqlKeyStore, engine_for
from adapters.storage.sqlite_block_index import SqliteBlockIndex
from adapters.storage.store import Store, sqlite_store
from adapters.storage.view_writer import ViewWriter
from application.repo_host.app import RepoHost
from domain.crypto.k256 import K256Keypair
from domain.data.cid import CID
from domain.repo.writes import RecordWrite
from tests.integration.sqlite_block_files import assert_complete_below_mark, indexed, logged

POST = "app.bsky.feed.post"
DIDS = ("did:plc:" + "x" * 24, "did:plc:" + "y" * 24)

step = st.one_of(
    st.tuples(st.just("commit"), st.integers(0, 1)),
    st.tuples(st.just("failed"), st.integers(0, 1)),
    st.tuples(st.just("pass"), st.integers(1, 6)),
    st.tuples(st.just("other"), st.integers(0, 1)),
)


def _host(store: Store) -> RepoHost:
    keys = SqlKeyStore(engine_for("sqlite", store.conninfo))
    return RepoHost(store.env, blocks=store.views, keys=keys, accounts=store.views)


@settings(max_examples=12, deadline=None)
@given(st.lists(step, min_size=1, max_size=25))
def test_committed_blocks_are_always_readable_and_the_mark_never_lies(
    steps: list[tuple[str, int]],
) -> None:
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as patch:
        data = Path(tmp) / "data"
        store = sqlite_store(data, checkpoint=False)
        host = _host(store)
        # Another process: its own index object, its own tail, the same files.
        other_index = SqliteBlockIndex(store.conninfo)
        for i, did in enumerate(DIDS):
            host.create_account(did, f"p{i}.test", None, K256Keypair.generate())
        other = _host(store)
        other.recorder.block_index = other_index  # type: ignore[attr-defined]
        other.recorder.views.pending = other_index.pending  # type: ignore[attr-defined]
        assert store.block_index is not None
        write = ViewWriter.write
        try:
            for n, (action, arg) in enumerate(steps):
                record = {"$type": POST, "text": f"{n}", "createdAt": "2024-01-01T00:00:00Z"}
                put = [RecordWrite("create", POST, host.clock.next(), record)]
                if action == "commit":
                    host.apply_writes(DIDS[arg], put)
                elif action == "other":
                    other.apply_writes(DIDS[arg], put)
                elif action == "failed":

                    def fail(self: ViewWriter, *args: object) -> None:
                        write(self, *args)  # type: ignore[arg-type]
                        raise sqlite3.OperationalError("disk I/O error")

                    patch.setattr(ViewWriter, "write", fail)
                    with pytest.raises(Exception, match="disk I/O error"):
                        host.apply_writes(DIDS[arg], put)
                    patch.undo()
                else:
                    store.block_index.index_pass(limit=arg)
                committed = logged(data)
                assert store.views.get_blocks([CID(c) for c in committed]).keys() == {
                    CID(c) for c in committed
                }, "a committed block is not readable"
                assert_complete_below_mark(data)
            store.block_index.catch_up()
            assert indexed(data) == logged(data), "the caught-up index is not the log's blocks"
        finally:
            other.close()
            host.close()
            other_index.close()
            store.close()
            assert sqlite_block_index.blocks_path(store.conninfo).endswith("-blocks.sqlite")
