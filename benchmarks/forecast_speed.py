"""Forecast engine speed and peak memory on N series, against the plain Prophet loop a user
would write (one default Prophet() fit + predict per series, in this process).

Series come from a generated demo company (monthly order quantity per sku x location, built
like the dbt mart fct_monthly_demand) or, with --pbs, from the PBS monthly scripts.

    .venv/bin/python benchmarks/forecast_speed.py --series 1000 --workers 2
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sop_pipeline.demand.candidates import STATSFORECAST_MODELS
from sop_pipeline.demand.forecast import (
    DEFAULT_MODELS,
    ForecastSettings,
    forecast_demand,
    series_id,
)
from sop_pipeline.demo import generate_company

BENCHMARKS = Path(__file__).resolve().parent
if str(BENCHMARKS) not in sys.path:  # the sibling script, also when imported from the tests
    sys.path.insert(0, str(BENCHMARKS))

from pbs_accuracy import PBS_CSV, engine_version, load_pbs, parse_models  # noqa: E402

PLAIN_HORIZON = 18
END_MONTH = "2025-12"
TARGET_SERIES, TARGET_SECONDS, TARGET_MIB = 10_000, 600, 4096  # the issue: 2 cores
LOCATIONS_PER_SKU = 1.81  # expected: each sku sold at each of 2 locations with p = 0.9, >= 1


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    args = _parser().parse_args(argv)
    started = time.perf_counter()
    if args.pbs:
        if not args.data.exists():
            print(f"SKIPPED: PBS data not found at {args.data} (expected ../shared/data/pbs/)")
            return 0
        history, _, _ = load_pbs(args.data, args.series)
        source = "PBS monthly scripts, first 192 months"
    else:
        history = company_history(args.series, args.seed)
        source = (f"generated demo company (seed {args.seed}, 2 locations, 4 years to "
                  f"{END_MONTH}), fct_monthly_demand-style")
    series = history["unique_id"].nunique()
    length = history.groupby("unique_id").size()
    print(f"series: {series} from {source}; months per series min {length.min()}, "
          f"median {length.median():.0f}, max {length.max()}; prepared in "
          f"{time.perf_counter() - started:.1f} s")
    _warm_up(history)
    print(f"{engine_version()}; workers: {args.workers} (cpu count {os.cpu_count()}); "
          f"peak RSS after data prep and imports: {_peak_mib()[0]:.0f} MiB")
    print()

    models = tuple(args.models)
    settings = ForecastSettings(models=models, workers=args.workers,
                                prophet_max_series=args.prophet_max_series)
    prophet_series = min(settings.prophet_max_series, series) if "prophet" in models else 0
    with TreeMemory() as tree:
        engine_seconds, accuracy = _timed_run(history, settings)
    _print_stage(f"engine, models {','.join(models)}", series, engine_seconds)
    if prophet_series:
        print(f"  (Prophet: priors chosen on a sample of the largest series, then tried on at "
              f"most {prophet_series} series, prophet_max_series, one fit per backtest origin "
              "and the final one)")
    chosen = accuracy.loc[accuracy["is_selected"], "model"].value_counts()
    print("  selected: " + ", ".join(f"{model} {count}" for model, count in chosen.items()))

    fast = tuple(m for m in models if m in STATSFORECAST_MODELS)
    fast_seconds = None
    if args.split and "prophet" in models:
        fast_seconds, _ = _timed_run(history, ForecastSettings(models=fast, workers=args.workers))
        _print_stage(f"statsforecast models only ({','.join(fast)})", series, fast_seconds)
        rest = [m for m in models if m not in fast]
        noisy = "; below 0: run-to-run noise is larger" if engine_seconds < fast_seconds else ""
        print(f"  => {','.join(rest)} stage ~ {engine_seconds - fast_seconds:.1f} s "
              f"(difference of the two runs; Prophet on {prophet_series} series{noisy})")
    if args.by_model:
        for model in fast:
            alone = ("seasonal_naive",) if model == "seasonal_naive" else ("seasonal_naive", model)
            seconds, _ = _timed_run(history, ForecastSettings(models=alone,
                                                              workers=args.workers))
            _print_stage(f"  models {','.join(alone)}", series, seconds)

    self_mib, child_mib = _peak_mib()
    print(f"peak memory (ru_maxrss): this process {self_mib:.0f} MiB, largest child process "
          f"{child_mib:.0f} MiB; at most ~{self_mib + args.workers * child_mib:.0f} MiB "
          f"together (this process + {args.workers} x largest child)")
    print(f"peak memory (sampled sum of RSS over this process and its children, engine run): "
          f"{tree.peak_mib:.0f} MiB")
    print(_target_line(series, engine_seconds, fast_seconds, tree.peak_mib))
    print()

    if args.plain_series:
        plain_ids = _spread(sorted(history["unique_id"].unique()), args.plain_series)
        plain_seconds = plain_prophet_loop(history[history["unique_id"].isin(plain_ids)])
        per_series = plain_seconds / len(plain_ids)
        print(f"plain loop (default Prophet() fit + predict {PLAIN_HORIZON} months, per series, "
              f"one process): {len(plain_ids)} series in {plain_seconds:.1f} s, "
              f"{per_series:.3f} s a series, {1 / per_series:.2f} series/s")
        print(f"  extrapolated to {series} series: {series * per_series:.0f} s "
              f"({series * per_series / 60:.1f} min)")
        print(f"ratio engine/plain loop (series per second): "
              f"{(series / engine_seconds) * per_series:.2f}x "
              f"(engine: {len(models)} models, backtest (3 or 6 origins) and selection per series, "
              f"{args.workers} workers; plain loop: one Prophet fit, no backtest)")
        print(f"peak memory after the plain loop: this process {_peak_mib()[0]:.0f} MiB")
    print("accuracy: see benchmarks/pbs_accuracy.py (holdout WAPE of every model, the "
          "selection and plain Prophet() on PBS)")
    return 0


def company_history(series: int, seed: int = 7) -> pd.DataFrame:
    """`series` sku x location series of monthly demand from a generated demo company."""
    skus = math.ceil(series / LOCATIONS_PER_SKU * 1.02) + 1
    while True:
        with tempfile.TemporaryDirectory() as folder:
            generate_company(folder, skus=skus, locations=2, years=4, seed=seed,
                             end_month=END_MONTH, fmt="parquet")
            orders = pd.read_parquet(Path(folder) / "erp" / "sales_orders.parquet",
                                     columns=["order_date", "sku", "location_id", "quantity",
                                              "status"])
        history = monthly_demand(orders)
        found = history["unique_id"].nunique()
        if found >= series:
            break
        skus += math.ceil((series - found) / LOCATIONS_PER_SKU) + 1
    kept = sorted(history["unique_id"].unique())[:series]
    return history[history["unique_id"].isin(kept)].reset_index(drop=True)


def monthly_demand(orders: pd.DataFrame) -> pd.DataFrame:
    """Like fct_monthly_demand: non-cancelled quantity per sku x location x month, every month
    from the series' first order month to the extract's last month, zero-filled."""
    orders = orders.assign(month=_month_number(pd.to_datetime(orders["order_date"])))
    last_month = int(orders["month"].max())  # cancelled orders count for the extract's end
    booked = orders[orders["status"].fillna("").str.lower() != "cancelled"]
    sums = booked.groupby(["sku", "location_id", "month"])["quantity"].sum()
    first = sums.reset_index().groupby(["sku", "location_id"])["month"].min()
    months = last_month - first.to_numpy() + 1
    row = np.repeat(np.arange(len(first)), months)
    month = first.to_numpy()[row] + np.arange(months.sum()) - np.repeat(
        np.cumsum(months) - months, months)
    spine = pd.DataFrame({"sku": first.index.get_level_values("sku")[row],
                          "location_id": first.index.get_level_values("location_id")[row],
                          "month": month})
    dense = spine.merge(sums.rename("y").reset_index(), how="left",
                        on=["sku", "location_id", "month"])
    return pd.DataFrame({
        "unique_id": [series_id(s, loc) for s, loc in zip(dense["sku"], dense["location_id"],
                                                           strict=True)],
        "ds": pd.to_datetime({"year": dense["month"] // 12, "month": dense["month"] % 12 + 1,
                              "day": 1}),
        "y": dense["y"].fillna(0.0).astype(float),
    })


def plain_prophet_loop(history: pd.DataFrame) -> float:
    """Seconds for one default Prophet() fit + predict per series, as a user writes it."""
    from prophet import Prophet

    logging.getLogger("cmdstanpy").disabled = True  # log lines only, not a model setting
    started = time.perf_counter()
    for _, series in history.groupby("unique_id"):
        model = Prophet()
        model.fit(series[["ds", "y"]])
        model.predict(model.make_future_dataframe(periods=PLAIN_HORIZON, freq="MS",
                                                  include_history=False))
    return time.perf_counter() - started


class TreeMemory:
    """Samples the summed RSS of this process and its descendants (Linux /proc) in a thread."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peak_mib = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while True:
            self.peak_mib = max(self.peak_mib, _tree_rss_kib(os.getpid()) / 1024)
            if self._stop.wait(self.interval):
                return


