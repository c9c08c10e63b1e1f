"""MinT reconciliation (hierarchicalforecast) against the pipeline's bottom-up, on two
hierarchies: PBS scripts (total -> ATC1 -> ATC2 -> Concession|Type|ATC2) and the demo
company's families (total -> family -> sku -> sku|location).

Base forecasts at every level come from one statsforecast model, with the engine's settings
(AutoETS: season 12, damped=False; seasonal naive: season 12), fitted=True for the in-sample
residuals MinT needs. Base forecasts are clipped at 0 as the engine clips its own; every
reconciled forecast is clipped at 0 too (MinT, OLS and WLS can go negative on small series).
Methods: bottom_up (the pipeline's), mint_shrink, mint_shrink with nonnegative=True (a QP
instead of the clip), ols, wls_struct. Scored on a 12-month holdout per level with WAPE and
MASE from sop_pipeline.demand.metrics, then pooled over rolling origins `--origin-step`
months apart.

    .venv/bin/python benchmarks/reconciliation.py --dataset all
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

from sop_pipeline.demand.candidates import SEASON_LENGTH, STATSFORECAST_MODELS
from sop_pipeline.demand.metrics import naive_scales, scores
from sop_pipeline.demo import generate_company

BENCHMARKS = Path(__file__).resolve().parent
if str(BENCHMARKS) not in sys.path:  # the sibling script, also when imported from the tests
    sys.path.insert(0, str(BENCHMARKS))

from pbs_accuracy import PBS_CSV, load_pbs  # noqa: E402

HOLDOUT_MONTHS = 12
DEMO_END_MONTH = "2025-12"  # fixed, so that the demo figures repeat
BASE = "base"  # the unreconciled base forecasts of every level (incoherent), for reference
BOTTOM_UP = "bottom_up"
METHODS = (BOTTOM_UP, "mint_shrink", "mint_shrink_nonneg", "ols", "wls_struct")
INSAMPLE_METHODS = ("mint_shrink", "mint_shrink_nonneg")  # need the fitted values
BASE_MODELS = ("auto_ets", "seasonal_naive")
FORECAST_COLUMN = "base"  # statsforecast alias of the base model
TOLERANCE = 1e-3  # a level counts as won when its WAPE is lower by more than 0.1 %


@dataclass(frozen=True)
class Hierarchy:
    """Every series of a hierarchy, long (unique_id, ds, y), with its S matrix and tags."""

    name: str
    series: pd.DataFrame
    S_df: pd.DataFrame
    tags: dict[str, np.ndarray]
    levels: dict[str, str]  # display label -> tag key, top level first

    @property
    def bottom_ids(self) -> np.ndarray:
        return self.tags[list(self.levels.values())[-1]]

    def level_of(self) -> pd.Series:
        """The display label of each series' level, indexed by unique_id."""
        return pd.Series({uid: label for label, key in self.levels.items()
                          for uid in self.tags[key]}, name="level")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its tables; 0 also when the PBS data is absent (skipped)."""
    args = _parser().parse_args(argv)
    import sop_pipeline

    print(f"hierarchicalforecast {version('hierarchicalforecast')}, statsforecast "
          f"{version('statsforecast')}; sop_pipeline from {Path(sop_pipeline.__file__).parent}; "
          f"statsforecast n_jobs={args.workers}")
    datasets = ["pbs", "demo"] if args.dataset == "all" else [args.dataset]
    for dataset in datasets:
        print()
        if dataset == "pbs":
            lookup = args.data.with_name("PBS_atc_lookup.csv")
            if not (args.data.exists() and lookup.exists()):
                print(f"SKIPPED: PBS data not found at {args.data} (expected ../shared/data/pbs/ "
                      "next to the repo, with PBS_atc_lookup.csv; see "
                      "/work/shared/data/pbs/SOURCE.txt)")
                continue
            hierarchy = pbs_hierarchy(args.data, lookup, args.bottom_series)
        else:
            hierarchy = demo_hierarchy(args.skus, args.locations, args.seed)
        run_dataset(hierarchy, args.models, args.origins, args.origin_step, args.workers)
    return 0


def pbs_hierarchy(path: Path, lookup: Path, limit: int | None = None) -> Hierarchy:
    """PBS scripts: the series pbs_accuracy.py keeps (all 204 months, non-zero total), summed
    up total -> ATC1 -> ATC2 -> Concession|Type|ATC2."""
    history, holdout, in_file = load_pbs(path, limit)
    bottom = pd.concat([history, holdout], ignore_index=True)
    parts = bottom["unique_id"].str.split("|", expand=True)
    bottom = bottom.assign(Concession=parts[0], Type=parts[1], ATC2=parts[2]).merge(
        pd.read_csv(lookup, usecols=["ATC1", "ATC2"]), on="ATC2", how="left")
    if bottom["ATC1"].isna().any():
        raise ValueError("PBS ATC2 codes missing from PBS_atc_lookup.csv")
    hierarchy = _aggregated(
        "PBS scripts", bottom, {"total": [], "ATC1": ["ATC1"], "ATC2": ["ATC1", "ATC2"],
                                "bottom": ["ATC1", "ATC2", "Concession", "Type"]})
    print(f"PBS scripts: {len(hierarchy.bottom_ids)} bottom series (Concession|Type|ATC2) kept "
          f"of {in_file} (all 204 months, non-zero total); {_describe(hierarchy)}")
    return hierarchy


def demo_hierarchy(skus: int = 40, locations: int = 2, seed: int = 7) -> Hierarchy:
    """The demo company: monthly non-cancelled order quantity per sku x location, every month
    of the extract (zero-filled), summed up total -> family -> sku -> sku|location."""
    with tempfile.TemporaryDirectory() as folder:
        generate_company(folder, skus=skus, locations=locations, seed=seed,
                         end_month=DEMO_END_MONTH)
        orders = pd.read_csv(Path(folder) / "erp" / "sales_orders.csv",
                             usecols=["order_date", "sku", "location_id", "quantity", "status"])
        items = pd.read_csv(Path(folder) / "erp" / "items.csv", usecols=["sku", "family"])
    bottom = monthly_sku_location(orders).merge(items, on="sku", how="left")
    if bottom["family"].isna().any():
        raise ValueError("demo sales orders hold skus missing from items.csv")
    hierarchy = _aggregated(
        "demo company", bottom, {"total": [], "family": ["family"], "sku": ["family", "sku"],
                                 "bottom": ["family", "sku", "location_id"]})
    bottom_y = hierarchy.series[hierarchy.series["unique_id"].isin(hierarchy.bottom_ids)]
    zero_share = (bottom_y["y"] == 0).groupby(bottom_y["unique_id"]).mean()
    print(f"demo company: generate_company(skus={skus}, locations={locations}, seed={seed}, "
          f"end_month={DEMO_END_MONTH}), non-cancelled sales order quantity per sku x location "
          f"and month, zero-filled over all months; {_describe(hierarchy)}; bottom series "
          f"with > 50 % zero months: {int((zero_share > 0.5).sum())} of {len(zero_share)}")
    return hierarchy


def monthly_sku_location(orders: pd.DataFrame) -> pd.DataFrame:
    """sku, location_id, ds, y: quantity summed per month, cancelled lines left out, every
    sku x location that has an order zero-filled over every month of the extract."""
    orders = orders.assign(ds=pd.to_datetime(orders["order_date"]).dt.to_period("M")
                           .dt.to_timestamp())
    booked = orders[orders["status"].fillna("").str.lower() != "cancelled"]
    sums = booked.groupby(["sku", "location_id", "ds"])["quantity"].sum().astype(float)
    months = pd.date_range(orders["ds"].min(), orders["ds"].max(), freq="MS")
    pairs = sums.reset_index()[["sku", "location_id"]].drop_duplicates()
    grid = pairs.merge(pd.DataFrame({"ds": months}), how="cross")
    dense = grid.merge(sums.rename("y").reset_index(), on=["sku", "location_id", "ds"],
                       how="left")
    return dense.assign(y=dense["y"].fillna(0.0)).sort_values(
        ["sku", "location_id", "ds"], ignore_index=True)


def run_dataset(hierarchy: Hierarchy, models: list[str], origins: int, step: int,
                workers: int) -> None:
    """Per base model: the holdout tables of the last origin, then pooled over every origin."""
    months = sorted(hierarchy.series["ds"].unique())
    starts = [pd.Timestamp(months[-HOLDOUT_MONTHS - step * k]) for k in range(origins)]
    for model in models:
        cls, kwargs = STATSFORECAST_MODELS[model][:2]  # class name, constructor kwargs
        settings = ", ".join(f"{key}={value}" for key, value in kwargs.items())
        print()
        print(f"== {hierarchy.name}, base model {cls}({settings}) at every level ==")
        results = []
        for number, start in enumerate(starts):
            result = evaluate_origin(hierarchy, model, start, workers)
            results.append(result)
            if number == 0:
                _print_tables(f"holdout {_window(start)} (history {_months(hierarchy, start)} "
                              "months)", hierarchy, [result])
        if len(results) > 1:
            windows = ", ".join(_window(start) for start in starts)
            _print_tables(f"rolling: {len(results)} origins {step} months apart ({windows}), "
                          "pooled", hierarchy, results)
        for line in comparison_lines(hierarchy, results, starts):
            print(line)


@dataclass
class OriginResult:
    """One origin's holdout errors (method, unique_id, ds, y, qty), MASE scales and costs."""

    errors: pd.DataFrame
    scales: pd.DataFrame
    seconds: dict[str, float]  # method -> base forecasts it needs + reconciliation
    reconcile_seconds: dict[str, float]
    negatives: dict[str, int]  # method -> forecast values < 0 before the clip
    gap: dict[str, float]  # method -> max over months |total - sum of bottom| / total
    condition: float  # condition number of mint_shrink's W (shrunk residual covariance)


