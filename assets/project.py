"""The dbt project, with its manifest prepared wherever the code location loads."""

import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

DBT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"
# The dbt beside this interpreter: the venv's bin need not be on PATH (`.venv/bin/sop`).
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")

dbt_project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)


def _manifest_is_stale() -> bool:
    manifest = dbt_project.manifest_path
    if not manifest.exists():
        return True
    sources = [p for p in DBT_DIR.rglob("*") if p.suffix in {".sql", ".yml"}
               and "target" not in p.parts and "logs" not in p.parts]
    return any(p.stat().st_mtime > manifest.stat().st_mtime for p in sources)


# `prepare_if_dev` only acts under `dagster dev`; `sop run`, tests and CI load the code location
# too, so parse the project whenever the manifest is missing or older than the models.
if _manifest_is_stale():
    subprocess.run(
        [DBT_EXECUTABLE, "parse", "--quiet", "--project-dir", str(DBT_DIR),
         "--profiles-dir", str(DBT_DIR)],
        check=True, cwd=DBT_DIR,
    )
