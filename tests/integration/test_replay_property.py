"""Replay equality as a property: any sequence of writes rebuilds to identical views."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.storage.scratch_view_store import ScratchViewStore
from application.audit.auditor import audit_log
from application.audit.replay import replay
from domain.crypto.k256 import K256Keypair
from domain.repo.errors import RepoError
from domain.repo.writes import RecordWrite
from tests.integration.stores import open_backend

RKEYS = [f"3k2aaaaaaa{i:02d}2" for i in range(12)]
COLLECTIONS = ["app.bsky.feed.post", "app.bsky.feed.like", "com.example.thing"]

# "takedown" and "lift" are moderation events between commits, on any path: replay must fold
# them with the deletions that end them exactly as the live store applied them one by one.
write = st.tuples(
    st.sampled_from(["create", "put", "delete", "takedown", "lift"]),
    st.sampled_from(COLLECTIONS),
    st.sampled_from(RKEYS),
    st.text(max_size=20),
)
batches = st.lists(st.lists(write, min_size=1, max_size=4), min_size=1, max_size=12)


@settings(max_examples=15, deadline=None)
@given(batches, st.booleans())
def test_replayed_views_equal_live_views_for_any_write_sequence(
    plan: list[list[tuple[str, str, str, str]]], deactivate: bool
) -> None:
    with tempfile.TemporaryDirectory() as tmp, open_backend("sqlite", Path(tmp)) as backend:
        host = backend.host()
        did = "did:plc:" + "c" * 24
        host.create_account(did, "prop.test", None, K256Keypair.generate())
        for batch in plan:
            writes = [
                RecordWrite(a, c, k, None if a == "delete" else {"$type": c, "v": text})
                for a, c, k, text in batch
                if a in ("create", "put", "delete")
            ]
            # A rejected batch must leave no trace, which replay equality checks.
            with contextlib.suppress(RepoError):
                if writes:
                    host.apply_writes(did, writes)
            for action, collection, rkey, text in batch:
                if action in ("takedown", "lift"):
                    ref = f"case {text}" if action == "takedown" else None
                    host.change_record_takedown(did, collection, rkey, ref)
        if deactivate:
            host.set_status(did, "deactivated")
        scratch = ScratchViewStore(Path(tmp) / "scratch.sqlite")
        try:
            report = replay(host, scratch, backend.store.live_digests(), scratch.digests())
        finally:
            scratch.close()
        assert report.ok, (report.live, report.rebuilt)
        assert not audit_log(host).failures
        host.close()
