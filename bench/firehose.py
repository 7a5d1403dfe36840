"""Firehose benchmark: live fan-out, commit-to-frame latency, backfill and idle memory.

- Live fan-out: 1, 10 and 100 subscribers (no cursor) while a writer commits at a steady
  rate (500 commits/s for `--duration` seconds). Commit time is when the write call
  returned (the group committer, as the HTTP handlers use it); frame time is when the
  subscriber received the frame. Prints frames/s delivered and latency p50/p99.
- Backfill: one subscriber from cursor 0 over `--backfill-events` events, pre-generated
  with group commit (`RepoHost.apply_writes_batch`, 100 commits per transaction).
- Idle memory: the server's RSS growth per idle subscriber, over 1,000 of them.
- `--reference`: starts the reference PDS (../shared/reference-pds) and measures its backfill
  and its commit-to-frame latency (writes through createRecord over HTTP, the only write
  path it has), and ours the same way, printing the ratios.

The server (uvicorn on loopback) and its writer share this process; subscribers run in a
child process with a minimal WebSocket reader so the client side is not what is measured.

Run: `.venv/bin/python -m bench.firehose [--duration 5] [--backfill-events 100000] [--reference]`
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import secrets
import tempfile
import threading
import time
from concurrent.futures import Future, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from adapters.http.ws_protocol import uvicorn_websocket_options
from bench._firehose_subscribers import backfill_main, subscriber_main
from bench._timing import percentile, report
from domain.crypto.k256 import K256Keypair
from domain.data.cid import CID
from domain.repo.repo_commit import RepoCommit
from domain.repo.writes import RecordWrite
from entrypoints.asgi import build_app
from entrypoints.bootstrap import Services, build_services
from entrypoints.config import Settings

POST = "app.bsky.feed.post"
PATH = "/xrpc/com.atproto.sync.subscribeRepos"
_SPAWN = multiprocessing.get_context("spawn")


def _record(i: int) -> dict[str, str]:
    return {"$type": POST, "text": f"firehose bench post {i}", "createdAt": "2024-01-01T00:00:00Z"}


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class BenchServer:
    """Our server over a fresh data directory, under uvicorn in a background thread."""

    services: Services
    server: uvicorn.Server
    thread: threading.Thread
    url: str

    @classmethod
    def start(cls, data_dir: Path) -> BenchServer:
        port = _free_port()
        settings = Settings(
            data_dir=data_dir,
            hostname="localhost",
            port=port,
            handle_domains=(".test",),
            fast_password_hashing=True,
        )
        services = build_services(settings)
        config = uvicorn.Config(
            build_app(services),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            **uvicorn_websocket_options(),
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 15
        while not server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.01)
        return cls(services, server, thread, f"http://127.0.0.1:{port}")

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + PATH

    def create_accounts(self, count: int) -> list[str]:
        dids = []
        for i in range(count):
            did = f"did:plc:{secrets.token_hex(12)}"
            handle = f"fh{i}x{secrets.token_hex(3)}.test"
            self.services.host.create_account(did, handle, None, K256Keypair.generate())
            dids.append(did)
        return dids

    def wait_subscribers(self, count: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while self.services.hub.subscriber_count < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {self.services.hub.subscriber_count} subscribed")
            time.sleep(0.005)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.services.close()


class Children:
    """A subscriber process and the pipe to it."""

    def __init__(self, target: Any, *args: Any) -> None:
        self.conn, child = _SPAWN.Pipe()
        self.process = _SPAWN.Process(target=target, args=(child, *args), daemon=True)
        self.process.start()

    def receive(self, timeout: float) -> Any:
        if not self.conn.poll(timeout):
            raise RuntimeError("subscriber process did not answer")
        return self.conn.recv()

    def join(self) -> None:
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()


def _paced_writes(
    server: BenchServer, dids: list[str], rate: float, duration: float
) -> dict[bytes, float]:
    """Submit a commit every 1/`rate` s for `duration`; return rev -> time its write returned.

    Writes are submitted on schedule without waiting for the previous one, as independent
    clients would, and each is timed when its future resolves (the moment an HTTP handler
    awaiting it would return).
    """
    committer = server.services.committer
    done: dict[bytes, float] = {}
    futures = []

    def finished(future: Future[RepoCommit]) -> None:
        done[future.result().rev.encode()] = time.monotonic()

    total = int(rate * duration)
    start = time.monotonic()
    for i in range(total):
        pause = start + i / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        did = dids[i % len(dids)]
        rkey = server.services.host.clock.next()
        future = committer.submit(did, [RecordWrite("create", POST, rkey, _record(i))])
        future.add_done_callback(finished)
        futures.append(future)
    wait(futures, timeout=60)
    return done


def live_fanout(
    server: BenchServer, dids: list[str], subscribers: int, rate: float, duration: float
) -> None:
    """Frames/s and commit-to-frame latency for `subscribers` live subscribers."""
    child = Children(subscriber_main, server.ws_url, subscribers, "live")
    child.receive(60)
    server.wait_subscribers(subscribers)
    started = time.monotonic()
    commits = _paced_writes(server, dids, rate, duration)
    write_rate = len(commits) / (max(commits.values()) - started)
    child.conn.send(("collect", len(commits), 30.0))
    _, logs = child.receive(90)
    child.join()
    latencies: list[float] = []
    received = 0
    last = started
    for log in logs:
        for rev, at in log:
            committed = commits.get(rev) if rev is not None else None
            if committed is None:
                continue
            received += 1
            latencies.append((at - committed) * 1000)
            last = max(last, at)
    expected = len(commits) * subscribers
    name = f"live_{subscribers}_subscribers"
    report(f"{name}_write_rate", write_rate, "commits/s")
    report(f"{name}_frames_per_s", received / (last - started), "frames/s")
    report(f"{name}_delivered", 100 * received / expected, "%")
    report(f"{name}_commit_to_frame_p50", percentile(latencies, 50), "ms")
    report(f"{name}_commit_to_frame_p99", percentile(latencies, 99), "ms")
    server.wait_subscribers(0)


def idle_memory(server: BenchServer, count: int = 1000) -> None:
    """RSS growth of the server process per idle subscriber."""
    gc.collect()
    before = _rss_bytes()
    child = Children(subscriber_main, server.ws_url, count, "idle")
    child.receive(120)
    server.wait_subscribers(count)
    time.sleep(0.5)
    gc.collect()
    after = _rss_bytes()
    child.conn.send(("collect", 0, 1.0))
    child.receive(30)
    child.join()
    report("idle_subscriber_memory", (after - before) / count / 1024, "KB")


def generate(server: BenchServer, events: int, accounts: int = 100) -> int:
    """Pre-generate about `events` seq events with group commit; return the highest seq."""
    dids = server.create_accounts(accounts)
    host = server.services.host
    i = 0
    while server.services.views.max_seq() < events:
        batch: list[tuple[str, list[RecordWrite], CID | None]] = [
            (did, [RecordWrite("create", POST, host.clock.next(), _record(i + n))], None)
            for n, did in enumerate(dids)
        ]
        host.apply_writes_batch(batch)
        i += len(batch)
    return server.services.views.max_seq()


def backfill(server: BenchServer, label: str, url: str, expected: int) -> float:
    """Events/s for one subscriber reading `expected` frames from cursor 0."""
    child = Children(backfill_main, f"{url}?cursor=0", expected, 600.0)
    _, result = child.receive(660)
    child.join()
    if result["count"] < expected:
        raise RuntimeError(f"{label}: backfill got {result['count']} of {expected} frames")
    rate = result["count"] / (result["last"] - result["started"])
    report(f"{label}_backfill_events", result["count"], "events")
    report(f"{label}_backfill", rate, "events/s")
    return float(rate)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--backfill-events", type=int, default=100_000)
    parser.add_argument("--subscribers", default="1,10,100")
    parser.add_argument("--reference", action="store_true")
    parser.add_argument("--reference-events", type=int, default=2000)
    parser.add_argument("--reference-rate", type=float, default=50.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="quire-bench-") as tmp:
        server = BenchServer.start(Path(tmp) / "live")
        try:
            dids = server.create_accounts(20)
            for count in (int(n) for n in args.subscribers.split(",")):
                live_fanout(server, dids, count, args.rate, args.duration)
            idle_memory(server)
        finally:
            server.stop()
        if args.backfill_events:
            server = BenchServer.start(Path(tmp) / "backfill")
            try:
                started = time.monotonic()
                total = generate(server, args.backfill_events)
                report("backfill_generate", total / (time.monotonic() - started), "events/s")
                backfill(server, "quire", server.ws_url, total)
            finally:
                server.stop()
    if args.reference:
        from bench._firehose_reference import compare_with_reference

        compare_with_reference(args)


if __name__ == "__main__":
    main()
