"""Forecast accuracy on PBS monthly scripts: every candidate model, the selected forecast and a
plain default Prophet, scored on a 12-month holdout.

Series are Concession|Type|ATC2 with all 204 months (1991-07..2008-06) and a non-zero total;
the engine sees the first 192 months and forecasts the last 12.

    .venv/bin/python benchmarks/pbs_accuracy.py --workers 2
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sop_pipeline.demand.candidates import ALL_MODELS, SEASON_LENGTH
from sop_pipeline.demand.forecast import ForecastSettings, forecast_demand
from sop_pipeline.demand.metrics import mase

REPO = Path(__file__).resolve().parents[1]
PBS_CSV = REPO.parent / "shared" / "data" / "pbs" / "PBS_monthly.csv"
FULL_MONTHS = 204
HOLDOUT_MONTHS = 12
SELECTED = "selected"
PLAIN_PROPHET = "plain Prophet()"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its tables; 0 also when the data is absent (skipped)."""
    args = _parser().parse_args(argv)
    if not args.data.exists():
        print(f"SKIPPED: PBS data not found at {args.data} (expected ../shared/data/pbs/ next to "
              "the repo; see /work/shared/data/pbs/SOURCE.txt)")
        return 0
    history, holdout, total_series = load_pbs(args.data, args.series)
    months = sorted(history["ds"].unique())
    print(f"PBS scripts: {history['unique_id'].nunique()} series kept of {total_series} "
          f"(all {FULL_MONTHS} months, non-zero total); history {_month(months[0])}.."
          f"{_month(months[-1])} ({len(months)} months), holdout {HOLDOUT_MONTHS} months")

    settings = ForecastSettings(horizon=HOLDOUT_MONTHS, models=tuple(args.models),
                                workers=args.workers,
                                prophet_max_series=args.prophet_max_series)
    print(f"engine: forecast_demand(horizon={settings.horizon}, workers={settings.workers}, "
          f"models={','.join(settings.models)}, "
          f"prophet_max_series={settings.prophet_max_series}); {engine_version()}")
    started = time.perf_counter()
    with _engine_log():
        forecast, accuracy = forecast_demand(history, settings, _progress("engine"))
    engine_seconds = time.perf_counter() - started
    print(f"engine time: {engine_seconds:.1f} s "
          f"({history['unique_id'].nunique() / engine_seconds:.2f} series/s)")

    scored = score_forecasts(forecast, holdout, history)
    plain_ids = _spread(sorted(history["unique_id"].unique()), args.plain_prophet_series)
    plain_seconds = None
    if plain_ids:
        started = time.perf_counter()
        plain = plain_prophet(history[history["unique_id"].isin(plain_ids)], HOLDOUT_MONTHS)
        plain_seconds = time.perf_counter() - started
        scored = pd.concat([scored, _score_rows(plain, holdout, history, PLAIN_PROPHET)])

    print()
    print(summary_table(scored, accuracy).to_string(index=False, float_format="{:.3f}".format))
    if plain_seconds is not None:
        print(f"{PLAIN_PROPHET}: {len(plain_ids)} series in {plain_seconds:.1f} s "
              f"({plain_seconds / len(plain_ids):.2f} s a series, one fit each, no backtest)")
    print()
    for line in comparison_lines(scored, accuracy):
        print(line)
    return 0


def load_pbs(path: Path, limit: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """(history, holdout, series in the file): long `unique_id, ds, y` of Scripts per series."""
    raw = pd.read_csv(path, usecols=["Month", "Concession", "Type", "ATC2", "Scripts"])
    raw["unique_id"] = raw["Concession"] + "|" + raw["Type"] + "|" + raw["ATC2"]
    long = raw.rename(columns={"Month": "ds", "Scripts": "y"})[["unique_id", "ds", "y"]]
    long["ds"] = pd.to_datetime(long["ds"])
    long["y"] = long["y"].astype(float)
    stats = long.groupby("unique_id")["y"].agg(["size", "sum"])
    kept = sorted(stats.index[(stats["size"] == FULL_MONTHS) & (stats["sum"] > 0)])
    if limit is not None:
        kept = _spread(kept, limit)
    long = long[long["unique_id"].isin(kept)].sort_values(["unique_id", "ds"], ignore_index=True)
    cutoff = long["ds"].max() - pd.DateOffset(months=HOLDOUT_MONTHS - 1)
    return long[long["ds"] < cutoff], long[long["ds"] >= cutoff], len(stats)


def engine_version() -> str:
    """The last commit of the engine (sop_pipeline/), and whether its files differ from it."""
    try:
        def git(*args: str) -> str:
            return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True,
                                  check=True).stdout.strip()
        commit = git("log", "-1", "--format=%h", "--", "sop_pipeline")
        changed = git("status", "--porcelain", "--", "sop_pipeline")
    except (OSError, subprocess.CalledProcessError):
        return "engine commit unknown"
    return f"engine at commit {commit}" + (" with local changes" if changed else "")


