"""Where the CPU-bound work of a cycle runs: the local process pool, Spark or Dask.

The forecast (batches of series) and the supply plan (independent linear programs) hand
`run_tasks` a pure function and its tasks; each task is one call `fn(*args)`, pandas or numpy
in and out, and runs unchanged on every engine:

- local: in this process (workers = 1) or a spawn process pool, as before the engines existed;
- spark: one group per task through `groupBy("task").applyInPandas`: the task travels as a
  pickled payload in an Arrow column and its result comes back the same way. SOP_SPARK_MASTER
  (default local[*]) is a master URL, `spark://host:port`, or a Spark Connect `sc://` address;
- dask: `client.submit` per task on the distributed scheduler SOP_DASK_SCHEDULER, or on a
  `distributed.LocalCluster` (one single-threaded worker process per core) started for the run.

DuckDB, dbt and everything else stay in this process. A task that fails raises TaskFailed
naming what it worked on (its label: the series, the nodes); a worker killed mid-task does
the same once the engine gives up retrying it. One task runs one model at a time: no thread
pool inside a task (Spark runs one Python task per core, the LocalCluster one thread per
worker).
"""

from __future__ import annotations

import atexit
import os
import pickle
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pandas as pd

ENGINES = ("local", "spark", "dask")
ENGINE_ENV, SPARK_MASTER_ENV, DASK_SCHEDULER_ENV = "SOP_ENGINE", "SOP_SPARK_MASTER", \
    "SOP_DASK_SCHEDULER"
DEFAULT_SPARK_MASTER = "local[*]"
LOCAL_CLUSTER = "LocalCluster"  # the address shown when Dask runs on a cluster of its own
LOOPBACK = "127.0.0.1"
LABEL_SERIES = 3  # a task's label names this many of its series (or nodes), then a count
# The Spark driver's own log (log4j2) while the session starts: warnings, to stderr, without
# the native-hadoop warning every start gives; at WARN, the shell's default level, Spark does
# not announce a "default log level" either. Once started, the session logs errors only
# (setLogLevel). The JVM's own "Using incubator modules" line is not a log line: it stays.
SPARK_LOG4J2 = """\
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = stderr
logger.hadoop.name = org.apache.hadoop.util.NativeCodeLoader
logger.hadoop.level = error
appender.stderr.type = Console
appender.stderr.name = stderr
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = %d{HH:mm:ss} spark %p %c{1}: %m%n%ex
"""
# The sessions and clients this process started, by address; closed at exit.
_SPARK: dict[str, Any] = {}
_DASK: dict[str, Any] = {}


class TaskFailed(RuntimeError):
    """A task of the engine failed: the message names the engine and what the task held."""


@dataclass(frozen=True)
class Engine:
    """Which engine runs the tasks, and its address ("" = the default: local[*] for Spark, a
    LocalCluster for Dask). Frozen and small: settings that carry it travel to the tasks."""

    name: str = "local"
    address: str = ""

    def __post_init__(self) -> None:
        if self.name not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, got {self.name!r}")

    @classmethod
    def from_env(cls, name: str = "", address: str = "") -> Engine:
        """The engine named (else SOP_ENGINE, else local) at the address given (else
        SOP_SPARK_MASTER or SOP_DASK_SCHEDULER, else the default)."""
        name = (name or os.environ.get(ENGINE_ENV, "") or "local").strip().lower()
        env = {"spark": SPARK_MASTER_ENV, "dask": DASK_SCHEDULER_ENV}.get(name)
        return cls(name, address or (os.environ.get(env, "") if env else ""))

    @property
    def distributed(self) -> bool:
        return self.name != "local"

    def where(self) -> str:
        """The address the tasks go to, as shown in run metadata and the CLI."""
        if self.name == "spark":
            return self.address or DEFAULT_SPARK_MASTER
        if self.name == "dask":
            return self.address or LOCAL_CLUSTER
        return "this machine's process pool"

    def describe(self) -> str:
        return f"{self.name} ({self.where()})"

    def slots(self, workers: int = 1) -> int:
        """Tasks the engine runs at once: workers locally, the cluster's cores otherwise."""
        if self.name == "spark":
            session = spark_session(self.address)
            try:
                return max(1, int(session.sparkContext.defaultParallelism))
            except Exception:  # Spark Connect has no SparkContext
                return max(1, workers)
        if self.name == "dask":
            return max(1, sum(dask_client(self.address).nthreads().values()))
        return max(1, workers)


@dataclass(frozen=True)
class Task:
    """One call of the task function: its arguments, what it works on (named when it
    fails) and its size (series or nodes, for progress)."""

    label: str
    args: tuple
    size: int = 1


def label_of(kind: str, names: Sequence[str]) -> str:
    """"3 series: A|L1, B|L1, C|L1" or "250 series: A|L1, B|L1, C|L1, ..."."""
    shown = ", ".join(str(name) for name in names[:LABEL_SERIES])
    return f"{len(names)} {kind}: {shown}{', ...' if len(names) > LABEL_SERIES else ''}"


def run_tasks(engine: Engine, fn: Callable[..., Any], tasks: Sequence[Task], workers: int = 1
              ) -> Iterator[tuple[Task, Any]]:
    """Yield (task, fn(*task.args)) for every task, as they finish, on the engine (workers:
    processes of the local engine; 1 = in this process)."""
    if not tasks:
        return iter(())
    if engine.name == "spark":
        return _on_spark(engine, fn, tasks)
    if engine.name == "dask":
        return _on_dask(engine, fn, tasks)
    return _on_local(fn, tasks, workers)


