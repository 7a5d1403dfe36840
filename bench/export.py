"""Full-repo CAR export from the SQLite store, streamed, with the exporting process's peak RSS.

The repo is built first (100k records, 200 per commit); the export then runs in a fresh child
process so its peak RSS is the export's own, not the builder's.

Run: `.venv/bin/python -m bench.export [--records N]`
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def export(data: Path) -> None:
    """Child: stream the CAR to nowhere; print bytes, seconds and peak RSS."""
    store = sqlite_store(data, create=False)
    exporter = RepoExporter(store.views, store.views)
    start = time.perf_counter()
    size = sum(len(chunk) for chunk in exporter.export(DID))
    elapsed = time.perf_counter() - start
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(size, elapsed, rss_kb)


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
        size, elapsed, rss_kb = out.stdout.split()
        report("export_records", args.records, "records")
        report("export_car_bytes", int(size), "bytes")
        report("export_car_throughput", int(size) / float(elapsed) / 1e6, "MB/s")
        report("export_records_per_second", args.records / float(elapsed), "records/s")
        report("export_peak_rss", int(rss_kb) / 1024, "MB")


if __name__ == "__main__":
    main()
