"""Child process for the crash-safety test: commit forever, acknowledge each on stdout."""

from __future__ import annotations

import sys
from pathlib import Path

from adapters.storage.sql_key_store import SqlKeyStore, engine_for
from adapters.storage.store import sqlite_store
from application.repo_host.app import RepoHost
from domain.crypto.k256 import K256Keypair
from domain.repo.errors import RepoNotFound
from domain.repo.writes import RecordWrite

DID = "did:plc:" + "d" * 24


def main(data: str) -> None:
    store = sqlite_store(Path(data))
    keys = SqlKeyStore(engine_for("sqlite", store.conninfo))
    host = RepoHost(store.env, blocks=store.views, keys=keys)
    try:
        host.get_account(DID)
    except RepoNotFound:
        host.create_account(DID, "crash.test", None, K256Keypair.generate())
    while True:
        rkey = host.clock.next()
        record = {"$type": "app.bsky.feed.post", "text": rkey, "createdAt": "2024-01-01T00:00:00Z"}
        commit = host.apply_writes(DID, [RecordWrite("create", "app.bsky.feed.post", rkey, record)])
        sys.stdout.write(f"ACK {commit.rev} {rkey}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1])
