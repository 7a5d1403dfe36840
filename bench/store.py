"""Event store throughput: sequential commits, group commit with 8 writers, replay.

Each figure is printed beside two floors measured in the same run on the same database server:
a bare INSERT loop (one transaction per row) of rows the size of a commit event, and the
commit-shaped floor of `bench/_commit_floor.py` (exactly the rows a single-record commit
writes, with quire's statements, into a block index as large as the live one, and no Python
domain work). Sequential and group-commit rates are medians of three alternating rounds on
fresh accounts; replay rates (with worker processes, and in one process) are medians of three
alternating rebuilds of the same log.

Run: `.venv/bin/python -m bench.store [--postgres URL] [--commits N]`
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import tempfile
import threading
import time
from pathlib import Path

import psycopg

from adapters.storage.scratch_view_store import ScratchViewStore
from adapters.storage.sql_key_store import SqlKeyStore, engine_for
from adapters.storage.store import Store, postgres_store, sqlite_store
from application.audit.log_reader import iter_notifications
from application.audit.replay import replay
from application.repo_host.app import RepoHost
from application.repo_host.group_commit import GroupCommitter
from bench._commit_floor import CommitShape, postgres_commit_floor, sqlite_commit_floor
from bench._timing import report
from domain.crypto.k256 import K256Keypair
from domain.repo.writes import RecordWrite

POST = "app.bsky.feed.post"


def _record(i: int) -> dict[str, str]:
    return {
        "$type": POST,
        "text": f"benchmark post number {i}",
        "createdAt": "2024-01-01T00:00:00Z",
    }


def _host(store: Store, schema: str | None) -> RepoHost:
    keys = SqlKeyStore(engine_for(store.dialect, store.conninfo, schema))
    return RepoHost(store.env, blocks=store.views, keys=keys, accounts=store.views)


def _accounts(host: RepoHost, count: int) -> list[str]:
    dids = []
    for i in range(count):
        did = f"did:plc:{secrets.token_hex(12)[:24]}"
        host.create_account(did, f"b{i}{secrets.token_hex(3)}.test", None, K256Keypair.generate())
        dids.append(did)
    return dids


def sequential(host: RepoHost, did: str, n: int) -> float:
    """Single-record create commits per second, one after another."""
    start = time.perf_counter()
    for i in range(n):
        host.apply_writes(did, [RecordWrite("create", POST, host.clock.next(), _record(i))])
    return n / (time.perf_counter() - start)


def concurrent(host: RepoHost, dids: list[str], per_writer: int) -> float:
    """Commits per second with one thread per DID submitting through the group committer."""
    committer = GroupCommitter(host)

    def writer(did: str) -> None:
        for i in range(per_writer):
            rkey = f"3l{secrets.token_hex(6)[:10]}2"
            committer.apply_writes(did, [RecordWrite("create", POST, rkey, _record(i))])

    threads = [threading.Thread(target=writer, args=(did,)) for did in dids]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    committer.close()
    return len(dids) * per_writer / elapsed


def floor_inserts(store: Store, schema: str | None, n: int, row_bytes: int) -> float:
    """Bare INSERTs per second, one transaction each, rows of `row_bytes`."""
    payload = os.urandom(row_bytes)
    if store.dialect == "sqlite":
        import sqlite3

        lite = sqlite3.connect(store.conninfo, isolation_level=None)
        lite.execute("PRAGMA synchronous=NORMAL")
        lite.execute("CREATE TABLE IF NOT EXISTS bench_floor (id INTEGER PRIMARY KEY, data BLOB)")
        start = time.perf_counter()
        for _ in range(n):
            lite.execute("BEGIN")
            lite.execute("INSERT INTO bench_floor (data) VALUES (?)", (payload,))
            lite.execute("COMMIT")
        rate = n / (time.perf_counter() - start)
        lite.close()
        return rate
    with psycopg.connect(store.conninfo, options=f"-c search_path={schema}") as pg:
        pg.execute("CREATE TABLE IF NOT EXISTS bench_floor (id bigserial primary key, data bytea)")
        pg.commit()
        start = time.perf_counter()
        for _ in range(n):
            pg.execute("INSERT INTO bench_floor (data) VALUES (%s)", (payload,))
            pg.commit()
        return n / (time.perf_counter() - start)


def replay_rate(
    host: RepoHost, store: Store, tmp: Path, workers: int | None = None
) -> tuple[float, int]:
    """Events per second rebuilding every view from the log into a scratch SQLite.

    The rebuild (projection, writes, folding worker shards in) is timed on its own; the
    digest comparison that follows is not included. `workers=None` is `quire replay`'s
    default (one projection process per core on a long log); 1 projects in this process.
    """
    scratch = ScratchViewStore(tmp / "replay.sqlite")
    log = store.log_pages(host.recorder.events_table_name)  # type: ignore[attr-defined]
    digests = store.live_digests()
    result = replay(host, scratch, digests, scratch.digests(), workers=workers, log=log)
    scratch.close()
    assert result.ok, "replay differs from live views"
    return result.events / result.rebuild_seconds, result.events


ROUNDS = 3
"""Sequential and group-commit rates, and both replay rates, are each the median of this many
alternating rounds."""


def run(name: str, store: Store, schema: str | None, commits: int, tmp: Path) -> None:
    """Every measurement on one store.

    Sequential and group commit alternate for `ROUNDS` rounds, each on fresh accounts (a
    repo's tree deepens as it grows), and the medians are reported: on a shared 2-core
    machine one round can be off by 20% either way.
    """
    host = _host(store, schema)
    seq_rates: list[float] = []
    group_rates: list[float] = []
    for _ in range(ROUNDS):
        seq_rates.append(sequential(host, _accounts(host, 1)[0], commits))
        group_rates.append(concurrent(host, _accounts(host, 8), max(50, commits // 8)))
    seq_rate, group = statistics.median(seq_rates), statistics.median(group_rates)
    print(f"# {name} rounds: sequential {_rounded(seq_rates)}, group {_rounded(group_rates)}")
    report(f"{name}_sequential_commits", seq_rate, "commits/s")
    event_bytes = len(host.recorder.select_notifications(store.views.max_seq(), 1)[0].state)
    report(
        f"{name}_floor_bare_insert", floor_inserts(store, schema, commits, event_bytes), "rows/s"
    )
    shape = CommitShape.of_last_commit(host, store.views)
    blocks = _block_count(store, schema)
    if store.dialect == "sqlite":
        floor = sqlite_commit_floor(str(tmp / "commit_floor.sqlite"), shape, blocks, commits)
    else:
        floor = postgres_commit_floor(
            store.conninfo, f"{schema}_floor", shape, blocks, max(500, commits // 3)
        )
    report(f"{name}_floor_commit_rows", floor, "commits/s")
    report(f"{name}_sequential_vs_commit_rows_floor", seq_rate / floor, "x")
    report(f"{name}_group_commit_8_writers", group, "commits/s")
    report(f"{name}_group_commit_vs_sequential", group / seq_rate, "x")
    for _ in iter_notifications(host):  # warm the caches, so neither variant pays for it
        pass
    # `quire replay` runs in a process of its own, where no checkpointer thread runs, so its
    # workers fork instead of spawning; the writes are over by now.
    store.stop_checkpointer()
    rates, one_process, events = [], [], 0
    for _ in range(ROUNDS):  # the two variants alternate, as the write workloads do
        rate, events = replay_rate(host, store, tmp)
        rates.append(rate)
        one_process.append(replay_rate(host, store, tmp, workers=1)[0])
    print(f"# {name} replay rounds: {_rounded(rates)}, one process {_rounded(one_process)}")
    report(f"{name}_replay", statistics.median(rates), "events/s")
    report(f"{name}_replay_one_process", statistics.median(one_process), "events/s")
    report(f"{name}_replayed_events", events, "events")
    host.close()


def _block_count(store: Store, schema: str | None) -> int:
    with store.reads.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {schema + '.' if schema else ''}repo_blocks")
        return int(cur.fetchone()[0])


def _rounded(rates: list[float]) -> list[int]:
    return [round(r) for r in rates]


def main() -> None:
    """Run on SQLite, then Postgres unless `--no-postgres`."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--commits", type=int, default=3000)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = sqlite_store(Path(tmp) / "data")
        run("sqlite", store, None, args.commits, Path(tmp))
        store.close()
        if args.no_postgres:
            return
        schema = f"bench_{secrets.token_hex(4)}"
        with psycopg.connect(args.postgres, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        try:
            store = postgres_store(args.postgres, schema=schema)
            run("postgres", store, schema, max(500, args.commits // 3), Path(tmp))
            store.close()
        finally:
            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")
                conn.execute(f"DROP SCHEMA IF EXISTS {schema}_floor CASCADE")


if __name__ == "__main__":
    main()