def score_forecasts(forecast: pd.DataFrame, holdout: pd.DataFrame, history: pd.DataFrame
                    ) -> pd.DataFrame:
    """Holdout errors per series of every model the engine fitted, and of its selection."""
    frames = [_score_rows(rows, holdout, history, str(model))
              for model, rows in forecast.groupby("model")]
    frames.append(_score_rows(forecast[forecast["is_selected"]], holdout, history, SELECTED))
    return pd.concat(frames, ignore_index=True)


def summary_table(scored: pd.DataFrame, accuracy: pd.DataFrame) -> pd.DataFrame:
    """One row per model: series scored, series selecting it, pooled WAPE, mean MASE, bias."""
    chosen = accuracy.loc[accuracy["is_selected"], "model"].value_counts()
    order = [*ALL_MODELS, "mean", SELECTED, PLAIN_PROPHET]
    rows = []
    for model in sorted(scored["model"].unique(), key=order.index):
        part = scored[scored["model"] == model]
        selected_by = {SELECTED: len(part), PLAIN_PROPHET: pd.NA}.get(model, chosen.get(model, 0))
        rows.append({
            "model": model,
            "series": len(part),
            "selected_by": selected_by,
            "wape": part["abs_error"].sum() / part["actual"].sum(),
            "mean_mase": part["mase"].mean(),
            "median_mase": part["mase"].median(),
            "bias": part["error"].sum() / part["actual"].sum(),
        })
    return pd.DataFrame(rows)


def comparison_lines(scored: pd.DataFrame, accuracy: pd.DataFrame) -> list[str]:
    """Where the selected forecast stands against seasonal naive and AutoETS, and why."""
    pooled = scored.groupby("model")[["abs_error", "actual"]].sum()
    wapes = pooled["abs_error"] / pooled["actual"]
    lines = []
    beaten = {}
    for model, label in (("seasonal_naive", "seasonal naive"), ("auto_ets", "AutoETS")):
        if model in wapes:
            # on the series the baseline was fitted on (AutoETS skips intermittent ones)
            ids = scored.loc[scored["model"] == model, "unique_id"]
            selected = _pooled(scored[(scored["model"] == SELECTED)
                                      & scored["unique_id"].isin(ids)])
            change = (selected - wapes[model]) / wapes[model]
            beaten[model] = (selected < wapes[model] if model == "seasonal_naive"
                             else selected <= wapes[model])
            lines.append(f"selected vs {label} on its {ids.nunique()} series: WAPE "
                         f"{selected:.4f} vs {wapes[model]:.4f} ({change:+.1%}): "
                         f"{'below' if selected < wapes[model] else 'NOT below'}")
    if {"seasonal_naive", "auto_ets"} <= set(wapes.index):
        target = beaten["seasonal_naive"] and beaten["auto_ets"]
        lines.append("target (selected below seasonal naive and at or below AutoETS): "
                     + ("met" if target else "NOT met"))

    per_series = scored[~scored["model"].isin([SELECTED, PLAIN_PROPHET])]
    per_series = per_series.assign(wape=per_series["abs_error"] / per_series["actual"])
    best = (per_series.dropna(subset=["wape"]).sort_values("wape")
            .drop_duplicates("unique_id").set_index("unique_id")["model"])
    chosen = accuracy[accuracy["is_selected"]].set_index("unique_id")["model"]
    hits = int((chosen.reindex(best.index) == best).sum())
    oracle = per_series.sort_values("wape").drop_duplicates("unique_id")
    lines.append(f"backtest choice was the holdout-best model in {hits} of {len(best)} series; "
                 f"holdout-best per series (oracle) WAPE "
                 f"{oracle['abs_error'].sum() / oracle['actual'].sum():.3f}")
    if "auto_ets" in wapes:
        backtest = accuracy.pivot(index="unique_id", columns="model", values="wape")
        lines.append("by selected model, choice vs AutoETS on those series: holdout WAPE "
                     "(pooled); backtest WAPE (median per series), series won by < 0.01:")
        for model, ids in chosen.groupby(chosen).groups.items():
            on_ids = per_series[per_series["unique_id"].isin(ids)]
            mine = on_ids[on_ids["model"] == model]
            ets = on_ids[on_ids["model"] == "auto_ets"]
            margin = (backtest.loc[ids, "auto_ets"] - backtest.loc[ids, model]).astype(float)
            lines.append(
                f"  {model:<15} {len(ids):>4} series, {mine['actual'].sum() / _volume(scored):5.1%}"
                f" of volume: holdout {_pooled(mine):.3f} vs {_pooled(ets):.3f}; backtest "
                f"{backtest.loc[ids, model].astype(float).median():.3f} vs "
                f"{backtest.loc[ids, 'auto_ets'].astype(float).median():.3f}, "
                f"{int((margin.abs() < 0.01).sum())} within 0.01")
    if PLAIN_PROPHET in wapes and (scored["model"] == PLAIN_PROPHET).sum() < len(chosen):
        ids = scored.loc[scored["model"] == PLAIN_PROPHET, "unique_id"]
        subset = scored[scored["unique_id"].isin(ids)].groupby("model")[["abs_error", "actual"]]
        sums = subset.sum()
        figures = ", ".join(f"{model} {row.abs_error / row.actual:.3f}"
                            for model, row in sums.iterrows())
        lines.append(f"on the {len(ids)} series of {PLAIN_PROPHET}: {figures}")
    return lines


