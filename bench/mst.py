"""MST throughput beside the `atmst` package, on the same keys and values in the same run.

Both sides build a 100k-record tree one record at a time and then apply 10k random updates,
each write producing its new root and storing its new blocks (quire: `put` + `flush` into
a dict-backed store; atmst: `NodeWrangler.put_record` over its `MemoryBlockStore`). quire
runs with its default node cache and again with atmst's 1024-node LRU for a like-for-like
ratio. Then: quire's sorted bulk load, a streamed CAR export of the 100k-record repo, and
the latency of one insert into a 100k-record tree (tree update + new blocks collected),
the MST share of a commit.

Run: `.venv/bin/python -m bench.mst`
"""

from __future__ import annotations

import random
import time

from bench._timing import percentile, report
from domain.data.cid import CID
from domain.repo.block_map import BlockMap
from domain.repo.car import write_car
from domain.repo.mst import DEFAULT_CACHE_NODES, Mst, NodeStore

RECORDS = 100_000
UPDATES = 10_000
INSERT_SAMPLES = 3_000
ATMST_CACHE_NODES = 1024  # atmst's NodeStore LRU size
_TID_CHARS = "234567abcdefghijklmnopqrstuvwxyz"
_COLLECTIONS = (
    ("app.bsky.feed.like", 5),
    ("app.bsky.feed.post", 3),
    ("app.bsky.graph.follow", 2),
    ("app.bsky.feed.repost", 1),
)

Workload = tuple[list[tuple[str, CID]], list[tuple[str, CID]]]


def record_bytes(n: int) -> bytes:
    """Stand-in record content of a typical size (~250 bytes)."""
    return f"record {n:06d} ".encode() * 18


def workload(seed: int = 7) -> Workload:
    """100k distinct realistic record paths with values, and 10k updates of random ones."""
    rnd = random.Random(seed)
    names = [name for name, weight in _COLLECTIONS for _ in range(weight)]
    paths: set[str] = set()
    while len(paths) < RECORDS:
        rkey = "3" + "".join(rnd.choice(_TID_CHARS) for _ in range(12))
        paths.add(f"{rnd.choice(names)}/{rkey}")
    records = [(path, CID.for_dag_cbor(record_bytes(n))) for n, path in enumerate(sorted(paths))]
    rnd.shuffle(records)
    updates = [
        (rnd.choice(records)[0], CID.for_dag_cbor(f"update {n}".encode())) for n in range(UPDATES)
    ]
    return records, updates


class MemoryStore:
    """A block store keyed by binary CID, like atmst's `MemoryBlockStore`."""

    def __init__(self) -> None:
        self.blocks: dict[bytes, bytes] = {}

    def get_block(self, cid: CID) -> bytes | None:
        return self.blocks.get(cid.raw)

    def put_blocks(self, blocks: BlockMap) -> None:
        self.blocks.update((cid.raw, data) for cid, data in blocks.items())


def quire_writes(pairs: list[tuple[str, CID]], tree: Mst, store: MemoryStore) -> Mst:
    """One `put` per pair, each followed by `flush` into the store (a commit per write)."""
    for key, value in pairs:
        tree = tree.put(key, value)
        store.put_blocks(tree.flush())
    return tree


def bench_quire(work: Workload, capacity: int) -> tuple[float, float, CID]:
    """(build keys/s, update keys/s, final root) for quire with a node cache of `capacity`."""
    records, updates = work
    store = MemoryStore()
    start = time.perf_counter()
    tree = quire_writes(records, Mst.empty(NodeStore(store, capacity)), store)
    built = time.perf_counter()
    tree = quire_writes(updates, tree, store)
    done = time.perf_counter()
    return len(records) / (built - start), len(updates) / (done - built), tree.root


def bench_atmst(work: Workload) -> tuple[float, float, CID]:
    """(build keys/s, update keys/s, final root) for atmst's NodeWrangler."""
    import cbrrr
    from atmst.blockstore import MemoryBlockStore
    from atmst.mst.node_store import NodeStore as AtmstNodeStore
    from atmst.mst.node_wrangler import NodeWrangler

    records, updates = work
    store = AtmstNodeStore(MemoryBlockStore())
    wrangler = NodeWrangler(store)
    root = store.get_node(None).cid

    def writes(pairs: list[tuple[str, cbrrr.CID]]) -> None:
        nonlocal root
        for key, value in pairs:
            root = wrangler.put_record(root, key, value)

    build = [(key, cbrrr.CID(value.raw)) for key, value in records]
    update = [(key, cbrrr.CID(value.raw)) for key, value in updates]
    start = time.perf_counter()
    writes(build)
    built = time.perf_counter()
    writes(update)
    done = time.perf_counter()
    return len(build) / (built - start), len(update) / (done - built), CID(bytes(root))


