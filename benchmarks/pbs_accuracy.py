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
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from sop_pipeline.demand.candidates import ALL_MODELS, SEASON_LENGTH
from sop_pipeline.demand.forecast import DEFAULT_MODELS, ForecastSettings, forecast_demand
from sop_pipeline.demand.metrics import naive_scales, scores, wape

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
    with engine_log():
        forecast, accuracy = forecast_demand(history, settings, _progress("engine"))
    engine_seconds = time.perf_counter() - started
    print(f"engine time: {engine_seconds:.1f} s "
          f"({history['unique_id'].nunique() / engine_seconds:.2f} series/s)")

    errors = holdout_errors(forecast, holdout)
    plain_ids = _spread(sorted(history["unique_id"].unique()), args.plain_prophet_series)
    plain_seconds = None
    if plain_ids:
        started = time.perf_counter()
        plain = plain_prophet(history[history["unique_id"].isin(plain_ids)], HOLDOUT_MONTHS)
        plain_seconds = time.perf_counter() - started
        errors = pd.concat([errors, _joined(plain, holdout, PLAIN_PROPHET)], ignore_index=True)

    scored = series_scores(errors, history)
    print()
    print(summary_table(errors, scored, accuracy).to_string(index=False,
                                                            float_format="{:.3f}".format))
    if plain_seconds is not None:
        print(f"{PLAIN_PROPHET}: {len(plain_ids)} series in {plain_seconds:.1f} s "
              f"({plain_seconds / len(plain_ids):.2f} s a series, one fit each, no backtest)")
    print()
    for line in comparison_lines(errors, scored, accuracy):
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


def holdout_errors(forecast: pd.DataFrame, holdout: pd.DataFrame) -> pd.DataFrame:
    """The holdout months of every model the engine fitted, and of its selection, against the
    actuals: long model, unique_id, ds, y, qty."""
    frames = [_joined(rows, holdout, str(model)) for model, rows in forecast.groupby("model")]
    frames.append(_joined(forecast[forecast["is_selected"]], holdout, SELECTED))
    return pd.concat(frames, ignore_index=True)


def series_scores(errors: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    """Per series and model: every metric of sop_pipeline.demand.metrics over `errors`
    (unique_id, model, y, qty), MASE and RMSSE scaled on `history`, the in-sample months."""
    return scores(errors, ["unique_id", "model"], naive_scales(history, SEASON_LENGTH))


def summary_table(errors: pd.DataFrame, scored: pd.DataFrame, accuracy: pd.DataFrame
                  ) -> pd.DataFrame:
    """One row per model: series scored, series selecting it, pooled WAPE, mean MASE, bias."""
    chosen = accuracy.loc[accuracy["is_selected"], "model"].value_counts()
    pooled = scores(errors, ["model"]).set_index("model")
    order = [*ALL_MODELS, "mean", SELECTED, PLAIN_PROPHET]
    rows = []
    for model in sorted(pooled.index, key=order.index):
        part = scored[scored["model"] == model]
        selected_by = {SELECTED: len(part), PLAIN_PROPHET: pd.NA}.get(model, chosen.get(model, 0))
        rows.append({
            "model": model,
            "series": len(part),
            "selected_by": selected_by,
            "wape": pooled.loc[model, "wape"],
            "mean_mase": part["mase"].mean(),
            "median_mase": part["mase"].median(),
            "bias": pooled.loc[model, "bias"],
        })
    return pd.DataFrame(rows)


def comparison_lines(errors: pd.DataFrame, scored: pd.DataFrame, accuracy: pd.DataFrame
                     ) -> list[str]:
    """Where the selected forecast stands against seasonal naive and AutoETS, and why.

    The holdout-best model of a series is the one with the lowest holdout MAE: the lowest
    WAPE where the series has holdout demand, and still defined where it has none.
    """
    wapes = scores(errors, ["model"]).set_index("model")["wape"]
    lines = []
    beaten = {}
    for model, label in (("seasonal_naive", "seasonal naive"), ("auto_ets", "AutoETS")):
        if model in wapes:
            # on the series the baseline was fitted on (AutoETS skips intermittent ones)
            ids = errors.loc[errors["model"] == model, "unique_id"]
            selected = _pooled(errors, SELECTED, ids)
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

    fitted = scored[~scored["model"].isin([SELECTED, PLAIN_PROPHET])]
    best = (fitted.sort_values(["mae", "model"]).drop_duplicates("unique_id")
            .set_index("unique_id")["model"])
    chosen = accuracy[accuracy["is_selected"]].set_index("unique_id")["model"]
    hits = int((chosen.reindex(best.index) == best).sum())
    oracle = errors[errors["model"] == errors["unique_id"].map(best)]
    lines.append(f"backtest choice was the holdout-best model in {hits} of {len(best)} series; "
                 f"holdout-best per series (oracle) WAPE "
                 f"{wape(oracle['y'], oracle['qty']):.3f}")
    if "auto_ets" in wapes:
        backtest = accuracy.pivot(index="unique_id", columns="model", values="wape")
        volume = errors.loc[errors["model"] == SELECTED, "y"].sum()
        lines.append("by selected model, choice vs AutoETS on those series: holdout WAPE "
                     "(pooled); backtest WAPE (median per series), series won by < 0.01:")
        for model, ids in chosen.groupby(chosen).groups.items():
            share = errors.loc[(errors["model"] == model) & errors["unique_id"].isin(ids),
                               "y"].sum() / volume
            margin = (backtest.loc[ids, "auto_ets"] - backtest.loc[ids, model]).astype(float)
            lines.append(
                f"  {model:<15} {len(ids):>4} series, {share:5.1%}"
                f" of volume: holdout {_pooled(errors, model, ids):.3f} vs "
                f"{_pooled(errors, 'auto_ets', ids):.3f}; backtest "
                f"{backtest.loc[ids, model].astype(float).median():.3f} vs "
                f"{backtest.loc[ids, 'auto_ets'].astype(float).median():.3f}, "
                f"{int((margin.abs() < 0.01).sum())} within 0.01")
    plain_ids = errors.loc[errors["model"] == PLAIN_PROPHET, "unique_id"].unique()
    if 0 < len(plain_ids) < len(chosen):
        subset = scores(errors[errors["unique_id"].isin(plain_ids)], ["model"])
        figures = ", ".join(f"{row.model} {row.wape:.3f}" for row in subset.itertuples())
        lines.append(f"on the {len(plain_ids)} series of {PLAIN_PROPHET}: {figures}")
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


def _joined(forecast: pd.DataFrame, holdout: pd.DataFrame, model: str) -> pd.DataFrame:
    """The holdout actuals of the forecast's series and months, with its qty, as `model`."""
    joined = holdout.merge(forecast[["unique_id", "ds", "qty"]], on=["unique_id", "ds"])
    return joined.assign(model=model)[["model", "unique_id", "ds", "y", "qty"]]


def _pooled(errors: pd.DataFrame, model: str, ids: pd.Series | pd.Index) -> float:
    """WAPE of `model` pooled over the series `ids`."""
    rows = errors[(errors["model"] == model) & errors["unique_id"].isin(ids)]
    return wape(rows["y"], rows["qty"])


def _spread(ids: list[str], count: int | None) -> list[str]:
    """`count` ids evenly spread over the sorted list (all when count is None or larger)."""
    if count is None or count >= len(ids):
        return list(ids)
    return [ids[i] for i in np.linspace(0, len(ids) - 1, count).round().astype(int)]


@contextlib.contextmanager
def engine_log() -> Iterator[None]:
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
    parser.add_argument("--models", type=parse_models, default=list(DEFAULT_MODELS),
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
