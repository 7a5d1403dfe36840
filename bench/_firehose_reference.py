"""Side-by-side with the reference PDS: backfill and commit-to-frame latency over HTTP.

The reference can only be written through XRPC, so both servers are measured the same way
here: each runs as its own process (`quire serve` on SQLite, the reference from
../shared/reference-pds/start.sh), history is written with `createRecord` from eight client
threads, backfill is read from cursor 0 by the same raw reader, and latency is measured with
10 live subscribers while paced `createRecord` calls run (commit time: when the HTTP call
returned; frame time: when the subscriber received the frame with that `rev`).
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench._firehose_subscribers import backfill_main, subscriber_main
from bench._timing import percentile, report

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference-pds"
PATH = "/xrpc/com.atproto.sync.subscribeRepos"
PASSWORD = "bench-password-1"
WRITERS = 8


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def reference_pds() -> Iterator[str]:
    """Start the reference stack; yield its PDS URL; kill it afterwards."""
    script = REFERENCE / "start.sh"
    if not script.exists():
        raise RuntimeError(f"reference PDS not found at {REFERENCE}")
    command = [str(script), "--plc-port", str(_free_port()), "--pds-port", str(_free_port())]
    out = subprocess.run(command, capture_output=True, text=True, timeout=600, check=True)
    pid = int(re.search(r"^REF_PID=(\d+)", out.stdout, re.M).group(1))  # type: ignore[union-attr]
    url = re.search(r"^PDS_URL=(\S+)", out.stdout, re.M).group(1)  # type: ignore[union-attr]
    try:
        yield url.replace("localhost", "127.0.0.1")
    finally:
        os.kill(pid, signal.SIGTERM)


@contextmanager
def quire_process(data_dir: Path) -> Iterator[str]:
    """`quire serve` on SQLite in its own process; yield its URL once healthy."""
    port = _free_port()
    quire = Path(sys.executable).with_name("quire")
    env = os.environ | {"QUIRE_FAST_PASSWORD_HASHING": "1"}
    command = [str(quire), "serve", "--port", str(port), "--data", str(data_dir)]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("quire serve did not start")
            try:
                if httpx.get(f"{url}/xrpc/_health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


class Target:
    """One server under test, written to through XRPC."""

    def __init__(self, label: str, url: str) -> None:
        self.label = label
        self.url = url
        self.accounts: list[tuple[str, str]] = []  # (did, access token)
        self.local = threading.local()

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + PATH

    def http(self) -> httpx.Client:
        client: httpx.Client | None = getattr(self.local, "client", None)
        if client is None:
            client = httpx.Client(base_url=self.url, timeout=30)
            self.local.client = client
        return client

    def create_accounts(self, count: int) -> None:
        for _ in range(count):
            handle = f"b{secrets.token_hex(4)}.test"
            body = {"handle": handle, "password": PASSWORD, "email": f"{handle}@example.com"}
            response = self.http().post("/xrpc/com.atproto.server.createAccount", json=body)
            response.raise_for_status()
            self.accounts.append((response.json()["did"], response.json()["accessJwt"]))

    def create_record(self, i: int) -> bytes:
        """One createRecord; returns the commit's rev."""
        did, token = self.accounts[i % len(self.accounts)]
        record = {
            "$type": "app.bsky.feed.post",
            "text": f"reference bench post {i}",
            "createdAt": "2024-01-01T00:00:00.000Z",
        }
        response = self.http().post(
            "/xrpc/com.atproto.repo.createRecord",
            headers={"authorization": f"Bearer {token}"},
            json={"repo": did, "collection": "app.bsky.feed.post", "record": record},
        )
        response.raise_for_status()
        rev: str = response.json()["commit"]["rev"]
        return rev.encode()


def _history(target: Target, events: int) -> None:
    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(target.create_record, range(events)))


def _backfill(target: Target) -> float:
    from bench.firehose import Children

    child = Children(backfill_main, f"{target.ws_url}?cursor=0", 0, 600.0)
    _, result = child.receive(660)
    child.join()
    rate: float = result["count"] / (result["last"] - result["started"])
    report(f"{target.label}_backfill_events", result["count"], "events")
    report(f"{target.label}_backfill", rate, "events/s")
    return rate


def _latency(target: Target, rate: float, duration: float, subscribers: int = 10) -> float:
    from bench.firehose import Children

    child = Children(subscriber_main, target.ws_url, subscribers, "live")
    child.receive(60)
    time.sleep(0.5)  # the server registers the subscriptions after the handshakes
    done: dict[bytes, float] = {}

    def write(i: int) -> None:
        rev = target.create_record(i)
        done[rev] = time.monotonic()

    total = int(rate * duration)
    start = time.monotonic()
    with ThreadPoolExecutor(WRITERS) as pool:
        futures = []
        for i in range(total):
            pause = start + i / rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            futures.append(pool.submit(write, i))
        wait(futures)
    child.conn.send(("collect", total, 30.0))
    _, logs = child.receive(90)
    child.join()
    latencies = [
        (at - done[rev]) * 1000
        for log in logs
        for rev, at in log
        if rev is not None and rev in done
    ]
    name = f"{target.label}_http_{subscribers}_subscribers"
    report(f"{name}_write_rate", total / (max(done.values()) - start), "commits/s")
    report(f"{name}_commit_to_frame_p50", percentile(latencies, 50), "ms")
    p99 = percentile(latencies, 99)
    report(f"{name}_commit_to_frame_p99", p99, "ms")
    return p99


def _measure(target: Target, args: argparse.Namespace) -> tuple[float, float]:
    target.create_accounts(10)
    _history(target, args.reference_events)
    return _backfill(target), _latency(target, args.reference_rate, args.duration)


def compare_with_reference(args: argparse.Namespace) -> None:
    """Measure the reference and `quire serve` the same way; print both and the ratios."""
    with reference_pds() as url:
        ref_backfill, ref_p99 = _measure(Target("reference", url), args)
    with (
        tempfile.TemporaryDirectory(prefix="quire-bench-http-") as tmp,
        quire_process(Path(tmp)) as url,
    ):
        our_backfill, our_p99 = _measure(Target("quire_serve", url), args)
    report("backfill_vs_reference", our_backfill / ref_backfill, "x")
    report("commit_to_frame_p99_reference_over_quire", ref_p99 / our_p99, "x")
