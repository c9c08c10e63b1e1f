"""The library's layout rules: one package per S&OP stage, no Dagster in the domain code, one
month helper, modules a reader can hold in mind."""

import re
from pathlib import Path

LIBRARY = Path(__file__).resolve().parents[1] / "sop_pipeline"
STAGES = ("ingest", "demand", "supply", "review", "report", "demo")
MAX_MODULE_LINES = 400
# The command line runs cycles through the Dagster jobs: the one documented exception.
DAGSTER_EXCEPTIONS = {"cli.py"}


def _modules() -> list[Path]:
    return sorted(LIBRARY.rglob("*.py"))


def test_every_stage_is_a_package_and_nothing_else_sits_at_the_top():
    for stage in STAGES:
        assert (LIBRARY / stage / "__init__.py").exists(), stage
    top = {path.name for path in LIBRARY.glob("*.py")}
    # shared by every stage: months, the warehouse I/O, one run at a time on it, how a check
    # rule names its rows, SQL quoting, and the engine the forecast and the supply LPs fan
    # out on
    assert top == {"__init__.py", "checks.py", "cli.py", "cycle.py", "engine.py", "runs.py",
                   "sql.py", "warehouse.py"}
    # the output-table declarations: one package beside the stages, read by all of them
    packages = {path.parent.name for path in LIBRARY.glob("*/__init__.py")}
    assert packages == {*STAGES, "tables"}


def test_the_domain_library_imports_no_dagster():
    pattern = re.compile(r"^\s*(from|import)\s+(dagster\w*|assets)\b", re.MULTILINE)
    offenders = [str(path.relative_to(LIBRARY)) for path in _modules()
                 if path.name not in DAGSTER_EXCEPTIONS and pattern.search(path.read_text())]
    assert offenders == []


def test_month_starts_are_computed_in_cycle_py_only():
    pattern = re.compile(r'to_period\(\s*"M"\s*\)|def _?month_starts?\b')
    offenders = [str(path.relative_to(LIBRARY)) for path in _modules()
                 if path.name != "cycle.py" and pattern.search(path.read_text())]
    assert offenders == []


def test_no_module_is_longer_than_a_reader_can_hold():
    long = {str(path.relative_to(LIBRARY)): lines for path in _modules()
            if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES}
    assert long == {}
