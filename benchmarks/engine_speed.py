"""The forecast and the supply LPs on one engine against the local engine, in the same run.

N series of a generated demo company are forecast and a synthetic network of M nodes is
planned twice: first on the local engine (this machine's process pool, the baseline), then on
the engine asked for. Printed per stage: seconds, series (or nodes) per second, the overhead
against local, whether the numbers are the same (to 1e-9), peak memory, and the cores a
100,000- and a 1,000,000-series cycle would need to finish the two stages in an hour at the
per-series cost measured here (core-seconds per series x series / 3,600).

    .venv/bin/python benchmarks/engine_speed.py --engine dask --series 2000
    .venv/bin/python benchmarks/engine_speed.py --engine spark --series 2000
    .venv/bin/python benchmarks/engine_speed.py --engine spark --standalone --series 500
    .venv/bin/python benchmarks/engine_speed.py --engine spark --connect --series 500

--standalone starts a Spark standalone master and one worker on this machine (spark-class,
bound to 127.0.0.1) and runs on spark://127.0.0.1:PORT, so the cluster path is exercised, not
only local mode; --connect starts a Spark Connect server (the protocol of Databricks and of
Spark 4 clusters) and runs on sc://127.0.0.1:PORT. What was started is stopped at the end.
Without either, Spark runs in local mode (SOP_SPARK_MASTER or local[*]) and Dask on a
LocalCluster (or SOP_DASK_SCHEDULER).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
from forecast_speed import TreeMemory, company_history
from supply_speed import synthetic_company

from sop_pipeline.demand.forecast import ForecastSettings, forecast_demand
from sop_pipeline.engine import ENGINES, Engine, close_engines
from sop_pipeline.supply.plan import SupplySettings, plan_supply

HOUR = 3600.0
PROJECTED_SERIES = (100_000, 1_000_000)
SPARK_START_SECONDS = 60


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if (args.standalone or args.connect) and (args.engine != "spark" or
                                              args.standalone == args.connect):
        parser.error("--standalone or --connect: one of them, with --engine spark")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    cores = os.cpu_count() or 1
    started = time.perf_counter()
    history = company_history(args.series)
    network = synthetic_company(args.nodes, 18, 5)
    print(f"{args.series} series ({len(history):,} history rows), {args.nodes} LP nodes; "
          f"cpu count {cores}; data in {time.perf_counter() - started:.1f} s")
    with _spark_here(args) as master:
        engine = Engine.from_env(args.engine, master or "")
        print(f"engine: {engine.describe()} against local ({cores} processes)")
        rows = []
        with TreeMemory() as memory:
            local = _stages(Engine(), history, network, cores)
            on_engine = _stages(engine, history, network, cores)
        for stage, unit, size in (("forecast", "series", args.series),
                                  ("supply_lp", "nodes", args.nodes)):
            base, seconds = local[stage][0], on_engine[stage][0]
            same = _same(local[stage][1], on_engine[stage][1])
            rows.append((stage, unit, size, base, seconds, same))
        close_engines()
    _print_table(engine, rows)
    print(f"peak memory: this process {_peak_mib():.0f} MiB (ru_maxrss); this process and "
          f"its children (JVM, workers) sampled together {memory.peak_mib:.0f} MiB")
    _print_projection(engine, rows, cores)
    return 0


def _stages(engine: Engine, history: pd.DataFrame, network, cores: int
            ) -> dict[str, tuple[float, object]]:
    """(seconds, output) of the forecast and the supply plan on the engine. The engine is
    warmed up first (session or cluster started), so its start is not counted per stage."""
    if engine.distributed:
        started = time.perf_counter()
        engine.slots(cores)
        print(f"{engine.name}: started in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    forecast, accuracy = forecast_demand(history, ForecastSettings(workers=cores,
                                                                   engine=engine))
    forecast_seconds = time.perf_counter() - started
    started = time.perf_counter()
    plan = plan_supply(network, SupplySettings(engine=engine))
    plan_seconds = time.perf_counter() - started
    return {"forecast": (forecast_seconds, (forecast, accuracy)),
            "supply_lp": (plan_seconds, (plan.plan,))}


def _same(expected: tuple[pd.DataFrame, ...], got: tuple[pd.DataFrame, ...]) -> bool:
    for left, right in zip(expected, got, strict=True):
        keys = [c for c in ("unique_id", "sku", "location_id", "model", "ds", "month")
                if c in left.columns]
        left, right = (frame.sort_values(keys, ignore_index=True) for frame in (left, right))
        numbers = left.select_dtypes("number").columns
        if len(left) != len(right) or not (left[keys] == right[keys]).all().all():
            return False
        if not np.allclose(left[numbers], right[numbers], rtol=0, atol=1e-9, equal_nan=True):
            return False
    return True


def _print_table(engine: Engine, rows: list[tuple]) -> None:
    print(f"\n{'stage':<10} {'size':>8} {'local s':>9} {engine.name + ' s':>9} "
          f"{'per s local':>12} {'per s ' + engine.name:>13} {'overhead':>9} {'same':>5}")
    for stage, unit, size, base, seconds, same in rows:
        print(f"{stage:<10} {size:>8} {base:>9.1f} {seconds:>9.1f} {size / base:>12.1f} "
              f"{size / seconds:>13.1f} {seconds / base:>8.2f}x {'yes' if same else 'NO':>5}"
              f"  ({unit})")


def _print_projection(engine: Engine, rows: list[tuple], cores: int) -> None:
    """Cores for the forecast + LP of 100k and 1M series in an hour, at this run's cost."""
    for name, column in (("local", 3), (engine.name, 4)):
        per_series = sum(row[column] * cores / row[2] for row in rows)  # core-seconds
        need = ", ".join(f"{series:,} series: {series * per_series / HOUR:.0f} cores"
                         for series in PROJECTED_SERIES)
        print(f"projection at {name}'s cost ({per_series * 1000:.1f} core-ms per series and "
              f"node, forecast + LP, on {cores} cores): to finish within an hour, {need}")


