"""What the benchmark smoke tests share: importing a script, reading its table rows, and the
rule for data that is absent (a skip on a user's clone, a failure in CI)."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
FIGURE = r"(\d+\.\d+)"


def script(name: str):
    """A benchmark script imported as a module (benchmarks/ is not a package)."""
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    return importlib.import_module(name)


def row(output: str, label: str) -> list[str]:
    """The fields of the table row that starts with `label`."""
    for line in output.splitlines():
        fields = line.split()
        if fields and fields[0] == label:
            return fields
    raise AssertionError(f"no row {label!r} in:\n{output}")


def require_data(present: bool, reason: str) -> None:
    """Skip when a data set of ../shared is absent, but fail in CI, which must have it."""
    if present:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}: CI must have it")
    pytest.skip(reason)