def evaluate_origin(hierarchy: Hierarchy, model: str, start: pd.Timestamp, workers: int
                    ) -> OriginResult:
    """Base forecasts of every series from the months before `start`, reconciled by every
    method and scored on the HOLDOUT_MONTHS from `start`."""
    from hierarchicalforecast.core import HierarchicalReconciliation

    series = hierarchy.series
    train = series[series["ds"] < start]
    end = start + pd.DateOffset(months=HOLDOUT_MONTHS)
    test = series[(series["ds"] >= start) & (series["ds"] < end)]
    is_bottom = train["unique_id"].isin(hierarchy.bottom_ids)
    forecast_bottom, fitted_bottom, bottom_seconds = _base_forecast(train[is_bottom], model,
                                                                   workers)
    forecast_upper, fitted_upper, upper_seconds = _base_forecast(train[~is_bottom], model,
                                                                workers)
    base = pd.concat([forecast_upper, forecast_bottom], ignore_index=True)
    fitted = pd.concat([fitted_upper, fitted_bottom], ignore_index=True)
    negatives = {BASE: int((base[FORECAST_COLUMN] < 0).sum())}
    base[FORECAST_COLUMN] = base[FORECAST_COLUMN].clip(lower=0)  # as the engine's forecasts

    forecasts = {BASE: base.rename(columns={FORECAST_COLUMN: "qty"})}
    seconds = {BASE: bottom_seconds + upper_seconds}
    reconcile_seconds = {BASE: 0.0}
    for method in METHODS:
        reconciler = HierarchicalReconciliation([_reconciler(method)])
        started = time.perf_counter()
        with warnings.catch_warnings():
            # qpsolvers (mint_shrink_nonneg) converts its dense matrices for clarabel
            warnings.filterwarnings("ignore", message="Converted matrix")
            reconciled = reconciler.reconcile(
                Y_hat_df=base, S_df=hierarchy.S_df, tags=hierarchy.tags,
                Y_df=fitted if method in INSAMPLE_METHODS else None)
        reconcile_seconds[method] = time.perf_counter() - started
        if method == "mint_shrink":
            condition = float(np.linalg.cond(reconciler.reconcilers[0].W))
        seconds[method] = reconcile_seconds[method] + bottom_seconds + (
            0.0 if method == BOTTOM_UP else upper_seconds)
        column = next(c for c in reconciled.columns if c.startswith(f"{FORECAST_COLUMN}/"))
        qty = reconciled[column].astype(float)
        negatives[method] = int((qty < -1e-9).sum())
        forecasts[method] = reconciled[["unique_id", "ds"]].assign(qty=qty.clip(lower=0))

    errors, gap = [], {}
    for method, forecast in forecasts.items():
        joined = test.merge(forecast, on=["unique_id", "ds"], how="left")
        if joined["qty"].isna().any():
            raise ValueError(f"{method}: forecast misses holdout months")
        errors.append(joined.assign(method=method))
        gap[method] = _total_gap(forecast, hierarchy)
    return OriginResult(
        errors=pd.concat(errors, ignore_index=True)[["method", "unique_id", "ds", "y", "qty"]],
        scales=naive_scales(train.sort_values(["unique_id", "ds"]), SEASON_LENGTH),
        seconds=seconds, reconcile_seconds=reconcile_seconds, negatives=negatives, gap=gap,
        condition=condition)


