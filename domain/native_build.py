"""Loading the mypyc-compiled build of the domain modules, only while it matches the sources.

`make` compiles the modules under `domain/` with mypyc into a directory of the virtualenv
(`tools/build_native.py`, ADR 0018), beside a manifest of each source's SHA-256. Importing
`domain` calls `install()`: when the manifest's Python matches this one and every listed
source still hashes as it did, a finder loads those modules from the build; otherwise nothing
changes and every module imports from its `.py`. The check is all or nothing, because compiled
modules call each other directly: one edited source must not run beside its stale build.

`QUIRE_PURE=1` keeps the pure modules (the test suite runs the domain tests both ways).
Standard library only, and no I/O beyond reading the manifest and the sources once.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

MANIFEST = "manifest.json"
DEFAULT_DIR = Path(sys.prefix) / "quire-native"
"""Where `tools/build_native.py` writes the build: inside the virtualenv it was built for."""
DOMAIN = Path(__file__).resolve().parent


def source_digest(path: Path) -> str:
    """The SHA-256 of a source file, as the manifest records it."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


class _BuildFinder(importlib.abc.MetaPathFinder):
    """Finds the compiled extension of each module the build holds."""

    def __init__(self, binaries: dict[str, Path]) -> None:
        self.binaries = binaries

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        binary = self.binaries.get(fullname)
        if binary is None:
            return None
        loader = importlib.machinery.ExtensionFileLoader(fullname, str(binary))
        return importlib.util.spec_from_file_location(fullname, binary, loader=loader)


def fresh_binaries(build_dir: Path) -> dict[str, Path] | None:
    """Module name -> compiled extension, if the build in `build_dir` matches the sources."""
    try:
        manifest = json.loads((build_dir / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if type(manifest) is not dict or manifest.get("cache_tag") != sys.implementation.cache_tag:
        return None
    if manifest.get("source_root") != str(DOMAIN):
        return None
    binaries: dict[str, Path] = {}
    try:
        for name, entry in manifest["modules"].items():
            source = DOMAIN / entry["source"]
            binary = build_dir / entry["binary"]
            if source_digest(source) != entry["sha256"] or not binary.is_file():
                return None
            binaries[name] = binary
    except (OSError, KeyError, TypeError, AttributeError):  # a damaged manifest: no build
        return None
    return binaries or None


def install(build_dir: Path = DEFAULT_DIR) -> bool:
    """Load the compiled modules from now on, if the build is fresh; whether it is used."""
    if os.environ.get("QUIRE_PURE", "") not in ("", "0"):
        return False
    if any(isinstance(finder, _BuildFinder) for finder in sys.meta_path):
        return True
    binaries = fresh_binaries(build_dir)
    if binaries is None:
        return False
    # mypyc puts the group's shared code in one top-level module the extensions import
    sys.path.append(str(build_dir))
    sys.meta_path.insert(0, _BuildFinder(binaries))
    return True


def in_use(module: ModuleType) -> bool:
    """Was `module` loaded from the compiled build?"""
    loader = module.__spec__.loader if module.__spec__ is not None else None
    return isinstance(loader, importlib.machinery.ExtensionFileLoader)
