"""HTTP throughput of a running PDS: createRecord (sequential, 8 concurrent) and getRepo.

quire is started as its own process (`quire serve`, fast password hashing) so client and
server never share a GIL. With `--reference`, the reference PDS (`shared/reference-pds`,
copied into a cache directory and installed there once) is started beside it and the same
workloads run against it in the same run, then the ratios are printed. Both servers stay up
for the whole run: the createRecord workloads run `--rounds` rounds with the servers taking
turns within each round, and each figure is the median round's (every round's rate is
printed too), so a slow minute of the machine falls on both sides instead of one.

Workloads, each against a fresh account:
- sequential: one client, `--requests` createRecord calls of an app.bsky.feed.post;
- concurrent: 8 threads, each its own client and account, `--requests` calls in total;
  the createRecord clients are one keep-alive connection each (`bench/_json_client.py`):
  the same client for both servers, and light enough to leave them the CPU;
- getRecord: one client reading one post `--requests` times (the read clients make most);
- for both sequential workloads, the server process's CPU per request (all its threads, from
  /proc), and how many times less of it quire spends than the reference;
- getRepo: a `--records`-record repo built with applyWrites, then downloaded (streamed) a few
  times; MB/s of the first download after the last write (cold: quire walks the tree and
  fills its CAR cache, ADR 0009), of the best later one (warm: quire serves the cached CAR;
  the reference has no cache, so for it both are the same walk), and the server's peak RSS.

Run: `.venv/bin/python -m bench.http [--reference] [--requests 2000] [--records 10000]
[--rounds 3]`
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench._json_client import JsonClient
from bench._timing import percentile, report

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_SRC = ROOT.parent / "shared" / "reference-pds"
REFERENCE_CACHE = Path.home() / ".cache" / "quire-bench" / "reference-pds"
REFERENCE_FILES = ("package.json", "package-lock.json", "start.js", "start.sh")
POST = "app.bsky.feed.post"
PASSWORD = "bench-password-123"
CONCURRENCY = 8
WARMUP = 20
BATCH = 200  # the reference's applyWrites limit
GET_REPO_RUNS = 12
"""Downloads per server; the warm figure is the best after the first. A warm 2 MB download
takes quire 3-7 ms, so with two warm runs one scheduler hiccup halved it (278 against 560-630
MB/s from twelve, on the same build)."""
START_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class Target:
    """A PDS under test: its name, URL and server process id (for RSS)."""

    name: str
    url: str
    pid: int


@dataclass(frozen=True, slots=True)
class Session:
    did: str
    auth: dict[str, str]


@dataclass(frozen=True, slots=True)
class LoadResult:
    rate: float
    p50_ms: float
    p99_ms: float
    server_cpu_us: float = float("nan")
    """The server process's CPU (all its threads) per request, from /proc."""


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of process `pid` so far (all threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_healthy(url: str, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/xrpc/_health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not become healthy in {START_TIMEOUT:.0f}s")


@contextmanager
def quire_server() -> Iterator[Target]:
    """`quire serve` on a fresh data directory, as a separate process."""
    port = _free_port()
    data = Path(tempfile.mkdtemp(prefix="quire-bench-"))
    env = {
        **os.environ,
        "QUIRE_FAST_PASSWORD_HASHING": "1",
        "QUIRE_HANDLE_DOMAINS": ".test",
        "QUIRE_RATE_LIMITS": "off",  # as the reference is started: rate limits off
    }
    env.pop("QUIRE_DATABASE_URL", None)
    quire = shutil.which("quire", path=str(Path(sys.executable).parent)) or "quire"
    command = [quire, "serve", "--port", str(port), "--data", str(data), "--hostname", "localhost"]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process)
        yield Target("quire", url, process.pid)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        shutil.rmtree(data, ignore_errors=True)


def _install_reference() -> Path:
    """A writable copy of shared/reference-pds with its packages installed (once)."""
    REFERENCE_CACHE.mkdir(parents=True, exist_ok=True)
    for name in REFERENCE_FILES:
        source, copy = REFERENCE_SRC / name, REFERENCE_CACHE / name
        if not copy.exists() or copy.read_bytes() != source.read_bytes():
            shutil.copyfile(source, copy)
            copy.chmod(0o755 if name.endswith(".sh") else 0o644)
    return REFERENCE_CACHE


@contextmanager
def reference_server() -> Iterator[Target]:
    """The reference PDS + PLC via its start.sh; killed by REF_PID afterwards."""
    home = _install_reference()
    pds_port, plc_port = _free_port(), _free_port()
    print("# starting the reference PDS (first run installs it)", file=sys.stderr, flush=True)
    result = subprocess.run(
        ["bash", str(home / "start.sh"), "--pds-port", str(pds_port), "--plc-port", str(plc_port)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    values = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    if result.returncode != 0 or "REF_PID" not in values:
        raise RuntimeError(f"reference PDS did not start: {result.stderr[-2000:]}")
    pid = int(values["REF_PID"])
    try:
        url = values["PDS_URL"].replace("localhost", "127.0.0.1")
        _wait_healthy(url)
        yield Target("reference", url, pid)
    finally:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.1)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is not alive
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


_ACCOUNTS = iter(range(1, 1_000_000))


def create_account(client: JsonClient, prefix: str) -> Session:
    handle = f"{prefix}{next(_ACCOUNTS)}-{os.getpid()}.test"
    status, data = client.post(
        "/xrpc/com.atproto.server.createAccount",
        {"handle": handle, "password": PASSWORD, "email": f"{handle}@example.com"},
    )
    if status != 200:
        raise RuntimeError(f"createAccount: {status} {data[:300]!r}")
    body = json.loads(data)
    return Session(body["did"], {"authorization": f"Bearer {body['accessJwt']}"})


def _post(n: int) -> dict[str, object]:
    created = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {"$type": POST, "text": f"bench post {n}", "createdAt": created}


def _create_many(client: JsonClient, session: Session, count: int) -> list[float]:
    """`count` sequential createRecord calls; the latency of each, in seconds."""
    latencies = []
    for n in range(count):
        body = {"repo": session.did, "collection": POST, "record": _post(n)}
        start = time.perf_counter()
        status, data = client.post("/xrpc/com.atproto.repo.createRecord", body, session.auth)
        latencies.append(time.perf_counter() - start)
        if status != 200:
            raise RuntimeError(f"createRecord: {status} {data[:300]!r}")
    return latencies


def _client(target: Target) -> httpx.Client:
    return httpx.Client(base_url=target.url, timeout=60)


def bench_sequential(target: Target, requests: int) -> LoadResult:
    with JsonClient(target.url) as client:
        session = create_account(client, "seq")
        _create_many(client, session, WARMUP)
        cpu = _cpu_seconds(target.pid)
        start = time.perf_counter()
        latencies = _create_many(client, session, requests)
        elapsed = time.perf_counter() - start
        cpu = _cpu_seconds(target.pid) - cpu
    return LoadResult(requests / elapsed, *_p50_p99(latencies), cpu / requests * 1e6)


def bench_concurrent(target: Target, requests: int) -> LoadResult:
    per_client = max(1, requests // CONCURRENCY)
    clients = [JsonClient(target.url) for _ in range(CONCURRENCY)]
    sessions = [create_account(client, "conc") for client in clients]
    for client, session in zip(clients, sessions, strict=True):
        _create_many(client, session, 2)
    results: list[list[float]] = [[] for _ in clients]
    errors: list[BaseException] = []
    barrier = threading.Barrier(CONCURRENCY + 1)

    def work(index: int) -> None:
        barrier.wait()
        try:
            results[index] = _create_many(clients[index], sessions[index], per_client)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(CONCURRENCY)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join(timeout=900)
    elapsed = time.perf_counter() - start
    for client in clients:
        client.close()
    if errors:
        raise RuntimeError(f"concurrent createRecord failed: {errors[0]}")
    latencies = [latency for result in results for latency in result]
    return LoadResult(len(latencies) / elapsed, *_p50_p99(latencies))


def bench_get_record(target: Target, requests: int) -> LoadResult:
    """Sequential `repo.getRecord` of one post: the read a client makes most."""
    with JsonClient(target.url) as client:
        session = create_account(client, "read")
        status, data = client.post(
            "/xrpc/com.atproto.repo.createRecord",
            {"repo": session.did, "collection": POST, "record": _post(0)},
            session.auth,
        )
        if status != 200:
            raise RuntimeError(f"createRecord: {status} {data[:300]!r}")
        rkey = json.loads(data)["uri"].rsplit("/", 1)[1]
        params = {"repo": session.did, "collection": POST, "rkey": rkey}
        latencies = []
        cpu = 0.0
        for n in range(WARMUP + requests):
            if n == WARMUP:
                cpu = _cpu_seconds(target.pid)
            start = time.perf_counter()
            status, data = client.get("/xrpc/com.atproto.repo.getRecord", params)
            if n >= WARMUP:
                latencies.append(time.perf_counter() - start)
            if status != 200:
                raise RuntimeError(f"getRecord: {status} {data[:300]!r}")
        cpu = _cpu_seconds(target.pid) - cpu
    return LoadResult(
        len(latencies) / sum(latencies), *_p50_p99(latencies), cpu / len(latencies) * 1e6
    )


def _p50_p99(latencies: list[float]) -> tuple[float, float]:
    return percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000


def build_repo(client: httpx.Client, session: Session, records: int) -> None:
    """`records` posts through applyWrites, `BATCH` per commit."""
    for start in range(0, records, BATCH):
        writes = [
            {"$type": "com.atproto.repo.applyWrites#create", "collection": POST, "value": _post(n)}
            for n in range(start, min(records, start + BATCH))
        ]
        response = client.post(
            "/xrpc/com.atproto.repo.applyWrites",
            headers=session.auth,
            json={"repo": session.did, "writes": writes},
        )
        if response.status_code != 200:
            raise RuntimeError(f"applyWrites: {response.status_code} {response.text[:300]}")


def _reset_peak_rss(pid: int) -> None:
    """Reset VmHWM so the next reading is the peak while serving getRepo only."""
    with suppress(OSError):
        Path(f"/proc/{pid}/clear_refs").write_text("5")


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def bench_get_repo(target: Target, records: int) -> tuple[float, float, float, float]:
    """(first-download MB/s, best MB/s, CAR size in MB, server peak RSS in MB while serving)."""
    with JsonClient(target.url) as accounts:
        session = create_account(accounts, "repo")
    with _client(target) as client:
        build_repo(client, session, records)
        _reset_peak_rss(target.pid)
        best, size, rates = 0.0, 0, []
        for _ in range(GET_REPO_RUNS):
            size = 0
            start = time.perf_counter()
            with client.stream(
                "GET",
                "/xrpc/com.atproto.sync.getRepo",
                params={"did": session.did},
                # CAR bytes per second: the reference would otherwise gzip the stream.
                headers={"accept-encoding": "identity"},
            ) as response:
                response.raise_for_status()
                for chunk in response.iter_raw():
                    size += len(chunk)
            rates.append(size / 1e6 / (time.perf_counter() - start))
            best = max(rates)
        return rates[0], best, size / 1e6, _peak_rss_mb(target.pid)


ROUNDS = 3
"""createRecord workloads run this many rounds, servers alternating within each round; the
medians are reported. One quire round of 2,000 calls lasts about a second, and the machine
drifts within minutes: single rounds of the same code differed by 15-20% (sequential quire
872-1,341/s in one session), so no single round decides a figure, and alternating puts both
servers in the same minutes rather than one after the other."""


@dataclass
class WriteRounds:
    """Every round's createRecord results against one server."""

    sequential: list[LoadResult] = field(default_factory=list)
    concurrent: list[LoadResult] = field(default_factory=list)


def write_rounds(targets: list[Target], requests: int, rounds: int) -> dict[str, WriteRounds]:
    """Sequential and 8-client createRecord, `rounds` times, the servers taking turns."""
    results = {target.name: WriteRounds() for target in targets}
    for _ in range(rounds):
        for target in targets:
            results[target.name].sequential.append(bench_sequential(target, requests))
            results[target.name].concurrent.append(bench_concurrent(target, requests))
    return results


def _median_round(results: list[LoadResult]) -> LoadResult:
    """The round with the median rate (its latencies and CPU are reported with it)."""
    ordered = sorted(results, key=lambda result: result.rate)
    return ordered[(len(ordered) - 1) // 2]


def report_writes(name: str, rounds: WriteRounds) -> dict[str, float]:
    """Print the median rounds of `name`'s createRecord workloads; their rates."""
    print(
        f"# {name} rounds: sequential {[round(r.rate) for r in rounds.sequential]}, "
        f"concurrent{CONCURRENCY} {[round(r.rate) for r in rounds.concurrent]}",
        flush=True,
    )
    sequential = _median_round(rounds.sequential)
    report(f"{name}_sequential_create", sequential.rate, "records/s")
    report(f"{name}_sequential_create_p50", sequential.p50_ms, "ms")
    report(f"{name}_sequential_create_p99", sequential.p99_ms, "ms")
    report(f"{name}_sequential_create_server_cpu", sequential.server_cpu_us, "us/request")
    concurrent = _median_round(rounds.concurrent)
    report(f"{name}_concurrent{CONCURRENCY}_create", concurrent.rate, "records/s")
    report(f"{name}_concurrent{CONCURRENCY}_create_p50", concurrent.p50_ms, "ms")
    report(f"{name}_concurrent{CONCURRENCY}_create_p99", concurrent.p99_ms, "ms")
    return {
        "sequential": sequential.rate,
        "concurrent": concurrent.rate,
        "create_cpu": sequential.server_cpu_us,
    }


def run_reads(target: Target, requests: int, records: int) -> dict[str, float]:
    """getRecord and getRepo against `target`; prints each figure as it is measured."""
    name = target.name
    reads = bench_get_record(target, requests)
    report(f"{name}_sequential_get_record", reads.rate, "records/s")
    report(f"{name}_sequential_get_record_p50", reads.p50_ms, "ms")
    report(f"{name}_sequential_get_record_server_cpu", reads.server_cpu_us, "us/request")
    cold, mb_per_s, size_mb, rss_mb = bench_get_repo(target, records)
    report(f"{name}_get_repo_{records}_first", cold, "MB/s")
    report(f"{name}_get_repo_{records}", mb_per_s, "MB/s")
    report(f"{name}_get_repo_{records}_size", size_mb, "MB")
    report(f"{name}_get_repo_{records}_peak_rss", rss_mb, "MB")
    return {
        "get_record": reads.rate,
        "get_record_cpu": reads.server_cpu_us,
        "get_repo_first": cold,
        "get_repo": mb_per_s,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.http", description=__doc__.split("\n")[0])
    parser.add_argument("--reference", action="store_true", help="also run the reference PDS")
    parser.add_argument("--requests", type=int, default=2000, help="createRecord calls per run")
    parser.add_argument("--records", type=int, default=10_000, help="records in the getRepo repo")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="createRecord rounds")
    args = parser.parse_args(argv)
    with ExitStack() as servers:
        targets = [servers.enter_context(quire_server())]
        if args.reference:
            targets.append(servers.enter_context(reference_server()))
        writes = write_rounds(targets, args.requests, args.rounds)
        figures = {}
        for target in targets:
            figures[target.name] = report_writes(target.name, writes[target.name])
            figures[target.name] |= run_reads(target, args.requests, args.records)
    if not args.reference:
        return 0
    ours, theirs = figures["quire"], figures["reference"]
    for key, label in (
        ("sequential", "sequential_create"),
        ("concurrent", f"concurrent{CONCURRENCY}_create"),
        ("get_record", "sequential_get_record"),
        ("get_repo_first", "get_repo_first"),
        ("get_repo", "get_repo"),
    ):
        print(f"ratio_{label}: {ours[key] / theirs[key]:.1f}x", flush=True)
    for key, label in (("create_cpu", "sequential_create"), ("get_record_cpu", "get_record")):
        # how many times less server CPU quire spends on the same request
        print(f"cpu_ratio_{label}: {theirs[key] / ours[key]:.1f}x", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
