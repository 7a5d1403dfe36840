"""Deciding one single-record create commit on a 100k-record repo, in process.

Tree update + proof blocks + sign + encode, i.e. `domain.repo.commit_builder.build_commit`,
over an in-memory block store (the storage round trip is measured by bench/store.py).

Run: `.venv/bin/python -m bench.commit [--records N]`
"""

from __future__ import annotations

import argparse
import time

from bench._timing import percentile, report
from domain.crypto.k256 import K256Keypair
from domain.data.cid import CID
from domain.data.tid import TidClock
from domain.repo.block_map import BlockMap
from domain.repo.commit_builder import RepoHead, build_commit
from domain.repo.mst import Mst, NodeStore
from domain.repo.writes import RecordWrite, prepare_writes

POST = "app.bsky.feed.post"


def main() -> None:
    """Build the repo, then time N single-record commits."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--commits", type=int, default=2_000)
    args = parser.parse_args()
    clock = TidClock(clock_id=1)
    store = BlockMap()
    items = [
        (f"{POST}/{clock.next()}", CID.for_dag_cbor(str(i).encode())) for i in range(args.records)
    ]
    tree = Mst.build(store, items)
    root = tree.root
    store.update(tree.flush())
    nodes = NodeStore(store, 200_000)
    keypair = K256Keypair.generate()
    head = RepoHead(CID.for_dag_cbor(b"commit"), clock.next(), root)
    samples = []
    for i in range(args.commits):
        record = {"$type": POST, "text": f"post {i}", "createdAt": "2024-01-01T00:00:00.000Z"}
        writes = prepare_writes([RecordWrite("create", POST, clock.next(), record)])
        start = time.perf_counter()
        commit = build_commit(
            did="did:plc:" + "f" * 24, head=head, writes=writes, nodes=nodes,
            keypair=keypair, rev=clock.next(),
        )  # fmt: skip
        samples.append(time.perf_counter() - start)
        store.update(commit.blocks.items())
        head = RepoHead(commit.commit, commit.rev, commit.data)
    report("repo_records", args.records, "records")
    report("single_create_commit_p50", percentile(samples, 50) * 1e6, "us")
    report("single_create_commit_p99", percentile(samples, 99) * 1e6, "us")
    report("single_create_commits", len(samples) / sum(samples), "commits/s")


if __name__ == "__main__":
    main()
