"""The reference npm packages for interop tests, installed once into tests/interop.

Without node, npm or the registry the interop tests skip locally but fail under `CI=true`:
in CI the interop claims must actually be checked.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.integration.stores import in_ci

INTEROP = Path(__file__).resolve().parents[1] / "interop"


def unavailable(reason: str) -> None:
    """Fail under CI, skip elsewhere."""
    if in_ci():
        pytest.fail(f"npm interop cannot run under CI: {reason}")
    pytest.skip(reason)


def pinned(package: str) -> str:
    """The version tests/interop/package.json pins for `package`."""
    version: str = json.loads((INTEROP / "package.json").read_text())["dependencies"][package]
    return version


def installed(package: str) -> str | None:
    """The version of `package` in tests/interop/node_modules, if any."""
    manifest = INTEROP / "node_modules" / package / "package.json"
    if not manifest.exists():
        return None
    version: str = json.loads(manifest.read_text())["version"]
    return version


def node_with(*packages: str) -> str:
    """Path of `node`, after installing the pinned versions of `packages` if missing."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        unavailable("node and npm are required")
    assert node is not None and npm is not None

    def missing() -> list[str]:
        return [name for name in packages if installed(name) != pinned(name)]

    if missing():
        try:
            result = subprocess.run(
                [npm, "install", "--prefix", str(INTEROP), "--no-audit", "--no-fund"],
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
        except subprocess.TimeoutExpired:
            unavailable("npm install timed out (registry unreachable?)")
        if result.returncode != 0 or missing():
            unavailable(f"npm install failed ({missing()}): {result.stderr[-1000:]}")
    return node
