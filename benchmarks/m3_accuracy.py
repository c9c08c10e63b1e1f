"""Forecast accuracy on the M3 competition's 1,428 monthly series: every candidate model and the
selected forecast of the engine against the competition's THETA and ForecastPro, scored on the
18 held-out months of each series with sop_pipeline.demand.metrics.

The engine sees each series' training part (48..126 months) and forecasts 18 months. sMAPE and
MASE are means over series (MASE scaled by the seasonal-naive MAE of the whole training part);
WAPE and bias are pooled over all series and months. THETA, ForecastPro and seasonal naive
reproduce the scores of the data's SOURCE.txt when all series run.

    .venv/bin/python benchmarks/m3_accuracy.py --workers 2
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

import sop_pipeline
from sop_pipeline.demand.candidates import ALL_MODELS
from sop_pipeline.demand.forecast import DEFAULT_MODELS, ForecastSettings, forecast_demand
from sop_pipeline.demand.metrics import scores

BENCHMARKS = Path(__file__).resolve().parent
if str(BENCHMARKS) not in sys.path:  # the sibling script, also when imported from the tests
    sys.path.insert(0, str(BENCHMARKS))

from pbs_accuracy import (  # noqa: E402
    SELECTED,
    engine_log,
    engine_version,
    holdout_errors,
    parse_models,
    series_scores,
)

REPO = BENCHMARKS.parent
M3_DIR = REPO.parent / "shared" / "data" / "m3_monthly"
SERIES_CSV, COMPETITORS_CSV = "m3_monthly.csv", "m3_monthly_competitors.csv"
HORIZON = 18
COMPETITORS = ("THETA", "ForecastPro")  # the competition's methods shown in the table
CATEGORIES = ("MICRO", "INDUSTRY", "MACRO", "FINANCE", "DEMOGRAPHIC", "OTHER")
# Series without a real calendar (category OTHER, years 1..6 in the source) keep their months
# and get the years from SYNTHETIC_YEAR on: consecutive month starts, aligned by t.
SYNTHETIC_YEAR, REAL_YEARS_FROM = 2000, 1000
# SOURCE.txt: sMAPE, MASE, WAPE of the competitors' forecasts and of seasonal naive, all series
PUBLISHED = {"THETA": (13.89, 0.858, 0.117), "ForecastPro": (13.90, 0.848, 0.117),
             "seasonal_naive": (17.23, 1.146, 0.149)}
DECIMALS = {"smape": 2, "mase": 3, "wape": 3}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its tables; 0 also when the data is absent (skipped)."""
    args = _parser().parse_args(argv)
    missing = [name for name in (SERIES_CSV, COMPETITORS_CSV) if not (args.data / name).exists()]
    if missing:
        print(f"SKIPPED: M3 data not found: {', '.join(missing)} in {args.data} (expected "
              "../shared/data/m3_monthly/ next to the repo; see SOURCE.txt there)")
        return 0
    history, test, info, total_series = load_m3(args.data / SERIES_CSV, args.series)
    competitors = competitor_errors(args.data / COMPETITORS_CSV, test)
    lengths = history.groupby("unique_id").size()
    counts = info["category"].value_counts()
    print(f"M3 monthly: {len(info)} series of {total_series} ("
          + ", ".join(f"{c} {counts.get(c, 0)}" for c in CATEGORIES)
          + f"); train {lengths.min()}..{lengths.max()} months, test {HORIZON} months; "
          f"{int((~info['calendar']).sum())} series without a calendar (years 1..) dated from "
          f"{SYNTHETIC_YEAR}-01, the others at their own months")

    settings = ForecastSettings(horizon=HORIZON, models=tuple(args.models), workers=args.workers)
    print(f"engine: forecast_demand(horizon={settings.horizon}, workers={settings.workers}, "
          f"models={','.join(settings.models)}, "
          f"prophet_max_series={settings.prophet_max_series}); {engine_source()}")
    started = time.perf_counter()
    with engine_log():
        forecast, accuracy = forecast_demand(history, settings, _progress())
    engine_seconds = time.perf_counter() - started
    print(f"engine time: {engine_seconds:.1f} s "
          f"({len(info) / engine_seconds:.2f} series/s)")

    engine = holdout_errors(forecast, test)
    errors = pd.concat([engine, competitors], ignore_index=True)
    scored = series_scores(errors, history)
    print()
    print(_formatted(summary_table(errors, scored, accuracy)))
    print(f"sMAPE, MASE: mean over series; WAPE, bias: pooled. {', '.join(COMPETITORS)}: the "
          f"competitors' own forecasts, scored as submitted "
          f"({int((competitors['qty'] <= 0).sum())} of their {len(competitors)} test-month "
          f"forecasts are <= 0; the engine clips at 0: "
          f"{int((engine['qty'] == 0).sum())} of its {len(engine)} rows above are 0)")
    for line in comparison_lines(errors, scored, set(competitors["model"]), total_series):
        print(line)
    print()
    print(f"by M3 category, {SELECTED} vs THETA:")
    print(_formatted(category_table(errors, scored, info["category"])))
    return 0