def plain_prophet(history: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """What a user writes first: a default Prophet() per series, fit and predict, no settings."""
    from prophet import Prophet

    logging.getLogger("cmdstanpy").disabled = True  # log lines only, not a model setting
    rows = []
    for unique_id, series in history.groupby("unique_id"):
        model = Prophet()
        model.fit(series[["ds", "y"]])
        future = model.make_future_dataframe(periods=horizon, freq="MS", include_history=False)
        rows.append(pd.DataFrame({"unique_id": unique_id, "ds": future["ds"],
                                  "qty": model.predict(future)["yhat"].to_numpy()}))
    return pd.concat(rows, ignore_index=True)


def _score_rows(forecast: pd.DataFrame, holdout: pd.DataFrame, history: pd.DataFrame,
                model: str) -> pd.DataFrame:
    """Per series: sum of absolute error, error and actuals over the holdout, and MASE."""
    joined = holdout.merge(forecast[["unique_id", "ds", "qty"]], on=["unique_id", "ds"])
    insample = history.groupby("unique_id")["y"]
    rows = [{
        "model": model, "unique_id": unique_id,
        "abs_error": float((series["qty"] - series["y"]).abs().sum()),
        "error": float((series["qty"] - series["y"]).sum()),
        "actual": float(series["y"].sum()),
        "mase": mase(series["y"], series["qty"], insample.get_group(unique_id), SEASON_LENGTH),
    } for unique_id, series in joined.groupby("unique_id")]
    return pd.DataFrame(rows)


def _pooled(scored: pd.DataFrame) -> float:
    return float(scored["abs_error"].sum() / scored["actual"].sum())


def _volume(scored: pd.DataFrame) -> float:
    return float(scored.loc[scored["model"] == SELECTED, "actual"].sum())


def _spread(ids: list[str], count: int | None) -> list[str]:
    """`count` ids evenly spread over the sorted list (all when count is None or larger)."""
    if count is None or count >= len(ids):
        return list(ids)
    return [ids[i] for i in np.linspace(0, len(ids) - 1, count).round().astype(int)]


@contextlib.contextmanager
def _engine_log():
    """The engine's INFO lines (e.g. the Prophet priors it chose) printed with the figures."""
    class Printed(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            print(f"engine log: {record.getMessage()}")

    engine_logger, handler = logging.getLogger("sop_pipeline.demand.forecast"), Printed()
    level = engine_logger.level
    engine_logger.setLevel(logging.INFO)
    engine_logger.addHandler(handler)
    try:
        yield
    finally:
        engine_logger.removeHandler(handler)
        engine_logger.setLevel(level)


def _progress(label: str):
    def report(done: int, total: int) -> None:
        print(f"{label}: {done}/{total} series", file=sys.stderr, flush=True)
    return report


def _month(value) -> str:
    return pd.Timestamp(value).strftime("%Y-%m")


def parse_models(text: str) -> list[str]:
    """`--models a,b` → a list of known candidate model names."""
    models = [name.strip() for name in text.split(",") if name.strip()]
    unknown = sorted(set(models) - set(ALL_MODELS))
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown models {unknown}; choose from {ALL_MODELS}")
    return models


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Holdout accuracy of the forecast engine on PBS monthly scripts.")
    parser.add_argument("--data", type=Path, default=PBS_CSV, help="PBS_monthly.csv")
    parser.add_argument("--models", type=parse_models, default=list(ALL_MODELS),
                        help="comma-separated candidate models (default: all, incl. prophet)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="engine worker processes (default: cpu count)")
    parser.add_argument("--prophet-max-series", type=int,
                        default=ForecastSettings().prophet_max_series,
                        help="series Prophet may try, largest first (default: engine default)")
    parser.add_argument("--plain-prophet-series", type=int, default=None,
                        help="series for the plain Prophet() baseline (default: all; 0: skip)")
    parser.add_argument("--series", type=int, default=None,
                        help="keep only this many series, evenly spread (default: all)")
    return parser


if __name__ == "__main__":
    sys.exit(main())
