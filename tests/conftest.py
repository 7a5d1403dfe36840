"""Shared test configuration: vector locations and hypothesis profiles."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

VECTORS = Path(__file__).parent / "vectors"
INTEROP = VECTORS / "atproto-interop-tests"

settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "dev", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

# Every server a test starts (in process or as a `quire` subprocess) checks each JSON response
# against its lexicon output: a response that does not match fails its test with a 500.
os.environ.setdefault("QUIRE_VALIDATE_OUTPUT", "1")


_VECTOR_MODULES: dict[str, bool] = {}
_vector_results = {"passed": 0, "failed": 0}


def _reads_vectors(item: pytest.Item) -> bool:
    path = str(item.path)
    if path not in _VECTOR_MODULES:
        _VECTOR_MODULES[path] = "vectors" in item.path.read_text()
    return _VECTOR_MODULES[path]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every parametrized case of a module that reads tests/vectors as a vector case."""
    for item in items:
        if hasattr(item, "callspec") and _reads_vectors(item):
            item.add_marker("vector_case")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "vector_case: one case from the interop test vectors")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and "vector_case" in report.keywords:
        _vector_results["passed" if report.passed else "failed"] += 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print how many interop vector cases ran, so the count is visible in every run."""
    terminalreporter.write_line(
        f"interop vector cases: {_vector_results['passed']} passed, "
        f"{_vector_results['failed']} failed"
    )