def load_m3(path: Path, limit: int | None = None
            ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, int]:
    """(history, test, info, series in the file) of the M3 monthly series.

    history: long unique_id, ds, y of the training months; test: unique_id, ds, y, h of the
    held-out months (h = 1..18); info: category and calendar (False: the source has no
    calendar) per unique_id. ds is the source's month where it is a real calendar, so
    Prophet's yearly seasonality sees the real month of year, and otherwise the same month in
    a synthetic year (SYNTHETIC_YEAR for year 1): either way consecutive month starts by t.
    """
    raw = pd.read_csv(path)
    ids = sorted(raw["series_id"].unique())
    kept = _spread(ids, limit)
    raw = raw[raw["series_id"].isin(kept)].sort_values(["series_id", "t"], ignore_index=True)
    raw["ds"] = month_starts(raw)
    long = raw.rename(columns={"series_id": "unique_id", "value": "y"})
    history = long[long["split"] == "train"][["unique_id", "ds", "y"]].reset_index(drop=True)
    test = long[long["split"] == "test"].copy()
    last_train = history.groupby("unique_id").size()
    test["h"] = test["t"] - test["unique_id"].map(last_train)
    if not test["h"].between(1, HORIZON).all() or (test.groupby("unique_id").size()
                                                    != HORIZON).any():
        raise ValueError(f"every series needs {HORIZON} test months right after its training")
    test = test[["unique_id", "ds", "y", "h"]].reset_index(drop=True)
    info = long.groupby("unique_id").agg(category=("category", "first"),
                                         calendar=("month", _has_calendar))
    return history, test, info, len(ids)


def month_starts(raw: pd.DataFrame) -> pd.Series:
    """The month start of every row (series_id, t, month as yyyy-mm-dd or y-mm-dd, t order);
    years before REAL_YEARS_FROM (no real calendar) move to SYNTHETIC_YEAR + year - 1."""
    parts = raw["month"].str.split("-", expand=True).astype(int)
    year = parts[0].where(parts[0] >= REAL_YEARS_FROM, parts[0] + SYNTHETIC_YEAR - 1)
    ds = pd.to_datetime(pd.DataFrame({"year": year, "month": parts[1], "day": 1}))
    first = ds.groupby(raw["series_id"]).transform("first")
    elapsed = (ds.dt.year - first.dt.year) * 12 + ds.dt.month - first.dt.month
    if (elapsed != raw["t"] - raw.groupby("series_id")["t"].transform("first")).any():
        raise ValueError("months are not consecutive by t in every series")
    return ds


def competitor_errors(path: Path, test: pd.DataFrame) -> pd.DataFrame:
    """Every M3 method's forecasts of the test months: long model, unique_id, ds, y, qty."""
    submitted = pd.read_csv(path).rename(columns={"series_id": "unique_id", "method": "model",
                                                  "forecast": "qty"})
    joined = test.merge(submitted, on=["unique_id", "h"])
    return joined[["model", "unique_id", "ds", "y", "qty"]]


def engine_source() -> str:
    """Where the imported engine lives: this repo's working copy (its commit) or elsewhere."""
    package = Path(sop_pipeline.__file__).resolve().parent
    if package == REPO / "sop_pipeline":
        return f"{engine_version()} ({package})"
    return f"engine imported from {package}, not this repo's working copy"


def summary_table(errors: pd.DataFrame, scored: pd.DataFrame, accuracy: pd.DataFrame
                  ) -> pd.DataFrame:
    """One row per engine model, the selection, then COMPETITORS: series scored, series
    selecting it, mean sMAPE and MASE over series, pooled WAPE and bias."""
    chosen = accuracy.loc[accuracy["is_selected"], "model"].value_counts()
    fitted, known = set(accuracy["model"]), (*ALL_MODELS, "mean")
    shown = [*(m for m in known if m in fitted), *sorted(fitted - set(known)), SELECTED,
             *COMPETITORS]
    table = _figures(errors[errors["model"].isin(shown)], scored, ["model"]).set_index("model")
    selected_by = {**{m: chosen.get(m, 0) for m in fitted}, SELECTED: chosen.sum()}
    table["selected_by"] = pd.Series(selected_by, dtype="Int64")
    return table.loc[shown].reset_index()[
        ["model", "series", "selected_by", "smape", "mase", "wape", "bias"]]


def category_table(errors: pd.DataFrame, scored: pd.DataFrame, categories: pd.Series
                   ) -> pd.DataFrame:
    """Per M3 category and over all: sMAPE, MASE and WAPE of the selection and of THETA."""
    models = [SELECTED, "THETA"]
    errors = errors[errors["model"].isin(models)]
    by_category = pd.concat([
        _figures(errors.assign(category=errors["unique_id"].map(categories)),
                 scored.assign(category=scored["unique_id"].map(categories)),
                 ["category", "model"]),
        _figures(errors, scored, ["model"]).assign(category="all"),
    ], ignore_index=True)
    order = [c for c in (*CATEGORIES, "all") if c in set(by_category["category"])]
    wide = by_category.pivot(index="category", columns="model",
                             values=["series", "smape", "mase", "wape"]).loc[order]
    table = pd.DataFrame({"category": order,
                          "series": wide[("series", SELECTED)].to_numpy(dtype=int)})
    for metric in ("smape", "mase", "wape"):
        for model in models:
            table[f"{metric}_{'sel' if model == SELECTED else model}"] = \
                wide[(metric, model)].to_numpy(dtype=float)
    return table


