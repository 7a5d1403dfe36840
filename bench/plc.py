"""did:plc throughput: audit-log validation and DID-document rendering.

Validation is dominated by signature verification (one per op), so the raw verify rate is
printed beside it as the floor. `bench_http_resolution` times the identity resolver against
the embedded directory served over HTTP on loopback (uvicorn in a thread), cold and cached.

Run: `.venv/bin/python -m bench.plc`
"""

from __future__ import annotations

import json
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn

from adapters.http.plc_routes import plc_app
from adapters.identity.embedded_plc_client import EmbeddedPlcClient
from adapters.identity.http_plc_client import HttpPlcClient
from adapters.identity.plc_registrar import PlcRegistrar
from adapters.identity.plc_store import plc_sqlite_env
from adapters.identity.resolver import Resolver
from application.plc_directory.app import PlcDirectory
from bench._timing import rate, report
from domain.crypto.k256 import K256Keypair
from domain.crypto.keys import verify_signature
from domain.crypto.p256 import P256Keypair
from domain.plc.audit_log import (
    LogEntry,
    PlcState,
    apply_operation,
    parse_audit_log,
    validate_audit_log,
)
from domain.plc.builder import build_genesis, build_update
from domain.plc.document import did_document
from domain.plc.signing import decode_sig

VECTORS = Path(__file__).resolve().parent.parent / "tests/vectors/did-plc-audit-log/valid"
LONG_LOG_OPS = 300


def _vector_logs() -> list[Any]:
    return [json.loads(path.read_text()) for path in sorted(VECTORS.glob("*.json"))]


def generated_log(length: int = LONG_LOG_OPS) -> tuple[LogEntry, ...]:
    """A long, valid log: an account rotating handles, alternating k256 and p256 signers."""
    server, recovery = P256Keypair.generate(), K256Keypair.generate()
    genesis = build_genesis(
        signing_key=K256Keypair.generate().did(),
        handle="bench.example.com",
        pds_endpoint="https://pds.example.com",
        server_rotation_key=server,
        recovery_key=recovery.did(),
    )
    start = datetime(2025, 1, 1, tzinfo=UTC)
    state: PlcState = apply_operation(None, genesis.operation, start).state
    for i in range(1, length):
        signer = recovery if i % 2 else server
        op = build_update(state.current.operation, signer, handle=f"h{i}.example.com")
        at = start + timedelta(hours=i)
        state = apply_operation(state, op, at, enforce_rate_limits=False).state
    return state.audit_log()


def bench_validation() -> None:
    raw_logs = _vector_logs()
    parsed = [parse_audit_log(raw) for raw in raw_logs]
    vector_ops = sum(len(log) for log in parsed)

    def validate_vectors() -> None:
        for log in parsed:
            validate_audit_log(log)

    report("plc_validate_vector_logs", rate(validate_vectors, batch=5) * vector_ops, "ops/s")

    def parse_and_validate() -> None:
        for raw in raw_logs:
            validate_audit_log(parse_audit_log(raw))

    report(
        "plc_parse_validate_vector_logs", rate(parse_and_validate, batch=5) * vector_ops, "ops/s"
    )

    started = time.perf_counter()
    long_log = generated_log()
    build_seconds = time.perf_counter() - started
    report("plc_build_sign_apply_long_log", len(long_log) / build_seconds, "ops/s")
    report(
        f"plc_validate_long_log_{len(long_log)}_ops",
        rate(lambda: validate_audit_log(long_log), batch=1) * len(long_log),
        "ops/s",
    )

    entry = long_log[1]
    sig = decode_sig(entry.operation.sig or "")
    message = entry.operation.unsigned_bytes()
    key = long_log[0].operation.to_value()["rotationKeys"][0]
    report("plc_verify_signature_floor", rate(lambda: verify_signature(key, message, sig)), "ops/s")


def bench_documents() -> None:
    states = [validate_audit_log(parse_audit_log(raw)) for raw in _vector_logs()]
    datas = [data for state in states if (data := state.data()) is not None]

    def render() -> None:
        for data in datas:
            did_document(data)

    report("plc_did_documents", rate(render) * len(datas), "docs/s")


def bench_resolution(
    resolve: Callable[[str], object], dids: Sequence[str], *, label: str = "plc_resolve"
) -> None:
    """Time `resolve(did)` cold (first call per DID) and cached (repeat calls).

    For the directory's HTTP resolution: pass a function that fetches `/:did` (and whatever
    caching the resolver has) and DIDs already registered with it.
    """
    started = time.perf_counter()
    for did in dids:
        resolve(did)
    report(f"{label}_cold", len(dids) / (time.perf_counter() - started), "resolutions/s")

    def warm() -> None:
        for did in dids:
            resolve(did)

    report(f"{label}_cached", rate(warm, batch=1) * len(dids), "resolutions/s")


@contextmanager
def _serving(app: Any) -> Iterator[str]:
    """`app` under uvicorn on a free loopback port, in a thread, for the block's duration."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("PLC server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def bench_http_resolution(accounts: int = 300) -> None:
    """DID documents resolved per second by the identity resolver, from the embedded
    directory over HTTP on loopback: cold (one GET per DID) and cached (no I/O)."""
    with tempfile.TemporaryDirectory() as tmp:
        directory = PlcDirectory(plc_sqlite_env(Path(tmp)))
        registrar = PlcRegistrar(EmbeddedPlcClient(directory), K256Keypair.generate())
        dids = [
            registrar.register(
                handle=f"user{i}.test",
                signing_key=K256Keypair.generate().did(),
                pds_endpoint="https://pds.example.com",
            )
            for i in range(accounts)
        ]
        with _serving(plc_app(directory)) as url:
            plc = HttpPlcClient(url)
            resolver = Resolver(plc)
            bench_resolution(resolver.resolve_did, dids, label="plc_resolve_http")
            resolver.close()
            plc.close()
        directory.close()


def main() -> None:
    bench_validation()
    bench_documents()
    bench_http_resolution()


if __name__ == "__main__":
    main()
