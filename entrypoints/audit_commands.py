"""`quire log`, `quire replay` and `quire audit`: the auditor's commands."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from adapters.storage.scratch_view_store import ScratchViewStore
from adapters.storage.sql_key_store import SqlKeyStore, engine_for
from adapters.storage.store import Store
from application.audit.auditor import audit_log
from application.audit.log_lines import log_lines
from application.audit.point_in_time import car_at, head_at, records_at
from application.audit.replay import replay
from application.repo_host.app import RepoHost
from entrypoints.bootstrap import open_store
from entrypoints.config import Settings


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings()
    if getattr(args, "data", None):
        settings = Settings(data_dir=Path(args.data), database_url=settings.database_url)
    if getattr(args, "database_url", None):
        settings = Settings(data_dir=settings.data_dir, database_url=args.database_url)
    return settings


def _open_host(settings: Settings) -> tuple[RepoHost, Store]:
    store = open_store(settings, create=False)
    keys = SqlKeyStore(engine_for(store.dialect, store.conninfo, settings.db_schema))
    return RepoHost(store.env, blocks=store.views, keys=keys), store


def _progress(label: str) -> object:
    def report(count: int) -> None:
        print(f"\r{label}: {count} events", end="", file=sys.stderr, flush=True)

    return report


def run_log(args: argparse.Namespace) -> int:
    """Print events as JSON lines."""
    host, _ = _open_host(_settings(args))
    for line in log_lines(host, did=args.did, after=args.after, limit=args.limit):
        sys.stdout.write(json.dumps(line, separators=(",", ":")) + "\n")
    return 0


def run_replay(args: argparse.Namespace) -> int:
    """Rebuild every view into a scratch store and compare digests."""
    settings = _settings(args)
    host, store = _open_host(settings)
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = ScratchViewStore(Path(scratch_dir) / "replay.sqlite")
        try:
            report = replay(
                host,
                scratch,
                store.live_digests(),
                scratch.digests(),
                progress=_progress("replayed"),  # type: ignore[arg-type]
                workers=args.workers,
                log=store.log_pages(host.recorder.events_table_name),  # type: ignore[attr-defined]
            )
        finally:
            scratch.close()
    print(file=sys.stderr)
    width = max(len("view"), *map(len, report.live))
    print(f"{'view':<{width}} {'live':<34} {'rebuilt':<34} ok")
    for name in sorted(report.live):
        live, rebuilt = report.live[name], report.rebuilt.get(name, "-")
        print(f"{name:<{width}} {live:<34} {rebuilt:<34} {'yes' if live == rebuilt else 'NO'}")
    print(f"events replayed: {report.events}")
    return 0 if report.ok else 1


def run_audit(args: argparse.Namespace) -> int:
    """Verify every repo's commit chain from the log alone."""
    host, _ = _open_host(_settings(args))
    result = audit_log(host, progress=_progress("audited"))  # type: ignore[arg-type]
    print(file=sys.stderr)
    print(f"{'did':<40} {'commits':>8} {'records':>8} {'status':<8}")
    for repo in result.repos:
        print(
            f"{repo.did:<40} {repo.commits:>8} {repo.records:>8} {'ok' if repo.ok else 'FAIL':<8}"
        )
    for failure in result.failures:
        print(f"FAIL seq={failure.seq} did={failure.did}: {failure.reason}")
    print(f"events: {result.events}  repos: {len(result.repos)}  failures: {len(result.failures)}")
    return 0 if not result.failures else 1


def run_export(args: argparse.Namespace) -> int:
    """Write a repo as of a seq or rev: a CAR to stdout, or its records as JSON lines."""
    settings = _settings(args)
    host, store = _open_host(settings)
    head = head_at(host, args.did, seq=args.at_seq, rev=args.at_rev)
    views = store.views
    if args.records:
        for path, cid in records_at(views, head):
            sys.stdout.write(json.dumps({"path": path, "cid": str(cid)}) + "\n")
        return 0
    out = sys.stdout.buffer
    for chunk in car_at(views, head):
        out.write(chunk)
    out.flush()
    print(f"exported {args.did} at rev {head.rev} ({head.commit})", file=sys.stderr)
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register log, replay and audit."""
    for name, handler, help_text in (
        ("log", run_log, "print the event log as JSON lines"),
        ("replay", run_replay, "rebuild every view from the log and compare digests"),
        ("audit", run_audit, "verify every commit, signature and tree from the log"),
        ("export", run_export, "a repo as of a past seq or rev (CAR or records)"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--data", help="data directory (default ./data)")
        command.add_argument("--database-url", help="postgresql://... instead of SQLite")
        if name == "export":
            command.add_argument("--did", required=True)
            command.add_argument("--at-seq", type=int)
            command.add_argument("--at-rev")
            command.add_argument("--records", action="store_true", help="JSON lines, not a CAR")
        if name == "replay":
            command.add_argument(
                "--workers", type=int, help="projection processes (default: one per core)"
            )
        if name == "log":
            command.add_argument("--did")
            command.add_argument("--after", type=int, default=0)
            command.add_argument("--limit", type=int)
        command.set_defaults(handler=handler)