def _tree_rss_kib(root: int) -> int:
    """Resident KiB of `root` and all its descendants; 0 where /proc is not readable."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rpartition(")")[2].split()[1])
    tree, frontier = {root}, {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier}
        tree |= frontier
    total = 0
    for pid in tree:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total += sum(int(line.split()[1]) for line in status.splitlines()
                     if line.startswith("VmRSS:"))
    return total


def _timed_run(history: pd.DataFrame, settings: ForecastSettings
               ) -> tuple[float, pd.DataFrame]:
    started = time.perf_counter()
    _, accuracy = forecast_demand(history, settings, _progress())
    return time.perf_counter() - started, accuracy


def _target_line(series: int, seconds: float, fast_seconds: float | None, peak_mib: float
                 ) -> str:
    """The issue target, measured at 10,000 series or more, else projected (time only)."""
    target = (f"issue target {TARGET_SERIES:,} series in < {TARGET_SECONDS / 60:.0f} min and "
              f"< {TARGET_MIB / 1024:.0f} GiB")
    if series >= TARGET_SERIES:
        met = seconds < TARGET_SECONDS and peak_mib < TARGET_MIB
        return (f"{target}: measured {seconds / 60:.1f} min, {peak_mib:.0f} MiB: "
                f"{'met' if met else 'NOT met'}")
    if fast_seconds is None:
        projected, how = seconds * TARGET_SERIES / series, "linear in series"
    else:  # Prophet runs on at most prophet_max_series series whatever the total
        projected = fast_seconds * TARGET_SERIES / series + max(seconds - fast_seconds, 0.0)
        how = "statsforecast stage linear in series, the rest (Prophet) as measured"
    return f"{target}: projected ~{projected / 60:.1f} min ({how}); memory not projected"


def _print_stage(label: str, series: int, seconds: float) -> None:
    print(f"{label}: {seconds:.1f} s, {series / seconds:.2f} series/s")


def _warm_up(history: pd.DataFrame) -> None:
    """Import statsforecast and prophet here, so the timed runs do not pay for it in-process."""
    one = history[history["unique_id"] == history["unique_id"].iloc[0]]
    forecast_demand(one, ForecastSettings(models=("seasonal_naive",)))


def _peak_mib() -> tuple[float, float]:
    """(this process, largest finished child) peak resident memory in MiB (Linux: KiB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return own / 1024, children / 1024


def _month_number(dates: pd.Series) -> pd.Series:
    return dates.dt.year * 12 + dates.dt.month - 1


def _spread(ids: list[str], count: int) -> list[str]:
    """`count` ids evenly spread over the sorted list (all when count is larger)."""
    if count >= len(ids):
        return list(ids)
    return [ids[i] for i in np.linspace(0, len(ids) - 1, count).round().astype(int)]


def _progress():
    last = [0.0]

    def report(done: int, total: int) -> None:
        if done == total or time.perf_counter() - last[0] > 30:
            last[0] = time.perf_counter()
            print(f"  forecast: {done}/{total} series", file=sys.stderr, flush=True)
    return report


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Speed and peak memory of the forecast engine vs a plain Prophet loop.")
    parser.add_argument("--series", type=int, default=1000, help="series to forecast")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="engine worker processes (default: cpu count)")
    parser.add_argument("--models", type=parse_models, default=list(DEFAULT_MODELS),
                        help="comma-separated candidate models (default: all, incl. prophet)")
    parser.add_argument("--prophet-max-series", type=int,
                        default=ForecastSettings().prophet_max_series,
                        help="series Prophet may try (default: engine default)")
    parser.add_argument("--plain-series", type=int, default=100,
                        help="series for the plain Prophet loop, extrapolated (0: skip)")
    parser.add_argument("--no-split", dest="split", action="store_false",
                        help="skip the second, statsforecast-only run that times the stages")
    parser.add_argument("--by-model", action="store_true",
                        help="also time each statsforecast model alone (one run each)")
    parser.add_argument("--pbs", action="store_true",
                        help="use the PBS series (at most 320) instead of a generated company")
    parser.add_argument("--data", type=Path, default=PBS_CSV, help="PBS_monthly.csv (--pbs)")
    parser.add_argument("--seed", type=int, default=7, help="demo company seed")
    return parser


if __name__ == "__main__":
    sys.exit(main())
