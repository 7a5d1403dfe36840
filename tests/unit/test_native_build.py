"""The mypyc build of the domain (ADR 0018) is loaded only while it matches the sources.

`make test` runs the whole suite over the build and `tests/unit` again from source
(`QUIRE_PURE=1`); under CI each of those runs must actually be the kind it claims to be.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

import domain.data.dag_cbor
import domain.repo.mst
from domain import native_build
from domain.native_build import DOMAIN, fresh_binaries, in_use, source_digest

PURE = os.environ.get("QUIRE_PURE", "") not in ("", "0")


def _build(tmp_path: Path, modules: dict[str, str]) -> Path:
    """A build directory whose manifest lists `modules` (name -> source path under domain/),
    each with a placeholder binary; nothing here is ever imported."""
    entries = {}
    for name, source in modules.items():
        binary = tmp_path / f"{name}.so"
        binary.write_bytes(b"not a real extension")
        entries[name] = {
            "source": source,
            "sha256": source_digest(DOMAIN / source),
            "binary": binary.name,
        }
    manifest = {
        "cache_tag": sys.implementation.cache_tag,
        "source_root": str(DOMAIN),
        "modules": entries,
    }
    (tmp_path / native_build.MANIFEST).write_text(json.dumps(manifest))
    return tmp_path


def test_a_build_matching_every_source_is_used(tmp_path: Path) -> None:
    build = _build(tmp_path, {"domain.data.cid": "data/cid.py", "domain.repo.car": "repo/car.py"})
    assert fresh_binaries(build) == {
        "domain.data.cid": build / "domain.data.cid.so",
        "domain.repo.car": build / "domain.repo.car.so",
    }


def test_one_edited_source_keeps_the_whole_build_out(tmp_path: Path) -> None:
    build = _build(tmp_path, {"domain.data.cid": "data/cid.py", "domain.repo.car": "repo/car.py"})
    manifest = json.loads((build / native_build.MANIFEST).read_text())
    manifest["modules"]["domain.repo.car"]["sha256"] = "0" * 64  # as if car.py changed since
    (build / native_build.MANIFEST).write_text(json.dumps(manifest))
    assert fresh_binaries(build) is None


@pytest.mark.parametrize(
    "change",
    [
        {"cache_tag": "cpython-399"},
        {"source_root": "/elsewhere/domain"},
    ],
)
def test_a_build_for_another_python_or_checkout_is_not_used(
    tmp_path: Path, change: dict[str, str]
) -> None:
    build = _build(tmp_path, {"domain.data.cid": "data/cid.py"})
    manifest = json.loads((build / native_build.MANIFEST).read_text())
    (build / native_build.MANIFEST).write_text(json.dumps(manifest | change))
    assert fresh_binaries(build) is None


def test_a_missing_binary_or_manifest_means_no_build(tmp_path: Path) -> None:
    assert fresh_binaries(tmp_path) is None
    build = _build(tmp_path, {"domain.data.cid": "data/cid.py"})
    (build / "domain.data.cid.so").unlink()
    assert fresh_binaries(build) is None


@pytest.mark.parametrize(
    "manifest",
    ["[]", "{", json.dumps({"cache_tag": sys.implementation.cache_tag}), '{"modules": 3}'],
)
def test_a_damaged_manifest_means_no_build(tmp_path: Path, manifest: str) -> None:
    (tmp_path / native_build.MANIFEST).write_text(manifest)
    assert fresh_binaries(tmp_path) is None


def test_a_manifest_entry_missing_a_field_means_no_build(tmp_path: Path) -> None:
    build = _build(tmp_path, {"domain.data.cid": "data/cid.py"})
    manifest = json.loads((build / native_build.MANIFEST).read_text())
    del manifest["modules"]["domain.data.cid"]["sha256"]
    (build / native_build.MANIFEST).write_text(json.dumps(manifest))
    assert fresh_binaries(build) is None


@pytest.mark.skipif(os.environ.get("CI") != "true", reason="a developer may not have built it")
def test_under_ci_the_run_is_the_kind_it_claims() -> None:
    modules = (domain.data.dag_cbor, domain.repo.mst)
    if PURE:
        assert not any(in_use(module) for module in modules)
    else:
        assert all(in_use(module) for module in modules), "make builds the domain with mypyc"