def _on_local(fn: Callable[..., Any], tasks: Sequence[Task], workers: int
              ) -> Iterator[tuple[Task, Any]]:
    if workers <= 1 or len(tasks) == 1:
        for task in tasks:
            yield task, _called(Engine(), fn, task)
        return
    # spawn: workers start clean (no forked threads or locks from Dagster or cmdstanpy).
    with ProcessPoolExecutor(min(workers, len(tasks)), mp_context=get_context("spawn")) as pool:
        futures = {pool.submit(fn, *task.args): task for task in tasks}
        for future in as_completed(futures):
            task = futures[future]
            yield task, _result(Engine(), task, future.result)


def _called(engine: Engine, fn: Callable[..., Any], task: Task) -> Any:
    return _result(engine, task, lambda: fn(*task.args))


def _result(engine: Engine, task: Task, get: Callable[[], Any]) -> Any:
    try:
        return get()
    except TaskFailed:
        raise
    except Exception as exc:
        raise TaskFailed(f"{engine.describe()}: the task on {task.label} failed: "
                         f"{type(exc).__name__}: {exc}") from exc


# --- Spark ---------------------------------------------------------------------------------


def _on_spark(engine: Engine, fn: Callable[..., Any], tasks: Sequence[Task]
              ) -> Iterator[tuple[Task, Any]]:
    """One applyInPandas group per task; the results come back when the job ends."""
    session = spark_session(engine.address)
    payloads = pd.DataFrame({"task": range(len(tasks)),
                             "payload": [pickle.dumps((fn, task.args)) for task in tasks]})
    # one shuffle partition per task, kept apart: adaptive execution would merge the small
    # payload partitions into one and run the tasks one after another
    session.conf.set("spark.sql.shuffle.partitions", str(len(tasks)))
    session.conf.set("spark.sql.adaptive.coalescePartitions.enabled", "false")
    frame = session.createDataFrame(payloads, "task long, payload binary")
    try:
        rows = (frame.groupBy("task")
                .applyInPandas(_spark_group, "task long, result binary, error string")
                .toPandas())
    except Exception as exc:  # a worker lost, or the job cancelled: name what was running
        raise TaskFailed(f"{engine.describe()}: the job over {len(tasks)} task(s) failed "
                         f"({label_of('tasks', [t.label for t in tasks])}): "
                         f"{_first_line(exc)}") from exc
    for position, result, error in rows.sort_values("task").itertuples(index=False):
        task = tasks[int(position)]
        if isinstance(error, str):
            raise TaskFailed(f"{engine.describe()}: the task on {task.label} failed: {error}")
        yield task, pickle.loads(result)


def _spark_group(group: pd.DataFrame) -> pd.DataFrame:
    """The task of one group, run on a Spark Python worker: its result or its error."""
    fn, args = pickle.loads(group["payload"].iloc[0])
    result, error = None, None
    try:
        result = pickle.dumps(fn(*args))
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    return pd.DataFrame({"task": [int(group["task"].iloc[0])], "result": [result],
                         "error": [error]})


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def spark_session(address: str = ""):
    """The Spark session of this process: one already active (a Databricks notebook),
    else one built for the master (local[*] by default) or Spark Connect address."""
    if address in _SPARK:
        return _SPARK[address]
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None and not address:
        return active
    master = address or DEFAULT_SPARK_MASTER
    if master.startswith("sc://"):
        _SPARK[address] = SparkSession.builder.remote(master).appName("sop-pipeline").create()
        return _SPARK[address]
    # the Python workers run this interpreter, where sop_pipeline is installed
    os.environ["PYSPARK_PYTHON"] = os.environ.get("PYSPARK_PYTHON") or sys.executable
    log_config = Path(tempfile.gettempdir()) / "sop-pipeline-spark-log4j2.properties"
    log_config.write_text(SPARK_LOG4J2)
    builder = (SparkSession.builder.master(master).appName("sop-pipeline")
               .config("spark.driver.extraJavaOptions",
                       f"-Dlog4j2.configurationFile=file:{log_config}")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.execution.pyspark.udf.faulthandler.enabled", "true"))
    if _on_loopback(master):  # listen on loopback only when the cluster is this machine
        builder = (builder.config("spark.driver.host", LOOPBACK)
                   .config("spark.driver.bindAddress", LOOPBACK))
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    _SPARK[address] = session
    return session


def _on_loopback(master: str) -> bool:
    if master.startswith("local"):
        return True
    return urlparse(master).hostname in (LOOPBACK, "localhost")


# --- Dask ----------------------------------------------------------------------------------


def _on_dask(engine: Engine, fn: Callable[..., Any], tasks: Sequence[Task]
             ) -> Iterator[tuple[Task, Any]]:
    """One future per task, collected as they finish; a failure cancels the rest."""
    from distributed import as_completed as completed

    client = dask_client(engine.address)
    futures = {client.submit(fn, *task.args, pure=False): task for task in tasks}
    try:
        for future in completed(futures):
            task = futures[future]
            yield task, _result(engine, task, future.result)
    finally:
        client.cancel(list(futures))


def dask_client(address: str = ""):
    """A client of the scheduler at address, or of a LocalCluster started for this process:
    one single-threaded worker process per core, listening on loopback, no dashboard."""
    if address not in _DASK:
        from distributed import Client, LocalCluster

        _DASK[address] = Client(address) if address else Client(LocalCluster(
            n_workers=os.cpu_count() or 1, threads_per_worker=1, processes=True,
            host=LOOPBACK, dashboard_address=None))
    return _DASK[address]


def close_engines() -> None:
    """Stop the Spark sessions and Dask clients (and LocalCluster) this process started."""
    for session in _SPARK.values():
        session.stop()
    _SPARK.clear()
    for client in _DASK.values():
        cluster = client.cluster
        client.close()
        if cluster is not None:
            cluster.close()
    _DASK.clear()


atexit.register(close_engines)
