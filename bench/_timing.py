"""Tiny timing helpers shared by the benchmarks (no pytest-benchmark: one command each)."""

from __future__ import annotations

import time
from collections.abc import Callable


def rate(fn: Callable[[], object], *, min_time: float = 0.5, batch: int = 100) -> float:
    """Calls of `fn` per second, measured for at least `min_time` seconds."""
    fn()
    calls = 0
    start = time.perf_counter()
    while True:
        for _ in range(batch):
            fn()
        calls += batch
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return calls / elapsed


def report(name: str, value: float, unit: str) -> None:
    """Print one `name: value unit` line."""
    if value >= 100:
        print(f"{name}: {value:.0f} {unit}", flush=True)
    else:
        print(f"{name}: {value:.2f} {unit}", flush=True)


def percentile(samples: list[float], p: float) -> float:
    """The p-th percentile (0..100) of `samples`."""
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]
