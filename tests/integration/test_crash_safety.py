"""SIGKILL a committing process at random moments: nothing acknowledged is ever lost."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from adapters.storage.scratch_view_store import ScratchViewStore
from adapters.storage.store import sqlite_store
from application.audit.auditor import audit_log
from application.audit.replay import replay
from application.repo_host.app import RepoHost
from tests.integration.crash_writer import DID

ROOT = Path(__file__).resolve().parents[2]
KILLS = 20


def _run_and_kill(data: Path, rng: random.Random) -> list[str]:
    """Start the writer, let it commit for a random while, SIGKILL it; return acked rkeys."""
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.crash_writer", str(data)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert child.stdout is not None
    acked: list[str] = []
    first = child.stdout.readline().decode()
    assert first.startswith("ACK"), "writer never committed"
    acked.append(first.split()[2])
    deadline = time.monotonic() + rng.uniform(0.05, 0.5)
    os.set_blocking(child.stdout.fileno(), False)
    buffer = b""
    while time.monotonic() < deadline:
        chunk = child.stdout.read() or b""
        buffer += chunk
        time.sleep(0.005)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    buffer += child.stdout.read() or b""
    complete_lines = buffer.decode().split("\n")[:-1]  # a cut-off last line is not an ack
    acked += [line.split()[2] for line in complete_lines if line.startswith("ACK")]
    return acked


def test_killed_writer_loses_no_acknowledged_commit_and_views_equal_replay(
    tmp_path: Path,
) -> None:
    rng = random.Random(20261123)
    data = tmp_path / "data"
    all_acked: list[str] = []
    for _ in range(KILLS):
        all_acked += _run_and_kill(data, rng)
        store = sqlite_store(data, create=False)
        try:
            views = store.views
            present = {rkey for rkey, _ in _all_records(views)}
            missing = [rkey for rkey in all_acked if rkey not in present]
            assert not missing, f"acknowledged commits lost: {missing[:5]}"
            seqs = [row.seq for row in views.seq_after(0, 1_000_000)]
            assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))
        finally:
            store.close()
    store = sqlite_store(data, create=False)
    host = RepoHost(store.env, blocks=store.views, keys=None)  # type: ignore[arg-type]
    scratch = ScratchViewStore(tmp_path / "scratch.sqlite")
    try:
        report = replay(host, scratch, store.live_digests(), scratch.digests())
        assert report.ok, (report.live, report.rebuilt)
        assert not audit_log(host).failures
    finally:
        scratch.close()
        host.close()
        store.close()
    assert len(all_acked) >= KILLS


def _all_records(views: object) -> list[tuple[str, object]]:
    out = []
    cursor = None
    while True:
        page = views.list_records(  # type: ignore[attr-defined]
            DID, "app.bsky.feed.post", limit=100, cursor=cursor, reverse=True
        )
        out += page
        if len(page) < 100:
            return out
        cursor = page[-1][0]
