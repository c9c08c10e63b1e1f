"""`sop`: generate a demo company, or run S&OP cycles through Dagster in-process.

The only module of sop_pipeline that imports Dagster (through `assets`), and only when a run
is asked for. `sop run` is quiet: a line per cycle, a bar for the forecast and the time of
every stage; Dagster's events, dbt's output and library warnings go to the run log
(<warehouse>/logs/sop_run.log) and the Dagster instance, or to the terminal with --verbose.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from sop_pipeline import cycle, demo, warehouse
from sop_pipeline.demo import generate_company
from sop_pipeline.engine import ENGINES, Engine, TaskFailed
from sop_pipeline.ingest.landing import first_cycle_supported, last_order_date
from sop_pipeline.report.console import HEARTBEAT_SECONDS, RunConsole
from sop_pipeline.report.text import cycle_report, load_summary
from sop_pipeline.runs import WarehouseBusy, warehouse_lock

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# The logger whose DEBUG records carry the forecast's progress (series_done, series_total).
FORECAST_LOGGER = "sop_pipeline.demand.forecast"
BUSY = 3  # exit code of a run refused because another run holds the warehouse


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv)
    args.command_line = "sop " + " ".join(argv)  # names a run that holds the warehouse
    return args.handler(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sop", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    gen = commands.add_parser("generate", help="write a demo company's extracts")
    gen.add_argument("--out", required=True, type=Path, help="landing folder to write")
    gen.add_argument("--skus", type=int, default=40)
    gen.add_argument("--locations", type=int, default=2)
    gen.add_argument("--years", type=int, default=4)
    gen.add_argument("--seed", type=int, default=demo.DEMO_SEED)
    gen.add_argument("--end-month", help="last month of history, YYYY-MM (default: last month)")
    gen.add_argument("--format", choices=("csv", "parquet"), default="csv")
    gen.add_argument("--no-work-centers", action="store_true",
                     help="a distributor: no work centres, routings or production orders")
    gen.set_defaults(handler=_generate)

    run = commands.add_parser("run", help="run one or more monthly cycles")
    run.add_argument("--extracts", type=Path,
                     help="landing folder (default: $SOP_EXTRACTS_DIR or the demo company)")
    run.add_argument("--warehouse", type=Path,
                     help="folder of the DuckDB file (default: $SOP_WAREHOUSE_DIR or ./warehouse)")
    which = run.add_mutually_exclusive_group()
    which.add_argument("--cycle", help="one cycle, YYYY-MM")
    which.add_argument("--cycles", help="a range of cycles, YYYY-MM..YYYY-MM, run in order")
    which.add_argument("--last", type=int, help="the N cycles up to the latest one")
    run.add_argument("--engine", choices=ENGINES,
                     help="where the forecast and the supply LPs run (default: $SOP_ENGINE or "
                          "local); Spark's master from $SOP_SPARK_MASTER (default local[*]), "
                          "Dask's scheduler from $SOP_DASK_SCHEDULER (default: a LocalCluster)")
    run.add_argument("-v", "--verbose", action="store_true",
                     help="print Dagster's event stream, dbt's output and library warnings "
                          "(otherwise they go to <warehouse>/logs/sop_run.log)")
    run.set_defaults(handler=_run)

    crm = commands.add_parser(
        "demo-crm-server", help="serve a company's CRM as a replay of Pipedrive's API on "
        "127.0.0.1, to see the Pipedrive pull work without an account")
    crm.add_argument("--extracts", type=Path,
                     help="landing folder whose crm/ and erp/items to serve "
                          "(default: $SOP_EXTRACTS_DIR or the demo company)")
    crm.add_argument("--port", type=int, default=8099, help="loopback port (0: any free one)")
    crm.add_argument("--seconds", type=float,
                     help="stop after this many seconds (default: until Ctrl-C)")
    crm.set_defaults(handler=_demo_crm_server)
    return parser


def _generate(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    rows = generate_company(
        args.out, skus=args.skus, locations=args.locations, years=args.years, seed=args.seed,
        end_month=args.end_month, fmt=args.format, work_centers=not args.no_work_centers,
    )
    for entity, count in rows.items():
        print(f"{entity:24} {count:>10,} rows")
    print(f"wrote {args.out} in {time.perf_counter() - started:.1f} s")
    return 0


def _run(args: argparse.Namespace) -> int:
    warehouse_dir = (args.warehouse or warehouse.default_warehouse_dir()).resolve()
    try:  # before anything is generated, landed or written
        with warehouse_lock(warehouse_dir, holder=args.command_line):
            return _run_holding(args, warehouse_dir)
    except WarehouseBusy as exc:
        print(f"sop run: {exc}", file=sys.stderr)
        return BUSY


def _run_holding(args: argparse.Namespace, warehouse_dir: Path) -> int:
    extracts_dir = (args.extracts or demo.default_extracts_dir()).resolve()
    if args.extracts is None and "SOP_EXTRACTS_DIR" not in os.environ:
        if demo.ensure_demo_company(extracts_dir):
            print(f"generated the demo company in {extracts_dir}")
    try:
        cycles = _cycles(args, extracts_dir)
    except ValueError as exc:
        print(f"sop run: {exc}", file=sys.stderr)
        return 2
    console = run_console(args.verbose)
    try:
        engine = Engine.from_env(args.engine or "")
    except ValueError as exc:
        print(f"sop run: {exc}", file=sys.stderr)
        return 2
    print(f"engine: {engine.describe()}", flush=True)
    if not run_cycles(cycles, extracts_dir, warehouse_dir, verbose=args.verbose,
                      console=console, engine=engine):
        return 1
    print(console.stage_times())
    with warehouse.connect(warehouse_dir, read_only=True) as con:
        print(cycle_report(con, warehouse.database_path(warehouse_dir)))
    if not args.verbose:
        print(f"Run log (Dagster events, dbt output, warnings): {run_log_path(warehouse_dir)}")
    return 0


def _demo_crm_server(args: argparse.Namespace) -> int:
    from sop_pipeline.ingest.pipedrive_replay import DEMO_TOKEN, ReplayCrm, serve

    extracts_dir = (args.extracts or demo.default_extracts_dir()).resolve()
    if args.extracts is None and "SOP_EXTRACTS_DIR" not in os.environ:
        demo.ensure_demo_company(extracts_dir)
    crm = ReplayCrm.from_extracts(extracts_dir, token=DEMO_TOKEN)
    server = serve(crm, "127.0.0.1", args.port)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    print(f"Serving the CRM of {extracts_dir} ({len(crm.deals)} deals, "
          f"{len(crm.organizations)} organisations, {len(crm.products)} products) as "
          f"Pipedrive's API v2 on {url}. In another terminal:\n"
          f"  export PIPEDRIVE_BASE_URL={url} PIPEDRIVE_API_TOKEN={DEMO_TOKEN}\n"
          f"  sop run --extracts {extracts_dir}    (or `make ui` and materialize raw_crm/*)",
          flush=True)
    try:
        time.sleep(args.seconds) if args.seconds is not None else threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
    print(f"served {len(crm.requests)} requests", flush=True)
    return 0


def run_cycles(cycles: list[pd.Timestamp], extracts_dir: Path, warehouse_dir: Path,
               verbose: bool = False, console: RunConsole | None = None,
               engine: Engine | None = None) -> bool:
    """Run the cycles in order through the Dagster jobs the UI shows; False when one fails.

    engine: where the forecast and the supply LPs run (default: SOP_ENGINE, else local).

    The first cycle lands the extracts and builds the dbt models; the later ones plan from the
    same marts. With DAGSTER_HOME set, the runs appear in the Dagster UI's history, tagged
    with run_tags. Quiet unless verbose: see the module docstring.
    """
    # the partitions start at the first cycle these extracts support, or earlier if asked
    os.environ.setdefault("SOP_FIRST_CYCLE", cycle.month_label(
        min(cycles[0], first_cycle_supported(extracts_dir) or cycles[0])))
    from dagster import DagsterInstance

    from assets.project import prepare_dbt_project

    prepare_dbt_project()  # before assets.dbt is imported: it reads the manifest
    from assets.definitions import build_defs

    engine = engine or Engine.from_env()
    defs = build_defs(str(extracts_dir), str(warehouse_dir), engine.name, engine.address)
    instance = (DagsterInstance.get() if os.environ.get("DAGSTER_HOME")
                else DagsterInstance.ephemeral())
    out, err = sys.stdout, sys.stderr  # the terminal, before a quiet run redirects them
    console = console or run_console(verbose)
    log_path = run_log_path(warehouse_dir)
    with _run_log(log_path, quiet=not verbose) as log_handler:
        loggers, logger_config = _job_loggers(console, log_handler, verbose)
        for position, cycle_month in enumerate(cycles):
            job = defs.resolve_job_def("monthly_cycle" if position == 0 else "planning_only")
            job = job.with_logger_defs(loggers)
            key = cycle.month_label(cycle_month)
            console.start_cycle(key, steps=len(job.graph.nodes))
            started = time.perf_counter()
            with _forecast_progress(console):
                result = job.execute_in_process(
                    partition_key=key, instance=instance, raise_on_error=False,
                    run_config={"loggers": logger_config},
                    tags={**run_tags(job.name, cycle_month, cycles),
                          "sop/engine": engine.describe()})
            if not result.success:
                console.end_cycle("")
                log = "" if verbose else f"\nfull log: {log_path}"
                print(f"cycle {key} failed; earlier outputs are unchanged.\n"
                      f"{failure_message(result)}{log}", file=err, flush=True)
                return False
            console.end_cycle(f"cycle {key}: planned in {time.perf_counter() - started:.1f} s")
            if position == 0:
                with warehouse.connect(warehouse_dir, read_only=True) as con:
                    print(load_summary(con), file=out, flush=True)
    return True


def run_console(verbose: bool) -> RunConsole:
    """Bars on a terminal, an occasional plain line elsewhere; neither beside Dagster's events."""
    return RunConsole(sys.stdout, bars=False if verbose else None,
                      heartbeat_seconds=None if verbose else HEARTBEAT_SECONDS)


