"""`sop`: generate a demo company, or run S&OP cycles through Dagster in-process.

The only module of sop_pipeline that imports Dagster (through `assets`), and only when a run
is asked for.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pandas as pd

from sop_pipeline import cycle, demo, warehouse
from sop_pipeline.demo import generate_company
from sop_pipeline.ingest.landing import last_order_date
from sop_pipeline.report.text import cycle_report, load_summary

DEFAULT_FIRST_CYCLE = pd.Timestamp("2022-01-01")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
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
    run.set_defaults(handler=_run)
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
    extracts_dir = (args.extracts or demo.default_extracts_dir()).resolve()
    warehouse_dir = (args.warehouse or warehouse.default_warehouse_dir()).resolve()
    if args.extracts is None and "SOP_EXTRACTS_DIR" not in os.environ:
        if demo.ensure_demo_company(extracts_dir):
            print(f"generated the demo company in {extracts_dir}")
    try:
        cycles = _cycles(args, extracts_dir)
    except ValueError as exc:
        print(f"sop run: {exc}", file=sys.stderr)
        return 2
    if not run_cycles(cycles, extracts_dir, warehouse_dir):
        return 1
    with warehouse.connect(warehouse_dir, read_only=True) as con:
        print(cycle_report(con, warehouse.database_path(warehouse_dir)))
    return 0


def run_cycles(cycles: list[pd.Timestamp], extracts_dir: Path, warehouse_dir: Path) -> bool:
    """Run the cycles in order through the Dagster jobs the UI shows; False when one fails.

    The first cycle lands the extracts and builds the dbt models; the later ones plan from the
    same marts. With DAGSTER_HOME set, the runs appear in the Dagster UI's history.
    """
    if cycles[0] < DEFAULT_FIRST_CYCLE:  # partitions must reach back to the earliest cycle
        os.environ.setdefault("SOP_FIRST_CYCLE", cycle.month_label(cycles[0]))
    from dagster import DagsterInstance

    from assets.project import prepare_dbt_project

    prepare_dbt_project()  # before assets.dbt is imported: it reads the manifest
    from assets.definitions import build_defs

    defs = build_defs(str(extracts_dir), str(warehouse_dir))
    instance = (DagsterInstance.get() if os.environ.get("DAGSTER_HOME")
                else DagsterInstance.ephemeral())
    for position, cycle_month in enumerate(cycles):
        job = defs.resolve_job_def("monthly_cycle" if position == 0 else "planning_only")
        key = cycle.month_label(cycle_month)
        started = time.perf_counter()
        result = job.execute_in_process(partition_key=key, instance=instance,
                                        raise_on_error=False)
        if not result.success:
            print(f"cycle {key} failed; earlier outputs are unchanged.\n"
                  f"{failure_message(result)}", file=sys.stderr)
            return False
        print(f"cycle {key}: planned in {time.perf_counter() - started:.1f} s", flush=True)
        if position == 0:
            with warehouse.connect(warehouse_dir, read_only=True) as con:
                print(load_summary(con), flush=True)
    return True


def failure_message(result) -> str:
    """The root cause of each failed step, without Dagster's wrapping."""
    messages = []
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            while error.cause is not None:
                error = error.cause
            messages.append(f"[{event.step_key}] {error.message.strip()}")
    return "\n".join(messages) or "the run failed (see the Dagster logs above)"


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
