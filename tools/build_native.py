"""Compile the domain modules with mypyc into the virtualenv (ADR 0018); `make` runs this.

The build goes to `<venv>/quire-native` (or `--out`), never beside the sources, with a
manifest of the SHA-256 of every source it compiled: `domain/native_build.py` loads it only
while every one of them still matches, so an edited module never runs as its stale build.

Run: `.venv/bin/python tools/build_native.py [--out DIR]`
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = ROOT / "domain"
EXCLUDED = {
    # imported by `domain/__init__.py` to install the build, so it always runs from source
    "native_build.py",
}
EXCLUDED_PACKAGES = (
    # mypyc's dataclasses take a `ClassVar` with a default for a field (the operations' TYPE),
    # and check a TypeVar constrained to the three operation types as their union; PLC
    # operations are not on the hot paths
    "plc/",
)


def sources() -> list[Path]:
    """Every domain module mypyc compiles: all but package `__init__`s and `EXCLUDED`."""
    return sorted(
        path
        for path in DOMAIN.rglob("*.py")
        if path.name != "__init__.py"
        and path.relative_to(DOMAIN).as_posix() not in EXCLUDED
        and not path.relative_to(DOMAIN).as_posix().startswith(EXCLUDED_PACKAGES)
    )


def _module_name(source: Path) -> str:
    return ".".join(source.relative_to(ROOT).with_suffix("").parts)


def _digest(path: Path) -> str:
    """The loader's own digest, so the manifest and the check cannot disagree. `domain` is
    imported from source: the build being replaced must not load into this process."""
    os.environ["QUIRE_PURE"] = "1"
    sys.path.insert(0, str(ROOT))
    from domain.native_build import source_digest

    return source_digest(path)


def build(out: Path) -> int:
    """Compile into a scratch directory, then replace `out` with it; how many modules."""
    from mypyc.build import mypycify
    from setuptools import setup

    modules = sources()
    digests = {source: _digest(source) for source in modules}
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="quire-native-") as work:
        staging = Path(work) / "lib"
        cwd = Path.cwd()
        os.chdir(ROOT)  # mypyc names modules after their paths relative to here
        try:
            extensions = mypycify(
                [str(source.relative_to(ROOT)) for source in modules],
                opt_level="3",
                target_dir=str(Path(work) / "c"),
            )
            setup(
                name="quire-native",
                ext_modules=extensions,
                script_args=[
                    "-q",
                    "build_ext",
                    "--build-lib",
                    str(staging),
                    "--build-temp",
                    str(Path(work) / "temp"),
                ],
            )
        finally:
            os.chdir(cwd)
        entries = {}
        for source in modules:
            if _digest(source) != digests[source]:
                raise SystemExit(f"{source} changed while it was compiled; run again")
            name = _module_name(source)
            binaries = list(staging.joinpath(*name.split(".")[:-1]).glob(f"{source.stem}.*.so"))
            if len(binaries) != 1:
                raise SystemExit(f"no single compiled extension for {name}: {binaries}")
            entries[name] = {
                "source": source.relative_to(DOMAIN).as_posix(),
                "sha256": digests[source],
                "binary": binaries[0].relative_to(staging).as_posix(),
            }
        manifest = {
            "cache_tag": sys.implementation.cache_tag,
            "source_root": str(DOMAIN.resolve()),
            "modules": entries,
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))
        if out.exists():
            shutil.rmtree(out)
        shutil.move(str(staging), out)
    return len(entries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path(sys.prefix) / "quire-native")
    args = parser.parse_args()
    count = build(args.out)
    print(f"compiled {count} domain modules into {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
