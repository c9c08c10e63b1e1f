"""Forecast accuracy on intermittent demand: Superstore order lines as product x region months,
every model the engine returns and its selected forecast against simple intermittent-demand
baselines, scored on a 12-month holdout.

A series is "Product ID|Region": quantity summed per month, zero-filled from the series' first
sale month to the data's last month (2019-12), so most months are zero. The engine sees the
months before 2019-01 and forecasts 2019-01..2019-12; series first sold in 2019 are left out.
Baselines fitted here on the same history: the flat mean of the last 12 months, a zero
forecast, and statsforecast's ADIDA, IMAPA and TSB. Headline metric: RMSSE (M5), each series
scaled by its in-sample lag-1 naive squared differences.

    .venv/bin/python benchmarks/intermittent_accuracy.py --workers 2
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

import sop_pipeline
from sop_pipeline.demand.candidates import ALL_MODELS
from sop_pipeline.demand.forecast import ForecastSettings, forecast_demand, series_id
from sop_pipeline.demand.metrics import naive_scales, scores

BENCHMARKS = Path(__file__).resolve().parent
if str(BENCHMARKS) not in sys.path:  # the sibling script, also when imported from the tests
    sys.path.insert(0, str(BENCHMARKS))

from pbs_accuracy import SELECTED, holdout_errors, parse_models  # noqa: E402

REPO = BENCHMARKS.parent
SUPERSTORE_CSV = REPO.parent / "shared" / "data" / "superstore" / "superstore_orders.csv"
HOLDOUT_MONTHS = 12
MEAN_MONTHS = 12  # the flat-mean baseline: the last 12 history months (fewer if younger)
# M5's RMSSE scale: the in-sample lag-1 naive differences (naive_scales' season_length)
SCALE_SEASON_LENGTH = 1
TSB_ALPHAS = {"alpha_d": 0.2, "alpha_p": 0.2}
MEAN_BASELINE, ZERO_BASELINE = "mean_last_12", "zero"
SF_BASELINES = ("ADIDA", "IMAPA", "TSB")
BASELINES = (MEAN_BASELINE, ZERO_BASELINE, *SF_BASELINES)
COLUMNS = {"Order Date": "order_date", "Product ID": "product", "Region": "region",
           "Quantity": "quantity"}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its tables; 0 also when the data is absent (skipped)."""
    args = _parser().parse_args(argv)
    if not args.data.exists():
        print(f"SKIPPED: Superstore data not found at {args.data} (expected "
              "../shared/data/superstore/ next to the repo; see SOURCE.txt there)")
        return 0
    history, holdout, counts = load_superstore(args.data, args.series, args.fill_from)
    months = sorted(history["ds"].unique())
    ids = history["unique_id"].nunique()
    with_demand = holdout.groupby("unique_id")["y"].sum().gt(0).sum()
    print(f"Superstore order lines: {counts['lines']} lines, {counts['series']} product|region "
          f"series; {counts['kept']} with a sale before {_month(holdout['ds'].min())} "
          f"({counts['launched_in_holdout']} first sold in the holdout left out)"
          + (f", {ids} kept (--series)" if ids < counts["kept"] else ""))
    lengths = history.groupby("unique_id").size()
    backtest_months = ForecastSettings().backtest.min_months()
    start = "each series' first sale" if args.fill_from == "first-sale" else "the data's start"
    print(f"zero-filled from {start}; history {_month(months[0])}..{_month(months[-1])} "
          f"({len(months)} months; per series median {lengths.median():.0f}, "
          f"{int((lengths >= backtest_months).sum())} series with the engine's "
          f"{backtest_months} months to backtest), holdout {_month(holdout['ds'].min())}.."
          f"{_month(holdout['ds'].max())} ({HOLDOUT_MONTHS} months)")
    print(f"share of zero months: {(history['y'] == 0).mean():.1%} of history, "
          f"{(holdout['y'] == 0).mean():.1%} of holdout; {with_demand} of {ids} series have "
          "demand in the holdout")

    settings = ForecastSettings(horizon=HOLDOUT_MONTHS, models=tuple(args.models),
                                workers=args.workers)
    print(f"engine: forecast_demand(horizon={settings.horizon}, workers={settings.workers}, "
          f"models={','.join(settings.models)}); {engine_version()}")
    started = time.perf_counter()
    forecast, accuracy = forecast_demand(history, settings, _progress("engine"))
    engine_seconds = time.perf_counter() - started
    print(f"engine time: {engine_seconds:.1f} s ({ids / engine_seconds:.1f} series/s)")

    started = time.perf_counter()
    baselines = baseline_forecasts(history, HOLDOUT_MONTHS, args.workers)
    print(f"baselines time: {time.perf_counter() - started:.1f} s "
          f"({', '.join(BASELINES)}; TSB alpha_d={TSB_ALPHAS['alpha_d']}, "
          f"alpha_p={TSB_ALPHAS['alpha_p']})")

    errors = pd.concat([holdout_errors(forecast, holdout), baseline_errors(baselines, holdout)],
                       ignore_index=True)
    scored = series_scores(errors, history)
    chosen = accuracy.loc[accuracy["is_selected"], "model"].value_counts()
    print("selected: " + ", ".join(f"{model} {count}" for model, count in chosen.items())
          + f" (of {ids} series; backtest-scored: "
          f"{accuracy.dropna(subset=['wape'])['unique_id'].nunique()})")
    print()
    print(summary_table(errors, scored, chosen).to_string(index=False,
                                                          float_format="{:.3f}".format))
    unscaled = scored.loc[scored["model"] == SELECTED, "rmsse"].isna().sum()
    print(f"rmsse: mean over a row's series of each series' RMSSE, scaled by the mean squared "
          f"lag-{SCALE_SEASON_LENGTH}\ndifference of its history (M5); {unscaled} series "
          "without a scale (one history month, or flat) left out;\nbias, wape: pooled over series "
          "and months; mean_fcst, mean_actual: per series-month")
    print()
    print("by the engine's choice: mean RMSSE | pooled bias on the series that selected each "
          "model")
    print(by_choice_table(errors, scored, accuracy).to_string(float_format="{:.3f}".format))
    return 0


