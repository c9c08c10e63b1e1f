"""The forecast and the supply LPs on Spark (local mode) and Dask (a LocalCluster) give the
local engine's numbers, row for row; a failing or killed task fails the cycle naming what it
held, and the published tables stay as they were.

Spark needs Java: without it the Spark tests skip, unless CI=true (`make java` installs it).
One Spark session and one LocalCluster serve the whole module (sop_pipeline.engine caches
them); both are stopped at its end.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys

import duckdb
import numpy as np
import pandas as pd
import pytest

from sop_pipeline.cli import failure_message, main
from sop_pipeline.cycle import month_label
from sop_pipeline.demand.forecast import ForecastSettings, forecast_demand
from sop_pipeline.engine import Engine, Task, TaskFailed, close_engines, run_tasks
from sop_pipeline.warehouse import database_path
from tests.benchmark_scripts import BENCHMARKS, FIGURE, row, script
from tests.conftest import COMPANY_CYCLES

# The first cycle of the session's shared `company` (tests/conftest.py), run there on the
# local engine: a cycle reads nothing dated from its first day, so later cycles leave its rows.
CYCLE = COMPANY_CYCLES[0]
COMPARED = {  # table -> its key
    "demand_forecast": ["sku", "location_id", "month", "model"],
    "forecast_accuracy": ["sku", "location_id", "model"],
    "supply_plan": ["sku", "location_id", "month"],
}


def _java_or_skip() -> None:
    if shutil.which("java") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but no java on PATH (make java installs openjdk-17-jre-headless)")
        pytest.skip("no java on PATH for Spark (make java installs it); set CI=true to make "
                    "this a failure")


@pytest.fixture(scope="module", autouse=True)
def _spark_settings():
    """Spark sized for a 2-core test machine; the engines stopped after the module."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SPARK_LOCAL_IP", "127.0.0.1")
        patch.setenv("PYSPARK_SUBMIT_ARGS", "--driver-memory 1g pyspark-shell")
        yield
    close_engines()


def _table(warehouse, name: str) -> pd.DataFrame:
    with duckdb.connect(str(database_path(warehouse)), read_only=True) as con:
        frame = con.execute(f"SELECT * FROM main.{name} WHERE cycle_month = ?",
                            [CYCLE.date()]).df()
    return frame.sort_values(COMPARED[name], ignore_index=True)


@pytest.mark.parametrize("engine", ["spark", "dask"])
def test_a_cycle_on_each_engine_gives_the_local_engines_tables(engine, company, tmp_path,
                                                              capfd):
    """`sop run --engine` over one cycle: the same rows as the local engine's, to 1e-9; the
    engine and its address in the CLI's output and the run's metadata and tags; Spark's
    start-up log kept out of the terminal (this is the module's first Spark session)."""
    from dagster import AssetKey, DagsterInstance

    if engine == "spark":
        _java_or_skip()
    extracts, local_warehouse = company
    warehouse, out = tmp_path / "warehouse", io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
        (tmp_path / "home").mkdir()
        with contextlib.redirect_stdout(out):
            code = main(["run", "--extracts", str(extracts), "--warehouse", str(warehouse),
                         "--cycle", month_label(CYCLE), "--engine", engine])
        assert code == 0, out.getvalue()
        with DagsterInstance.get() as instance:
            forecast = instance.get_latest_materialization_event(AssetKey("demand_forecast"))
            plan = instance.get_latest_materialization_event(AssetKey("supply_plan"))
            runs = instance.get_runs()
    for name in COMPARED:
        expected, got = _table(local_warehouse, name), _table(warehouse, name)
        assert len(got) == len(expected) > 0, name
        pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=0, atol=1e-9,
                                      obj=name)
    terminal = capfd.readouterr().err
    for spark_line in ("log4j", "log level", "NativeCodeLoader"):
        assert spark_line not in terminal, terminal
    where = "local[*]" if engine == "spark" else "LocalCluster"
    described = f"{engine} ({where})"
    assert f"engine: {described}" in out.getvalue()
    metadata = forecast.asset_materialization.metadata
    assert (metadata["engine"].value, metadata["engine_address"].value) == (engine, where)
    assert plan.asset_materialization.metadata["lp_engine"].value == described
    assert runs[0].tags["sop/engine"] == described


def _history_with_a_bad_series() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    months = pd.date_range("2022-01-01", periods=48, freq="MS")
    history = pd.concat([pd.DataFrame({"unique_id": f"SKU-{i}|DC1", "ds": months,
                                       "y": rng.poisson(20, len(months)).astype(float)})
                         for i in range(6)], ignore_index=True)
    history.loc[(history["unique_id"] == "SKU-3|DC1") & (history["ds"] == months[40]),
                "y"] = np.inf  # no model can fit it
    return history


