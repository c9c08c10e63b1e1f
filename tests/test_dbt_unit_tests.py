"""The dbt unit tests (staging and marts), on a small landed warehouse, without a whole cycle.

The cycle tests run them too, inside the Dagster `dbt build`; this runs only them and the
models they read, built empty (`--empty`): a unit test needs its inputs' relations to exist.
"""

import os
import subprocess

import duckdb

from assets.project import DBT_DIR, DBT_EXECUTABLE
from sop_pipeline.ingest.landing import land_extracts
from tests.extracts import write_extracts


def test_dbt_unit_tests_pass(tmp_path):
    database = tmp_path / "sop.duckdb"
    with duckdb.connect(str(database)) as con:
        land_extracts(con, write_extracts(tmp_path / "extracts"))
    done = subprocess.run(
        [DBT_EXECUTABLE, "build", "--select", "+test_type:unit", "--resource-type", "model",
         "--resource-type", "unit_test", "--empty", "--project-dir", str(DBT_DIR),
         "--profiles-dir", str(DBT_DIR), "--target-path", str(tmp_path / "target"),
         "--log-path", str(tmp_path / "logs")],
        cwd=DBT_DIR, capture_output=True, text=True, timeout=300,
        env={**os.environ, "SOP_DUCKDB_PATH": str(database)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert " unit tests" in done.stdout and "ERROR=0" in done.stdout, done.stdout