def run_tags(job_name: str, cycle_month: pd.Timestamp, cycles: list[pd.Timestamp]
             ) -> dict[str, str]:
    """What a run started by `sop run` is, for filtering the Dagster UI's run list."""
    return {
        "sop/source": "cli",
        "sop/cycle": cycle.month_label(cycle_month),
        # the first cycle lands the extracts and builds dbt, the later ones only plan
        "sop/stage": "land_and_plan" if job_name == "monthly_cycle" else "plan",
        "sop/batch": f"{cycle.month_label(cycles[0])}..{cycle.month_label(cycles[-1])}",
    }


def run_log_path(warehouse_dir: Path) -> Path:
    """Where a quiet `sop run` writes what it does not print (overwritten by each run)."""
    return Path(warehouse_dir) / "logs" / "sop_run.log"


def failure_message(result) -> str:
    """The root cause of each failed step, without Dagster's wrapping; for a task of the
    engine, the TaskFailed that names the engine and the series or nodes it held."""
    messages = []
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            while error.cause is not None and error.cls_name != TaskFailed.__name__:
                error = error.cause
            messages.append(f"[{event.step_key}] {error.message.strip()}")
    return "\n".join(messages) or "the run failed (see the Dagster logs)"


@contextlib.contextmanager
def _run_log(path: Path, quiet: bool) -> Iterator[logging.Handler | None]:
    """Quiet: stdout, stderr, Python warnings and log records from INFO go to path; the
    handler yielded takes Dagster's events, DEBUG included. Verbose: nothing changes."""
    if not quiet:
        yield None
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    level = root.level
    with path.open("w", encoding="utf-8", buffering=1) as log:
        handler, events = logging.StreamHandler(log), logging.StreamHandler(log)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handler.setLevel(logging.INFO)
        events.setFormatter(logging.Formatter("%(asctime)s %(levelname)s dagster: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        logging.captureWarnings(True)
        try:
            with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                yield events
        finally:
            logging.captureWarnings(False)
            root.removeHandler(handler)
            root.setLevel(level)


def _job_loggers(console: RunConsole, log_handler: logging.Handler | None, verbose: bool):
    """(logger_defs, run_config loggers): the stage timings always; Dagster's console logger
    with verbose, else the events go to the run log."""
    from dagster import LoggerDefinition, colored_console_logger

    stage_logger = logging.Logger("sop.stages", level=logging.DEBUG)
    stage_logger.addHandler(_StageEvents(console))
    if log_handler is not None:
        stage_logger.addHandler(log_handler)
    loggers = {"sop_stages": LoggerDefinition(lambda _: stage_logger,
                                              description="stage lines of `sop run`")}
    config = {"sop_stages": {}}
    if verbose:  # DEBUG: every event, as Dagster prints them when no logger is configured
        loggers["console"] = colored_console_logger
        config["console"] = {"config": {"log_level": "DEBUG"}}
    return loggers, config


class _StageEvents(logging.Handler):
    """Dagster's step events to the console: a step started, a step finished in n seconds."""

    def __init__(self, console: RunConsole) -> None:
        super().__init__(logging.DEBUG)
        self.console = console

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "dagster_event", None)
        if event is not None and event.event_type_value == "STEP_START":
            self.console.step_started(event.step_key)
        elif event is not None and event.is_step_success:
            self.console.step_finished(event.step_key,
                                       event.event_specific_data.duration_ms / 1000)
        else:
            self.console.tick()


class _ForecastProgress(logging.Handler):
    def __init__(self, console: RunConsole) -> None:
        super().__init__(logging.DEBUG)
        self.console = console

    def emit(self, record: logging.LogRecord) -> None:
        if hasattr(record, "series_total"):
            self.console.forecast_progress(record.series_done, record.series_total)


@contextlib.contextmanager
def _forecast_progress(console: RunConsole) -> Iterator[None]:
    """The forecast's progress records (sop_pipeline.demand.forecast) to the console's bar."""
    forecast_logger = logging.getLogger(FORECAST_LOGGER)
    handler, level = _ForecastProgress(console), forecast_logger.level
    forecast_logger.addHandler(handler)
    forecast_logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        forecast_logger.removeHandler(handler)
        forecast_logger.setLevel(level)


def _cycles(args: argparse.Namespace, extracts_dir: Path) -> list[pd.Timestamp]:
    if args.cycle:
        return [cycle.month_start(args.cycle)]
    if args.cycles:
        return cycle.cycle_range(args.cycles)
    latest = cycle.next_cycle(last_order_date(extracts_dir))
    count = args.last or 1
    return list(pd.date_range(end=latest, periods=count, freq="MS"))


if __name__ == "__main__":
    sys.exit(main())