def load_superstore(path: Path, limit: int | None = None, fill_from: str = "first-sale"
                    ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """(history, holdout, counts): long `unique_id, ds, y` of monthly quantity per
    product|region, dense from the first sale month (fill_from="first-sale") or the data's
    first month ("data") to the data's last month; the holdout is the last 12 months.

    Kept: series with a sale before the holdout; limit keeps that many, evenly spread.
    counts: lines, series, kept, launched_in_holdout.
    """
    raw = pd.read_csv(path, encoding="utf-8-sig", usecols=list(COLUMNS)).rename(columns=COLUMNS)
    raw["ds"] = pd.to_datetime(raw["order_date"], format="%m/%d/%Y").dt.to_period("M"
                                                                                  ).dt.start_time
    raw["unique_id"] = [series_id(p, r) for p, r in zip(raw["product"], raw["region"],
                                                         strict=True)]
    monthly = raw.groupby(["unique_id", "ds"])["quantity"].sum().astype(float)
    first_month, last_month = raw["ds"].min(), raw["ds"].max()
    cutoff = last_month - pd.DateOffset(months=HOLDOUT_MONTHS - 1)
    starts = monthly.reset_index().groupby("unique_id")["ds"].min()
    kept = sorted(starts.index[starts < cutoff])
    if limit is not None:
        kept = _spread(kept, limit)
    index = pd.MultiIndex.from_tuples(
        [(unique_id, month) for unique_id in kept
         for month in pd.date_range(first_month if fill_from == "data" else starts[unique_id],
                                    last_month, freq="MS")],
        names=["unique_id", "ds"])
    long = monthly.reindex(index, fill_value=0.0).rename("y").reset_index()
    counts = {"lines": len(raw), "series": len(starts), "kept": int((starts < cutoff).sum()),
              "launched_in_holdout": int((starts >= cutoff).sum())}
    return long[long["ds"] < cutoff], long[long["ds"] >= cutoff], counts


def baseline_forecasts(history: pd.DataFrame, horizon: int, workers: int = 1) -> pd.DataFrame:
    """The baselines over the `horizon` months after each series' history: long model,
    unique_id, ds, qty. The flat mean of the last MEAN_MONTHS months (fewer in a younger
    series), zero, and statsforecast's ADIDA, IMAPA and TSB fitted on the whole history."""
    from statsforecast import StatsForecast
    from statsforecast.models import ADIDA, IMAPA, TSB

    sf = StatsForecast(models=[ADIDA(), IMAPA(), TSB(**TSB_ALPHAS)], freq="MS", n_jobs=workers)
    fitted = sf.forecast(df=history[["unique_id", "ds", "y"]], h=horizon)
    frames = [fitted[["unique_id", "ds", name]].rename(columns={name: "qty"}).assign(model=name)
              for name in SF_BASELINES]
    future = fitted[["unique_id", "ds"]]
    level = history.groupby("unique_id")["y"].apply(lambda y: y.iloc[-MEAN_MONTHS:].mean())
    frames.append(future.assign(model=MEAN_BASELINE,
                                qty=future["unique_id"].map(level).to_numpy()))
    frames.append(future.assign(model=ZERO_BASELINE, qty=0.0))
    return pd.concat(frames, ignore_index=True)[["model", "unique_id", "ds", "qty"]]


def baseline_errors(baselines: pd.DataFrame, holdout: pd.DataFrame) -> pd.DataFrame:
    """The baselines' holdout months against the actuals: long model, unique_id, ds, y, qty."""
    joined = holdout.merge(baselines, on=["unique_id", "ds"])
    return joined[["model", "unique_id", "ds", "y", "qty"]]


def series_scores(errors: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    """Per series and model: every metric of sop_pipeline.demand.metrics, MASE and RMSSE
    scaled by the lag-1 naive differences of the series' history (M5's RMSSE scale)."""
    return scores(errors, ["unique_id", "model"], naive_scales(history, SCALE_SEASON_LENGTH))


def summary_table(errors: pd.DataFrame, scored: pd.DataFrame, chosen: pd.Series
                  ) -> pd.DataFrame:
    """One row per engine model, the selection and each baseline: series, selected_by, mean
    RMSSE, pooled bias and WAPE, and the mean forecast and actual per series-month."""
    pooled = scores(errors, ["model"]).set_index("model")
    means = errors.groupby("model")[["qty", "y"]].mean()
    rows = []
    for model in sorted(pooled.index, key=_row_order):
        part = scored[scored["model"] == model]
        selected_by = (len(part) if model == SELECTED
                       else pd.NA if model in BASELINES else chosen.get(model, 0))
        rows.append({
            "model": model,
            "source": _source(model),
            "series": len(part),
            "selected_by": selected_by,
            "rmsse": part["rmsse"].mean(),
            "bias": pooled.loc[model, "bias"],
            "wape": pooled.loc[model, "wape"],
            "mean_fcst": means.loc[model, "qty"],
            "mean_actual": means.loc[model, "y"],
        })
    return pd.DataFrame(rows)


def by_choice_table(errors: pd.DataFrame, scored: pd.DataFrame, accuracy: pd.DataFrame
                    ) -> pd.DataFrame:
    """Per model the engine selected, on the series that selected it: series, their share
    of the holdout demand, then "RMSSE | bias" of the selection and of each baseline."""
    choice = accuracy.loc[accuracy["is_selected"]].set_index("unique_id")["model"]
    selected = errors[errors["model"] == SELECTED]
    total = selected["y"].sum()
    shown = [SELECTED, *BASELINES]
    rows = {}
    for model, ids in choice.groupby(choice).groups.items():
        rmsse = scored[scored["unique_id"].isin(ids)].groupby("model")["rmsse"].mean()
        bias = scores(errors[errors["unique_id"].isin(ids)], ["model"]).set_index("model")["bias"]
        demand = selected.loc[selected["unique_id"].isin(ids), "y"].sum()
        rows[model] = {"series": len(ids),
                       "demand": f"{demand / total:.1%}" if total > 0 else "n/a",
                       **{name: f"{_figure(rmsse.get(name), '.3f')} | "
                                f"{_figure(bias.get(name), '+.2f')}" for name in shown}}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("selected model")


def engine_version() -> str:
    """Where sop_pipeline was imported from, and its last commit there when that is a git
    checkout (a `git archive` snapshot is not): the engine these figures come from."""
    package = Path(sop_pipeline.__file__).resolve().parent
    where = f"sop_pipeline from {package}"
    try:
        def git(*args: str) -> str:
            return subprocess.run(["git", "-C", str(package.parent), *args], capture_output=True,
                                  text=True, check=True).stdout.strip()
        if Path(git("rev-parse", "--show-toplevel")).resolve() != package.parent:
            raise OSError("not the top of a checkout")
        commit = git("log", "-1", "--format=%h", "--", "sop_pipeline")
        changed = git("status", "--porcelain", "--", "sop_pipeline")
    except (OSError, subprocess.CalledProcessError):
        return f"{where} (not a git checkout: commit unknown)"
    return f"{where}, engine at commit {commit}" + (" with local changes" if changed else "")


def _row_order(model: str) -> tuple[int, int, str]:
    """Engine models (candidate order, then others such as mean), the selection, baselines."""
    if model in BASELINES:
        return (2, BASELINES.index(model), model)
    if model == SELECTED:
        return (1, 0, model)
    return (0, ALL_MODELS.index(model) if model in ALL_MODELS else len(ALL_MODELS), model)


def _figure(value: float | None, spec: str) -> str:
    """value formatted with spec, "-" when it is missing or nan (no demand to divide by)."""
    return "-" if value is None or pd.isna(value) else format(value, spec)


def _source(model: str) -> str:
    if model in SF_BASELINES:
        return "statsforecast"
    return "script" if model in BASELINES else "engine"


def _spread(ids: list[str], count: int | None) -> list[str]:
    """`count` ids evenly spread over the sorted list (all when count is None or larger)."""
    if count is None or count >= len(ids):
        return list(ids)
    return [ids[i] for i in np.linspace(0, len(ids) - 1, count).round().astype(int)]


def _progress(label: str) -> Callable[[int, int], None]:
    def report(done: int, total: int) -> None:
        print(f"{label}: {done}/{total} series", file=sys.stderr, flush=True)
    return report


def _month(value: object) -> str:
    return pd.Timestamp(value).strftime("%Y-%m")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Holdout accuracy of the forecast engine on intermittent Superstore demand.")
    parser.add_argument("--data", type=Path, default=SUPERSTORE_CSV, help="superstore_orders.csv")
    parser.add_argument("--models", type=parse_models, default=list(ForecastSettings().models),
                        help="comma-separated candidate models (default: the engine's default)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="engine and statsforecast worker processes (default: cpu count)")
    parser.add_argument("--series", type=int, default=None,
                        help="keep only this many series, evenly spread (default: all)")
    parser.add_argument("--fill-from", choices=["first-sale", "data"], default="first-sale",
                        help="zero-fill each series from its first sale month (default) or from "
                             "the data's first month")
    return parser


if __name__ == "__main__":
    sys.exit(main())