def comparison_lines(errors: pd.DataFrame, scored: pd.DataFrame, m3_methods: set[str],
                     total_series: int) -> list[str]:
    """The SOURCE.txt check, the rank of the selection among the M3 methods, and the figures
    on the series of any model fitted on fewer series than the run holds."""
    figures = _figures(errors, scored, ["model"]).set_index("model")
    series = int(figures.loc[SELECTED, "series"])
    lines = []
    if series < total_series:
        lines.append(f"SOURCE.txt check skipped: its scores are for all {total_series} series, "
                     f"this run holds {series}")
    for model, published in PUBLISHED.items():
        if series == total_series and model in figures.index:
            computed = [round(float(figures.loc[model, m]), d) for m, d in DECIMALS.items()]
            pairs = ", ".join(f"{m} {c:.{d}f} vs {p:.{d}f}" for (m, d), c, p
                              in zip(DECIMALS.items(), computed, published, strict=True))
            verdict = "reproduced" if computed == list(published) else "NOT reproduced"
            lines.append(f"SOURCE.txt check, {model} (computed vs published): {pairs}: {verdict}")
    m3 = figures[figures.index.isin(m3_methods)]
    for metric in ("smape", "mase"):
        value = figures.loc[SELECTED, metric]
        rank = int((m3[metric] < value).sum()) + 1
        lines.append(f"{SELECTED} {metric} {value:.3f}: rank {rank} of {len(m3) + 1} with the "
                     f"{len(m3)} M3 methods (best of them {m3[metric].idxmin()} "
                     f"{m3[metric].min():.3f})")
    for model in figures.index[figures["series"] < series]:
        ids = scored.loc[scored["model"] == model, "unique_id"]
        subset = _figures(errors[errors["unique_id"].isin(ids)],
                          scored[scored["unique_id"].isin(ids)], ["model"]).set_index("model")
        shown = ", ".join(f"{m} {subset.loc[m, 'smape']:.2f} / {subset.loc[m, 'mase']:.3f}"
                          for m in (model, SELECTED, *COMPETITORS) if m in subset.index)
        lines.append(f"on the {len(ids)} series {model} was fitted on, sMAPE / MASE: {shown}")
    return lines


def _figures(errors: pd.DataFrame, scored: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Per group: series scored, mean sMAPE and MASE over its series (`scored`, one row per
    series and model), WAPE and bias pooled over its months (`errors`)."""
    per_series = scored[scored["model"].isin(set(errors["model"]))].groupby(by).agg(
        series=("unique_id", "size"), smape=("smape", "mean"), mase=("mase", "mean"))
    pooled = scores(errors, by).set_index(by)[["wape", "bias"]]
    return per_series.join(pooled).reset_index()


def _formatted(table: pd.DataFrame) -> str:
    """The table as text: sMAPE 2 decimals, MASE and WAPE 3, bias signed."""
    formats = {}
    for column in table.columns:
        metric = column.split("_")[0]
        if metric in DECIMALS:
            formats[column] = f"{{:.{DECIMALS[metric]}f}}".format
        elif metric == "bias":
            formats[column] = "{:+.3f}".format
    return table.to_string(index=False, formatters=formats)


def _has_calendar(months: pd.Series) -> bool:
    """Whether a series' months (yyyy-mm-dd strings) carry real years."""
    return int(months.iloc[0].split("-")[0]) >= REAL_YEARS_FROM


def _spread(ids: list[str], count: int | None) -> list[str]:
    """`count` ids evenly spread over the sorted list (all when count is None or larger)."""
    if count is None or count >= len(ids):
        return list(ids)
    return [ids[i] for i in np.linspace(0, len(ids) - 1, count).round().astype(int)]



def _progress() -> Callable[[int, int], None]:
    """Series done, to stderr: at most every 30 s, and at the end."""
    last = [0.0]

    def report(done: int, total: int) -> None:
        if done == total or time.perf_counter() - last[0] > 30:
            last[0] = time.perf_counter()
            print(f"engine: {done}/{total} series", file=sys.stderr, flush=True)
    return report


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Accuracy of the forecast engine on the M3 monthly series vs THETA and "
                    "ForecastPro.")
    parser.add_argument("--data", type=Path, default=M3_DIR,
                        help=f"folder with {SERIES_CSV} and {COMPETITORS_CSV}")
    parser.add_argument("--models", type=parse_models, default=list(DEFAULT_MODELS),
                        help="comma-separated candidate models (default: all, incl. prophet)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="engine worker processes (default: cpu count)")
    parser.add_argument("--series", type=int, default=None,
                        help="keep only this many series, evenly spread (default: all)")
    return parser


if __name__ == "__main__":
    sys.exit(main())
