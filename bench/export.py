"""Full-repo CAR export from the SQLite store, streamed, with the exporting process's peak RSS.

The repo is built first (100k records, 200 per commit); the exports then run in a fresh child
process so its peak RSS is the export's own, not the builder's. Cold is the batched MST walk
with no cache; fill is a cache miss that also writes the CAR cache; warm is a cache hit. The
floors are what the cheapest possible reads of the same bytes cost on this machine: one scan
of the block table (cold) and reading the cached file (warm).

Run: `.venv/bin/python -m bench.export [--records N]`
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from adapters.storage.disk_car_cache import READ_CHUNK, DiskCarCache
from adapters.storage.sql_key_store import SqlKeyStore, engine_for
from adapters.storage.store import sqlite_store
from application.repo_export import RepoExporter
from application.repo_host.app import RepoHost
from bench._timing import report
from domain.crypto.k256 import K256Keypair
from domain.repo.writes import RecordWrite

DID = "did:plc:" + "b" * 24
POST = "app.bsky.feed.post"


def build(data: Path, records: int) -> None:
    """A repo of `records` posts, 200 writes per commit."""
    store = sqlite_store(data)
    host = RepoHost(
        store.env, blocks=store.views, keys=SqlKeyStore(engine_for("sqlite", store.conninfo))
    )
    host.create_account(DID, "export.test", None, K256Keypair.generate())
    for start in range(0, records, 200):
        writes = [
            RecordWrite(
                "create",
                POST,
                host.clock.next(),
                {"$type": POST, "text": f"post {i}", "createdAt": "2024-01-01T00:00:00.000Z"},
            )
            for i in range(start, min(records, start + 200))
        ]
        host.apply_writes(DID, writes)
    host.close()
    store.close()


def _median_seconds(run: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _drain(chunks: Iterable[bytes]) -> int:
    return sum(len(chunk) for chunk in chunks)


def export(data: Path) -> None:
    """Child: time cold, fill and warm exports and the floors; print them as JSON."""
    store = sqlite_store(data, create=False)
    plain = RepoExporter(store.views, store.views)
    cache = DiskCarCache(data / "car-cache", 1 << 40)
    cached = RepoExporter(store.views, store.views, cache=cache)
    size = _drain(plain.export(DID))
    cold = _median_seconds(lambda: _drain(plain.export(DID)), 5)
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    fill = _median_seconds(lambda: _drain(cached.export(DID)), 1)
    warm = _median_seconds(lambda: _drain(cached.export(DID)), 10)
    (entry,) = cache.entries()

    def scan() -> int:
        with store.views.db.cursor() as cur:
            cur.execute("SELECT cid, data FROM repo_blocks")
            return sum(len(cid) + len(block) for cid, block in cur.fetchall())

    def read_file() -> int:
        with entry.open("rb", buffering=0) as handle:
            return _drain(iter(lambda: handle.read(READ_CHUNK), b""))

    scanned = scan()
    figures = {
        "size": size,
        "cold": cold,
        "fill": fill,
        "warm": warm,
        "rss_kb": rss_kb,
        "scan_bytes": scanned,
        "scan": _median_seconds(scan, 5),
        "file": _median_seconds(read_file, 10),
    }
    print(json.dumps(figures))


def main() -> None:
    """Build, then export in a child process."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        export(Path(args.child))
        return
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        build(data, args.records)
        out = subprocess.run(
            [sys.executable, "-m", "bench.export", "--child", str(data)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        got = json.loads(out.stdout)
        size = got["size"]
        report("export_records", args.records, "records")
        report("export_car_bytes", size, "bytes")
        report("export_car_throughput", size / got["cold"] / 1e6, "MB/s")
        report("export_records_per_second", args.records / got["cold"], "records/s")
        report("export_peak_rss", got["rss_kb"] / 1024, "MB")
        report("export_cold_throughput", size / got["cold"] / 1e6, "MB/s")
        report("export_fill_throughput", size / got["fill"] / 1e6, "MB/s")
        report("export_warm_throughput", size / got["warm"] / 1e6, "MB/s")
        report("export_floor_block_scan", got["scan_bytes"] / got["scan"] / 1e6, "MB/s")
        report("export_floor_file_read", size / got["file"] / 1e6, "MB/s")


if __name__ == "__main__":
    main()