def bench_side_by_side(work: Workload) -> None:
    """Incremental build and random updates: quire, atmst, and their ratios."""
    quire_build, quire_update, quire_root = bench_quire(work, DEFAULT_CACHE_NODES)
    lru_build, lru_update, _ = bench_quire(work, ATMST_CACHE_NODES)
    atmst_build, atmst_update, atmst_root = bench_atmst(work)
    report("mst_node_cache_quire", DEFAULT_CACHE_NODES, "nodes")
    report("mst_node_cache_atmst", ATMST_CACHE_NODES, "nodes")
    report("mst_build_100k_quire", quire_build, "keys/s")
    report(f"mst_build_100k_quire_cache{ATMST_CACHE_NODES}", lru_build, "keys/s")
    report("mst_build_100k_atmst", atmst_build, "keys/s")
    report("mst_build_ratio_quire_over_atmst", quire_build / atmst_build, "x")
    report(
        f"mst_build_ratio_quire_cache{ATMST_CACHE_NODES}_over_atmst", lru_build / atmst_build, "x"
    )
    report("mst_update_10k_quire", quire_update, "keys/s")
    report(f"mst_update_10k_quire_cache{ATMST_CACHE_NODES}", lru_update, "keys/s")
    report("mst_update_10k_atmst", atmst_update, "keys/s")
    report("mst_update_ratio_quire_over_atmst", quire_update / atmst_update, "x")
    report(
        f"mst_update_ratio_quire_cache{ATMST_CACHE_NODES}_over_atmst",
        lru_update / atmst_update,
        "x",
    )
    report("mst_same_root_as_atmst", float(quire_root == atmst_root), "bool")


def bench_bulk_load(work: Workload) -> Mst:
    """Sorted bulk load of the 100k records (build + hash + collect every block)."""
    records, _ = work
    store = MemoryStore()
    start = time.perf_counter()
    tree = Mst.build(NodeStore(store), records)
    store.put_blocks(tree.flush())
    report("mst_bulk_load_100k_quire", len(records) / (time.perf_counter() - start), "keys/s")
    return tree


def bench_car_export(tree: Mst) -> None:
    """Stream the 100k-record repo as a CAR: nodes pre-order, records inline (MB/s)."""
    records = MemoryStore()
    records.blocks.update(
        (CID.for_dag_cbor(record_bytes(n)).raw, record_bytes(n)) for n in range(RECORDS)
    )
    start = time.perf_counter()
    size = sum(len(chunk) for chunk in write_car(tree.root, tree.car_blocks(records)))
    elapsed = time.perf_counter() - start
    report("mst_car_export_100k_quire", size / elapsed / 1e6, "MB/s")
    report("mst_car_export_100k_quire_records", RECORDS / elapsed, "records/s")


def bench_single_insert(tree: Mst) -> None:
    """Latency of one new record into a 100k-record tree: put + flush, p50/p99."""
    rnd = random.Random(11)
    store = tree.store.reader
    assert isinstance(store, MemoryStore)
    samples = []
    for n in range(INSERT_SAMPLES):
        key = "app.bsky.feed.post/3" + "".join(rnd.choice(_TID_CHARS) for _ in range(12))
        value = CID.for_dag_cbor(f"insert {n}".encode())
        start = time.perf_counter()
        tree = tree.put(key, value)
        blocks = tree.flush()
        samples.append(time.perf_counter() - start)
        store.put_blocks(blocks)
    report("mst_single_insert_100k_p50", percentile(samples, 50) * 1e6, "us")
    report("mst_single_insert_100k_p99", percentile(samples, 99) * 1e6, "us")


def main() -> None:
    """Run every MST benchmark."""
    work = workload()
    bench_side_by_side(work)
    tree = bench_bulk_load(work)
    bench_car_export(tree)
    bench_single_insert(tree)


if __name__ == "__main__":
    main()
