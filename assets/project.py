"""The dbt project, and its manifest: prepared by an explicit call, not on import.

`prepare_dbt_project()` (or `python -m assets.project`, which `make prepare` runs) parses the
project when the manifest is missing or older than a model; `sop run` and the tests call it
before they import `assets.dbt`, whose `@dbt_assets` reads the manifest at import time.
Under `dagster dev` the same check runs on every code location load, so model edits show on
reload (dagster-dbt's own `prepare_if_dev` would look for `dbt` on PATH, not in the venv).

dbt partial-parses only while the rendered profile, the DuckDB path included, is the one its
saved parse state was made with: each warehouse keeps the state of its last build
(`partial_parse_state`), so a second run on it re-parses only the files that changed.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from sop_pipeline import warehouse

DBT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"
# The dbt beside this interpreter: the venv's bin need not be on PATH (`.venv/bin/sop`).
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")
PREPARE_COMMAND = "make prepare (or: .venv/bin/python -m assets.project)"

PARTIAL_PARSE_FILE = "partial_parse.msgpack"
# dagster-dbt gives every build a target folder of its own (logs, run results, compiled SQL,
# ~6 MB on the demo company); the newest are kept for reading, older ones removed.
KEPT_DBT_INVOCATIONS = 5

dbt_project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)


def prepare_dbt_project() -> None:
    """Run `dbt parse` when the manifest is missing or older than a dbt source file."""
    if _manifest_is_stale():
        subprocess.run(
            [DBT_EXECUTABLE, "parse", "--quiet", "--project-dir", str(DBT_DIR),
             "--profiles-dir", str(DBT_DIR)],
            check=True, cwd=DBT_DIR,
        )


def dbt_duckdb_path(warehouse_dir: Path | str) -> str:
    """SOP_DUCKDB_PATH for dbt: absolute, so one warehouse always renders the same profile."""
    return str(warehouse.database_path(Path(warehouse_dir).resolve()))


def partial_parse_state(warehouse_dir: Path | str) -> Path:
    """dbt's parse state for builds on this warehouse (a state made with another DuckDB path
    would make dbt re-parse the whole project)."""
    return Path(warehouse_dir).resolve() / f"dbt_{PARTIAL_PARSE_FILE}"


def keep_partial_parse(invocation_target: Path, state: Path) -> None:
    """Save the parse state a dbt invocation wrote in its own target folder as `state`."""
    written = Path(invocation_target) / PARTIAL_PARSE_FILE
    if written.exists() and state.parent.is_dir():
        staged = state.with_suffix(f".{os.getpid()}.tmp")
        shutil.copyfile(written, staged)
        staged.replace(state)  # atomic: a build starting now reads the old or the new state


def prune_invocations(invocation_target: Path, keep: int = KEPT_DBT_INVOCATIONS) -> None:
    """Remove the target folders of this asset's older dbt invocations, keeping `keep` in
    all: `invocation_target` itself and the `keep - 1` newest others (by modification time)."""
    invocation_target = Path(invocation_target)
    prefix = invocation_target.name.rsplit("-", 2)[0] + "-"  # <op>-<run id>-<step>
    folders = sorted((f for f in invocation_target.parent.glob(f"{prefix}*")
                      if f.is_dir() and f != invocation_target),
                     key=lambda f: f.stat().st_mtime, reverse=True)
    for folder in folders[max(keep - 1, 0):]:
        shutil.rmtree(folder, ignore_errors=True)  # a reader of an old one loses nothing else


def manifest_path() -> Path:
    """The prepared manifest; when there is none, say what prepares it."""
    if not dbt_project.manifest_path.exists():
        raise FileNotFoundError(
            f"No dbt manifest at {dbt_project.manifest_path}: the dbt project is not prepared. "
            f"Run {PREPARE_COMMAND}."
        )
    return dbt_project.manifest_path


def _manifest_is_stale() -> bool:
    manifest = dbt_project.manifest_path
    if not manifest.exists():
        return True
    sources = [p for p in DBT_DIR.rglob("*") if p.suffix in {".sql", ".yml"}
               and not {"target", "logs"} & set(p.relative_to(DBT_DIR).parts)]
    return any(p.stat().st_mtime > manifest.stat().st_mtime for p in sources)


if dbt_project.preparer.using_dagster_dev():
    prepare_dbt_project()

if __name__ == "__main__":
    prepare_dbt_project()