def level_tables(hierarchy: Hierarchy, results: list[OriginResult]
                 ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(WAPE, mean MASE, median MASE) per method x level, pooled over `results` (origins).

    WAPE: pooled over the level's series and months of every origin; `all` pools every
    series of every level (each level holds the same volume, so it is the levels' mean).
    MASE: mean (median) over the level's series of each series' MASE per origin (scaled on
    that origin's in-sample months; series with a zero scale left out); `all` over every
    series.
    """
    levels = hierarchy.level_of()
    errors = pd.concat([r.errors.assign(origin=n) for n, r in enumerate(results)],
                       ignore_index=True)
    errors["level"] = errors["unique_id"].map(levels)
    per_series = pd.concat([
        scores(r.errors, ["method", "unique_id"], r.scales) for r in results
    ], ignore_index=True)
    per_series["level"] = per_series["unique_id"].map(levels)
    order = [*levels.unique(), "all"]
    wapes = scores(errors, ["method", "level"]).pivot(index="method", columns="level",
                                                      values="wape")
    wapes["all"] = scores(errors, ["method"]).set_index("method")["wape"]
    methods = [BASE, *METHODS]
    mases = []
    for statistic in ("mean", "median"):
        table = per_series.groupby(["method", "level"])["mase"].agg(statistic).unstack("level")
        table["all"] = per_series.groupby("method")["mase"].agg(statistic)
        mases.append(table.loc[methods, order])
    return wapes.loc[methods, order], *mases


def comparison_lines(hierarchy: Hierarchy, results: list[OriginResult],
                     starts: list[pd.Timestamp]) -> list[str]:
    """Each reconciliation method against bottom-up: WAPE per origin and pooled, levels won."""
    per_origin = [level_tables(hierarchy, [result])[0] for result in results]
    pooled = level_tables(hierarchy, results)[0] if len(results) > 1 else per_origin[0]
    conditions = ", ".join(f"{result.condition:.1e}" for result in results)
    lines = [f"condition number of mint_shrink's W (shrunk covariance of the in-sample "
             f"residuals), per origin: {conditions}"]
    if max(result.gap[BASE] for result in results) < 1e-9:
        moved = [m for m in METHODS if abs(pooled.loc[m, "all"] - pooled.loc[BASE, "all"])
                 > TOLERANCE * pooled.loc[BASE, "all"]]
        lines.append("the base forecasts are coherent already (gap 0: seasonal naive of a sum is "
                     "the sum of the seasonal naives), so every method should return them as "
                     "they are" + (f"; {', '.join(moved)} moved them: numerically (a QP solved "
                                   "by clarabel on W's inverse, then cast to float32)"
                                   if moved else ""))
    lines.append("vs bottom_up (WAPE all levels; levels where lower by > 0.1 %, pooled over "
                 "origins):")
    levels = [c for c in pooled.columns if c != "all"]
    for method in METHODS[1:]:
        figures = []
        for start, table in zip(starts, per_origin, strict=True):
            figures.append(f"{start:%Y-%m} {_change(table, method)}")
        if len(results) > 1:
            figures.append(f"pooled {_change(pooled, method)}")
        won = [level for level in levels  # lower beyond rounding
               if pooled.loc[method, level] < pooled.loc[BOTTOM_UP, level] * (1 - TOLERANCE)]
        lines.append(f"  {method:<18} " + "; ".join(figures)
                     + f"; lower at {len(won)} of {len(levels)} levels"
                     + (f" ({', '.join(won)})" if won else ""))
    return lines


def _change(table: pd.DataFrame, method: str) -> str:
    ours, bottom_up = table.loc[method, "all"], table.loc[BOTTOM_UP, "all"]
    return f"{ours:.4f} vs {bottom_up:.4f} ({(ours - bottom_up) / bottom_up:+.1%})"


def _print_tables(title: str, hierarchy: Hierarchy, results: list[OriginResult]) -> None:
    wapes, means, medians = level_tables(hierarchy, results)
    values = len(results[0].errors[results[0].errors["method"] == BASE])
    costs = pd.DataFrame({
        "total_s": [sum(r.seconds[m] for r in results) for m in wapes.index],
        "reconcile_s": [sum(r.reconcile_seconds[m] for r in results) for m in wapes.index],
        "negatives": [sum(r.negatives[m] for r in results) for m in wapes.index],
        "gap_%": [100 * max(r.gap[m] for r in results) for m in wapes.index],
    }, index=wapes.index)
    print()
    print(f"{title}:")
    print(f"WAPE per level; total_s = base forecasts the method needs + reconciliation, "
          f"summed over origins; negatives = forecast values < 0 before the clip at 0, of "
          f"{values * len(results)}; gap_% = max over months |total - sum of bottom| / total "
          "after the clip")
    print(pd.concat([wapes, costs], axis=1).rename_axis(None).reset_index(names="method")
          .to_string(index=False, float_format="{:.4f}".format,
                     formatters={"total_s": "{:.2f}".format, "reconcile_s": "{:.2f}".format,
                                 "gap_%": "{:.2f}".format}))
    for statistic, mases in (("mean", means), ("median", medians)):
        print(f"MASE per level, {statistic} over the level's series")
        print(mases.rename_axis(None, axis=1).reset_index(names="method")
              .to_string(index=False, float_format="{:.3f}".format))


def _base_forecast(train: pd.DataFrame, model: str, workers: int
                   ) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """(forecast, in-sample fitted values with y, seconds) of the engine's statsforecast
    model `model` on every series of `train`."""
    from statsforecast import StatsForecast, models  # deferred: numba compiles on import

    cls, kwargs = STATSFORECAST_MODELS[model][:2]  # class name, constructor kwargs
    started = time.perf_counter()
    sf = StatsForecast(models=[getattr(models, cls)(alias=FORECAST_COLUMN, **kwargs)],
                       freq="MS", n_jobs=workers)
    forecast = sf.forecast(df=train[["unique_id", "ds", "y"]], h=HOLDOUT_MONTHS, fitted=True)
    fitted = sf.forecast_fitted_values()
    return forecast, fitted, time.perf_counter() - started


def _reconciler(method: str):
    from hierarchicalforecast.methods import BottomUp, MinTrace

    if method == BOTTOM_UP:
        return BottomUp()
    if method == "mint_shrink_nonneg":
        return MinTrace(method="mint_shrink", nonnegative=True)
    return MinTrace(method=method)


def _aggregated(name: str, bottom: pd.DataFrame, levels: dict[str, list[str]]) -> Hierarchy:
    """hierarchicalforecast.utils.aggregate of the bottom series by `levels` (top first)."""
    from hierarchicalforecast.utils import aggregate

    frame = bottom.assign(total="total")[["total", *levels[list(levels)[-1]], "ds", "y"]]
    spec = [["total", *columns] for columns in levels.values()]
    series, S_df, tags = aggregate(frame, spec)
    keys = dict(zip(levels, ("/".join(level) for level in spec), strict=True))
    return Hierarchy(name, series.sort_values(["unique_id", "ds"], ignore_index=True),
                     S_df, tags, keys)


def _total_gap(forecast: pd.DataFrame, hierarchy: Hierarchy) -> float:
    """Largest |total - sum of the bottom series| / total over the months (0: coherent)."""
    total_id = hierarchy.tags[hierarchy.levels["total"]][0]
    total = forecast[forecast["unique_id"] == total_id].set_index("ds")["qty"]
    bottom = (forecast[forecast["unique_id"].isin(hierarchy.bottom_ids)]
              .groupby("ds")["qty"].sum())
    return float(((total - bottom).abs() / total.where(total > 0)).max())


def _describe(hierarchy: Hierarchy) -> str:
    months = sorted(hierarchy.series["ds"].unique())
    sizes = ", ".join(f"{label} {len(hierarchy.tags[key])}"
                      for label, key in hierarchy.levels.items())
    return (f"hierarchy {sizes} = {len(hierarchy.S_df)} series; months "
            f"{pd.Timestamp(months[0]):%Y-%m}..{pd.Timestamp(months[-1]):%Y-%m} ({len(months)})")


def _window(start: pd.Timestamp) -> str:
    end = start + pd.DateOffset(months=HOLDOUT_MONTHS - 1)
    return f"{start:%Y-%m}..{end:%Y-%m}"


def _months(hierarchy: Hierarchy, start: pd.Timestamp) -> int:
    return int((pd.Series(hierarchy.series["ds"].unique()) < start).sum())


def parse_base_models(text: str) -> list[str]:
    """`--models a,b` -> base models among BASE_MODELS."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = sorted(set(names) - set(BASE_MODELS))
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown models {unknown}; choose from {BASE_MODELS}")
    return names


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Holdout accuracy of MinT reconciliation vs bottom-up on PBS and the demo.")
    parser.add_argument("--dataset", choices=["pbs", "demo", "all"], default="all")
    parser.add_argument("--data", type=Path, default=PBS_CSV,
                        help="PBS_monthly.csv (PBS_atc_lookup.csv next to it)")
    parser.add_argument("--models", type=parse_base_models, default=list(BASE_MODELS),
                        help="comma-separated base models: auto_ets, seasonal_naive (default both)")
    parser.add_argument("--origins", type=_positive, default=2,
                        help="holdout origins, the last 12 months first (default 2; 1: no "
                             "rolling check)")
    parser.add_argument("--origin-step", type=_positive, default=6,
                        help="months between origins (default 6)")
    parser.add_argument("--workers", type=_positive, default=os.cpu_count() or 1,
                        help="statsforecast n_jobs (default: cpu count)")
    parser.add_argument("--bottom-series", type=_positive, default=None,
                        help="PBS: keep this many bottom series, evenly spread (default: all)")
    parser.add_argument("--skus", type=_positive, default=40, help="demo skus (default 40)")
    parser.add_argument("--locations", type=_positive, default=2,
                        help="demo locations (default 2)")
    parser.add_argument("--seed", type=int, default=7, help="demo company seed (default 7)")
    return parser


if __name__ == "__main__":
    sys.exit(main())