@contextlib.contextmanager
def _spark_here(args: argparse.Namespace) -> Iterator[str | None]:
    """A Spark standalone master and one worker, or a Spark Connect server, on 127.0.0.1
    (spark-class): its address; or nothing (None)."""
    if not (args.standalone or args.connect):
        yield None
        return
    import pyspark

    home = Path(pyspark.__file__).parent
    spark_class = str(home / "bin" / "spark-class")
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1",
           "SPARK_NO_DAEMONIZE": "1", "PYSPARK_PYTHON": sys.executable}
    port, cores = _free_port(), str(os.cpu_count() or 1)
    if args.connect:  # the server runs the Python tasks with this interpreter
        address, commands = f"sc://127.0.0.1:{port}", [[
            spark_class, "org.apache.spark.deploy.SparkSubmit", "--class",
            "org.apache.spark.sql.connect.service.SparkConnectServer", "--master",
            f"local[{cores}]", "--conf", "spark.ui.enabled=false",
            "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
            "--conf", f"spark.connect.grpc.binding.port={port}"]]
    else:
        address = f"spark://127.0.0.1:{port}"
        commands = [[spark_class, "org.apache.spark.deploy.master.Master", "--host",
                     "127.0.0.1", "--port", str(port), "--webui-port", str(_free_port())],
                    [spark_class, "org.apache.spark.deploy.worker.Worker", address, "--host",
                     "127.0.0.1", "--cores", cores, "--memory", "2g",
                     "--webui-port", str(_free_port())]]
    processes = []
    try:
        for command in commands:
            processes.append(subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL))
            if len(processes) == 1:
                _wait_for_port(port)
        print(f"{'Spark Connect server' if args.connect else 'standalone Spark: master'} "
              f"{address}{'' if args.connect else ', one worker'} (pids "
              f"{', '.join(str(p.pid) for p in processes)})")
        yield address
    finally:
        close_engines()
        for process in reversed(processes):
            process.terminate()
            process.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(port: int) -> None:
    deadline = time.monotonic() + SPARK_START_SECONDS
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise RuntimeError(f"Spark did not listen on 127.0.0.1:{port} within "
                       f"{SPARK_START_SECONDS} s")


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=ENGINES, required=True)
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--nodes", type=int, default=2000, help="supply LP nodes")
    parser.add_argument("--standalone", action="store_true",
                        help="Spark only: start a standalone master and worker on 127.0.0.1")
    parser.add_argument("--connect", action="store_true",
                        help="Spark only: start a Spark Connect server on 127.0.0.1")
    return parser


if __name__ == "__main__":
    sys.exit(main())
