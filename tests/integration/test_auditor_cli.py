"""The auditor's commands on a real data directory: log, replay, audit, export, corruption."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.storage.sql_key_store import SqlKeyStore, engine_for
from adapters.storage.store import sqlite_store
from application.repo_host.app import RepoHost
from domain.crypto.k256 import K256Keypair
from domain.repo.car import load_car
from domain.repo.writes import RecordWrite

ROOT = Path(__file__).resolve().parents[2]
QUIRE = Path(sys.executable).parent / "quire"
DID = "did:plc:" + "e" * 24
POST = "app.bsky.feed.post"


def quire(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([str(QUIRE), *args], cwd=ROOT, capture_output=True, timeout=120)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    directory = tmp_path / "data"
    store = sqlite_store(directory)
    host = RepoHost(
        store.env, blocks=store.views, keys=SqlKeyStore(engine_for("sqlite", store.conninfo))
    )
    host.create_account(DID, "audit.test", None, K256Keypair.generate())
    for i in range(6):
        record = {"$type": POST, "text": str(i), "createdAt": "2024-01-01T00:00:00Z"}
        host.apply_writes(DID, [RecordWrite("create", POST, f"3k2aaaaaaa{i:02d}2", record)])
    host.apply_writes(DID, [RecordWrite("delete", POST, "3k2aaaaaaa002")])
    host.close()
    store.close()
    return directory


def test_log_prints_one_json_line_per_event_filtered_by_did(data: Path) -> None:
    result = quire("log", "--data", str(data), "--did", DID, "--after", "3")
    lines = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert result.returncode == 0
    assert [line["seq"] for line in lines] == list(range(4, 4 + len(lines)))
    assert lines[-1]["ops"] == [
        {"action": "delete", "path": f"{POST}/3k2aaaaaaa002", "prev": lines[-1]["ops"][0]["prev"]}
    ]


def test_log_shows_what_a_takedown_took_down_and_when_it_was_lifted(data: Path) -> None:
    store = sqlite_store(data)
    host = RepoHost(
        store.env, blocks=store.views, keys=SqlKeyStore(engine_for("sqlite", store.conninfo))
    )
    host.change_record_takedown(DID, POST, "3k2aaaaaaa012", "case-7")
    host.change_record_takedown(DID, POST, "3k2aaaaaaa012", None)
    host.close()
    store.close()
    result = quire("log", "--data", str(data), "--did", DID)
    applied, lifted = [json.loads(line) for line in result.stdout.decode().splitlines()][-2:]
    assert applied["type"] == lifted["type"] == "Account.RecordTakedownChanged"
    assert (applied["collection"], applied["rkey"], applied["ref"]) == (
        POST,
        "3k2aaaaaaa012",
        "case-7",
    )
    assert lifted["ref"] is None


@pytest.mark.parametrize("workers", [None, "2"], ids=["default", "two-workers"])
def test_replay_and_audit_pass_on_an_untouched_store(data: Path, workers: str | None) -> None:
    # with workers, `quire replay` forks them (it runs no other thread) and each reads its
    # own seq ranges of the log
    replayed = quire("replay", "--data", str(data), *(["--workers", workers] if workers else []))
    assert replayed.returncode == 0, replayed.stdout.decode()
    assert b"NO" not in replayed.stdout
    table = replayed.stdout.decode().splitlines()[:-1]
    assert len({line.index(" ", len("record_takedowns")) for line in table}) == 1, table
    audited = quire("audit", "--data", str(data))
    assert audited.returncode == 0, audited.stdout.decode()
    assert b"failures: 0" in audited.stdout


def test_export_at_an_earlier_seq_shows_the_repo_as_it_was(data: Path) -> None:
    at_seq_6 = quire("export", "--data", str(data), "--did", DID, "--at-seq", "6", "--records")
    paths = [json.loads(line)["path"] for line in at_seq_6.stdout.decode().splitlines()]
    assert paths == [f"{POST}/3k2aaaaaaa002", f"{POST}/3k2aaaaaaa012"]
    car = quire("export", "--data", str(data), "--did", DID, "--at-seq", "6")
    roots, blocks = load_car(car.stdout)
    assert len(roots) == 1 and len(blocks) > 3


def test_corrupted_event_row_is_reported_by_audit_with_its_seq(data: Path) -> None:
    conn = sqlite3.connect(data / "quire.sqlite")
    conn.execute("UPDATE stored_events SET state = X'a1616101' WHERE rowid = 7")
    conn.commit()
    conn.close()
    audited = quire("audit", "--data", str(data))
    out = audited.stdout.decode()
    assert audited.returncode == 1
    assert "FAIL seq=7" in out
    assert "Traceback" not in out + audited.stderr.decode()


def test_corrupted_block_bytes_fail_replay_comparison_or_audit(data: Path) -> None:
    conn = sqlite3.connect(data / "quire-blocks.sqlite")  # the block index's file (ADR 0014)
    conn.execute(
        "UPDATE repo_blocks SET data = X'00' WHERE rowid = (SELECT MAX(rowid) FROM repo_blocks)"
    )
    conn.commit()
    conn.close()
    replayed = quire("replay", "--data", str(data))
    assert replayed.returncode == 1
    assert b"repo_blocks" in replayed.stdout and b"NO" in replayed.stdout