@pytest.mark.parametrize("engine", ["local", "spark", "dask"])
def test_a_series_that_cannot_be_forecast_fails_naming_it(engine):
    if engine == "spark":
        _java_or_skip()
    settings = ForecastSettings(models=("seasonal_naive", "auto_ets"), engine=Engine(engine))
    with pytest.raises(TaskFailed) as failed:
        forecast_demand(_history_with_a_bad_series(), settings)
    message = str(failed.value)
    assert message.startswith(f"{engine} (") and "forecast failed for series ['SKU-3|DC1']" \
        in message


@pytest.mark.parametrize("engine", ["spark", "dask"])
def test_a_killed_worker_fails_the_task_naming_its_series(engine):
    if engine == "spark":
        _java_or_skip()
    task = Task("2 series: SKU-1|DC1, SKU-2|DC1", ())
    with pytest.raises(TaskFailed, match=r"2 series: SKU-1\|DC1, SKU-2\|DC1"):
        list(run_tasks(Engine(engine), os.abort, [task]))  # the worker process dies


def test_a_failing_task_fails_the_cycle_and_leaves_the_published_tables(company, tmp_path):
    """A series no model can fit (corrupted in the marts) fails the Dask cycle naming it;
    the published files are byte for byte the earlier ones."""
    from dagster import DagsterInstance

    from assets.definitions import build_defs

    _, local_warehouse = company
    warehouse = tmp_path / "warehouse"
    shutil.copytree(local_warehouse, warehouse)
    published = _fingerprint(warehouse / "published")
    with duckdb.connect(str(database_path(warehouse))) as con:
        # the series with the most demand: regular, so AutoETS is among its models
        sku, location = con.execute("""SELECT sku, location_id FROM marts.fct_monthly_demand
                                       GROUP BY ALL ORDER BY sum(order_qty) DESC
                                       LIMIT 1""").fetchone()
        con.execute("""UPDATE marts.fct_monthly_demand SET order_qty = 'inf'::DOUBLE
                       WHERE sku = ? AND location_id = ? AND month = DATE '2026-04-01'""",
                    [sku, location])
    job = build_defs("", str(warehouse), "dask").resolve_job_def("planning_only")
    result = job.execute_in_process(partition_key=month_label(CYCLE),
                                    instance=DagsterInstance.ephemeral(), raise_on_error=False)
    assert not result.success
    message = failure_message(result)
    assert "[demand_forecast" in message and f"['{sku}|{location}']" in message, message
    assert _fingerprint(warehouse / "published") == published


def _fingerprint(folder) -> dict[str, str]:
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def test_engine_speed_benchmark_prints_the_overhead_and_the_projection(capsys):
    code = script("engine_speed").main(["--engine", "dask", "--series", "6", "--nodes", "12"])
    output = capsys.readouterr().out

    assert code == 0
    assert "engine: dask (LocalCluster) against local" in output
    for stage, size in (("forecast", "6"), ("supply_lp", "12")):
        fields = row(output, stage)
        assert fields[1] == size and fields[7] == "yes", output  # same numbers as local
        assert float(fields[2]) > 0 and float(fields[3]) > 0 and fields[6].endswith("x")
    assert re.search(r"peak memory: this process \d+ MiB .* sampled together [1-9]\d* MiB",
                     output)
    for name in ("local", "dask"):
        assert re.search(rf"projection at {name}'s cost \({FIGURE} core-ms per series and node"
                         rf".*100,000 series: \d+ cores, 1,000,000 series: \d+ cores", output)


def test_engine_speed_on_a_spark_connect_server_gives_the_local_numbers():
    """The Spark Connect path (sc://, as Databricks serves it): the benchmark starts a
    Spark Connect server on 127.0.0.1 and runs both stages on it. A subprocess: a Spark
    Connect session switches pyspark of its whole process to Connect mode."""
    _java_or_skip()
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "engine_speed.py"), "--engine", "spark", "--connect",
         "--series", "6", "--nodes", "12"],
        capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"Spark Connect server sc://127\.0\.0\.1:\d+ \(pids \d+\)", done.stdout)
    assert re.search(r"engine: spark \(sc://127\.0\.0\.1:\d+\) against local", done.stdout)
    for stage in ("forecast", "supply_lp"):
        assert row(done.stdout, stage)[7] == "yes", done.stdout  # the local engine's numbers
