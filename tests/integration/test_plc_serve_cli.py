"""`quire plc serve` runs the directory on its own port."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.integration.live_server import free_port

QUIRE = Path(sys.executable).parent / "quire"


def test_plc_serve_answers_export_and_404_for_unknown_dids(tmp_path: Path) -> None:
    port = free_port()
    server = subprocess.Popen(
        [str(QUIRE), "plc", "serve", "--port", str(port), "--data", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                export = httpx.get(f"http://127.0.0.1:{port}/export", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert export.status_code == 200
        unknown = httpx.get(f"http://127.0.0.1:{port}/did:plc:aaaaaaaaaaaaaaaaaaaaaaaa")
        assert unknown.status_code == 404
    finally:
        server.terminate()
        server.wait(timeout=10)
