"""Demand forecast per series: candidate models judged by rolling-origin backtest.

A series is one sku x location in long format `unique_id, ds, y` (monthly, month-start `ds`,
zeros present); its id is `series_id(sku, location_id)` = "sku|location_id".

Rules, per series of n months (see `ForecastSettings` for the numbers):

- intermittent series (more than half of the months zero) select croston_sba when it was
  fitted: absolute-error scores reward forecasting zero on such series, which plans no stock.
  Only seasonal_naive (the FVA baseline) and croston_sba are fitted on them, which spares the
  costly models a fifth of the series. On the other series croston_sba is scored for
  reference but never selected.
- n >= backtest.min_months(): every candidate model is fitted at each of the backtest origins
  and scored on the months after it (WAPE, MASE, bias, RMSE: sop_pipeline.demand.metrics);
  the model with the lowest pooled WAPE is selected, ties keep seasonal_naive. Prophet is a
  candidate only with two full years before the first origin and for the `prophet_max_series`
  series with the most volume over the last 12 months (it costs ~0.1 s a fit, the others
  milliseconds).
- 12 <= n < backtest.min_months(): too short to judge: seasonal_naive, unscored.
- n < 12 or an all-zero history: `mean` of the last up-to-6 months, unscored.
- forecast value added (fva) = seasonal naive's WAPE minus the model's, on the same windows:
  positive when the model beats the naive baseline.
- Every value is clipped at 0 and ordered lower_95 <= lower_80 <= qty <= upper_80 <= upper_95.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from statistics import NormalDist

import numpy as np
import pandas as pd

from sop_pipeline.demand.candidates import (
    ALL_MODELS,
    LEVELS,
    PROPHET_PRIORS,
    SEASON_LENGTH,
    Backtest,
    choose_prophet_priors,
    naive_forecast,
    run_batch,
)
from sop_pipeline.demand.metrics import fva, naive_scales, scores
from sop_pipeline.tables import OUTPUT_TABLES, SERIES_KEY

logger = logging.getLogger(__name__)

MEAN_WINDOW = 6
BATCHES_PER_WORKER = 4
PROPHET_EXTRA_MONTHS = 12  # Prophet wants two full years before its first backtest origin
PRIOR_SAMPLE_SERIES = 6  # series that choose Prophet's priors each cycle (4 x 3 fits each)
INTERMITTENT_ZERO_SHARE = 0.5
INTERMITTENT_MODEL = "croston_sba"
INTERMITTENT_MODELS = ("seasonal_naive", INTERMITTENT_MODEL)  # fitted on intermittent series
BOUNDS = [f"{side}_{level}" for level in LEVELS for side in ("lower", "upper")]
# The engine's own long format (unique_id, ds); the stage renames to the tables' columns.
FORECAST_COLUMNS = ["unique_id", "ds", "model", "qty", *BOUNDS, "is_selected"]
ACCURACY_COLUMNS = ["unique_id", *(c for c in OUTPUT_TABLES["forecast_accuracy"].stage_columns
                                   if c not in SERIES_KEY)]


@dataclass(frozen=True)
class ForecastSettings:
    """What to forecast and how to judge it; the defaults suit monthly S&OP data."""

    horizon: int = 18
    models: tuple[str, ...] = ALL_MODELS
    backtest: Backtest = field(default_factory=Backtest)
    prophet_max_series: int = 300
    workers: int = 1

    def __post_init__(self) -> None:
        unknown = sorted(set(self.models) - set(ALL_MODELS))
        if unknown or "seasonal_naive" not in self.models:
            raise ValueError(f"models must include seasonal_naive and be among {ALL_MODELS}, "
                             f"got {self.models}")
        if self.horizon < 1 or self.workers < 1:
            raise ValueError("horizon and workers must be at least 1")


def series_id(sku: str, location_id: str) -> str:
    """The unique_id of one sku x location series: "sku|location_id"."""
    return f"{sku}|{location_id}"


def split_series_id(unique_id: str) -> tuple[str, str]:
    """Back from a unique_id to (sku, location_id); the last "|" separates them."""
    sku, separator, location_id = unique_id.rpartition("|")
    if not separator:
        raise ValueError(f"not a sku|location_id series id: {unique_id!r}")
    return sku, location_id


def with_sku_location(frame: pd.DataFrame) -> pd.DataFrame:
    """`unique_id` replaced by its sku and location_id columns."""
    ids = frame["unique_id"].drop_duplicates()
    parts = pd.DataFrame([split_series_id(u) for u in ids], columns=["sku", "location_id"],
                         index=ids.to_numpy())
    return frame.join(parts, on="unique_id").drop(columns="unique_id")


def forecast_demand(
    history: pd.DataFrame,
    settings: ForecastSettings | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    events: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Forecast every series with every eligible model, backtest them and select one each.

    Returns (forecast, accuracy) with FORECAST_COLUMNS and ACCURACY_COLUMNS. With
    settings.workers > 1, batches of series run in a process pool; on_progress(done, total)
    follows the series as batches finish. events (unique_id, ds, uplift_pct; past and future
    months) is Prophet's event regressor.
    """
    settings = settings or ForecastSettings()
    history = _clean_history(history)
    stats = history.groupby("unique_id")["y"].agg(
        n="size", total="sum", zero_share=lambda y: float((y == 0).mean())
    )
    if stats.empty:
        return pd.DataFrame(columns=FORECAST_COLUMNS), pd.DataFrame(columns=ACCURACY_COLUMNS)
    min_months = settings.backtest.min_months()
    judged = stats.index[(stats["n"] >= min_months) & (stats["total"] > 0)]
    naive = stats.index[(stats["n"] >= SEASON_LENGTH) & (stats["n"] < min_months)
                        & (stats["total"] > 0)]
    short = stats.index.difference(judged).difference(naive)

    forecasts = [_short_forecast(history[history["unique_id"].isin(short)], settings.horizon)]
    if len(naive):
        forecasts.append(naive_forecast(history[history["unique_id"].isin(naive)],
                                        settings.horizon))
    errors = []
    if len(judged):
        intermittent = stats.index[stats["zero_share"] > INTERMITTENT_ZERO_SHARE]
        regular = judged.difference(intermittent)
        largest = _prophet_ids(history, regular, settings)
        priors = PROPHET_PRIORS[0]
        if largest:
            sample = history[history["unique_id"].isin(largest[:PRIOR_SAMPLE_SERIES])]
            priors = choose_prophet_priors(sample, settings.backtest)
            logger.info("prophet priors (changepoint, seasonality) chosen by backtest: %s",
                        priors)
        intermittent_models = tuple(m for m in settings.models if m in INTERMITTENT_MODELS)
        groups = [(regular, settings.models),
                  (judged.intersection(intermittent), intermittent_models)]
        for forecast, error in _run_batches(
            [(history[history["unique_id"].isin(ids)], models) for ids, models in groups
             if len(ids)],
            settings, (frozenset(largest), priors), events, on_progress, len(stats),
        ):
            forecasts.append(forecast)
            errors.append(error)
    elif on_progress is not None:
        on_progress(len(stats), len(stats))
    forecast = _clip(pd.concat([f for f in forecasts if len(f)], ignore_index=True))
    scored = _scores(pd.concat(errors, ignore_index=True) if errors else None, history,
                     settings.backtest)
    return _select(forecast, scored, stats)


def _run_batches(
    groups: list[tuple[pd.DataFrame, tuple[str, ...]]], settings: ForecastSettings,
    prophet: tuple[frozenset[str], tuple[float, float]], events: pd.DataFrame | None,
    on_progress: Callable[[int, int], None] | None, total: int,
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """Yield (forecast, errors) per batch, inline or from a spawn process pool.

    groups: (history, candidate models) pairs; each group's series are split into batches.
    prophet: the series Prophet may try and its priors.
    """
    series = sum(history["unique_id"].nunique() for history, _ in groups)
    done = total - series
    jobs = [(batch, models, settings.horizon, settings.backtest, *prophet,
             None if events is None else events[events["unique_id"].isin(batch["unique_id"])])
            for history, models in groups
            for batch in _batches(history, series, settings.workers)]
    if settings.workers == 1:
        for job in jobs:
            result = run_batch(*job)
            done += job[0]["unique_id"].nunique()
            if on_progress is not None:
                on_progress(done, total)
            yield result
        return
    # spawn: workers start clean (no forked threads or locks from Dagster or cmdstanpy).
    with ProcessPoolExecutor(settings.workers, mp_context=get_context("spawn")) as pool:
        futures = {pool.submit(run_batch, *job): job[0]["unique_id"].nunique() for job in jobs}
        for future in as_completed(futures):
            done += futures[future]
            if on_progress is not None:
                on_progress(done, total)
            yield future.result()


def _prophet_ids(history: pd.DataFrame, regular: pd.Index, settings: ForecastSettings
                 ) -> list[str]:
    """The series Prophet may try, largest recent volume first: long enough, and the largest."""
    if "prophet" not in settings.models:
        return []
    candidates = history[history["unique_id"].isin(regular)]
    length = candidates.groupby("unique_id").size()
    long_enough = length.index[length >= settings.backtest.min_months() + PROPHET_EXTRA_MONTHS]
    recent = (candidates[candidates["unique_id"].isin(long_enough)]
              .groupby("unique_id")["y"].apply(lambda y: y.iloc[-12:].sum()))
    return list(recent.nlargest(settings.prophet_max_series).index)


def _short_forecast(history: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """Flat mean of the last up-to-6 months, +/- z times their standard deviation."""
    rows = []
    for unique_id, series in history.groupby("unique_id"):
        window = series["y"].to_numpy()[-MEAN_WINDOW:]
        future = pd.date_range(series["ds"].iloc[-1] + pd.offsets.MonthBegin(1),
                               periods=horizon, freq="MS")
        frame = pd.DataFrame({"unique_id": unique_id, "ds": future, "model": "mean",
                              "qty": window.mean()})
        for level in LEVELS:
            half = NormalDist().inv_cdf(0.5 + level / 200) * window.std()
            frame[f"lower_{level}"] = frame["qty"] - half
            frame[f"upper_{level}"] = frame["qty"] + half
        rows.append(frame)
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=FORECAST_COLUMNS)


def _clip(forecast: pd.DataFrame) -> pd.DataFrame:
    """Non-negative and nested: lower_95 <= lower_80 <= qty <= upper_80 <= upper_95."""
    out = forecast.copy()
    out["qty"] = out["qty"].clip(lower=0)
    out["lower_80"] = np.minimum(out["lower_80"], out["qty"]).clip(lower=0)
    out["upper_80"] = np.maximum(out["upper_80"], out["qty"])
    out["lower_95"] = np.minimum(out["lower_95"], out["lower_80"]).clip(lower=0)
    out["upper_95"] = np.maximum(out["upper_95"], out["upper_80"])
    return out


def _scores(errors: pd.DataFrame | None, history: pd.DataFrame, backtest: Backtest
            ) -> pd.DataFrame:
    """WAPE, MASE, bias and RMSE per series and model, pooled over the backtest windows.

    Forecasts are clipped at 0 first, as the final forecast is; MASE is scaled on each
    series' months before the first backtest origin.
    """
    columns = ["unique_id", "model", "wape", "mase", "bias", "rmse"]
    if errors is None or errors.empty:
        return pd.DataFrame(columns=columns)
    first_origin = backtest.horizon + (backtest.windows - 1) * backtest.step
    scales = naive_scales(history, SEASON_LENGTH, exclude_last=first_origin)
    return scores(errors.assign(qty=errors["qty"].clip(lower=0)), ["unique_id", "model"],
                  scales)[columns]


def _select(forecast: pd.DataFrame, scored: pd.DataFrame, stats: pd.DataFrame
            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pick the lowest backtest WAPE per series (ties keep seasonal_naive); add FVA."""
    fitted = forecast[["unique_id", "model"]].drop_duplicates()
    accuracy = fitted.merge(scored, on=["unique_id", "model"], how="left")
    naive = accuracy.loc[accuracy["model"] == "seasonal_naive", ["unique_id", "wape"]]
    accuracy = accuracy.merge(naive.rename(columns={"wape": "naive_wape"}), on="unique_id",
                              how="left")
    accuracy["fva"] = fva(accuracy["naive_wape"], accuracy["wape"])
    # rank: lowest WAPE first, seasonal_naive first among equals, unscored models last;
    # intermittent series put their intermittent-demand method first
    accuracy["_rank"] = accuracy["wape"].fillna(np.inf)
    intermittent = accuracy["unique_id"].map(stats["zero_share"]) > INTERMITTENT_ZERO_SHARE
    is_intermittent_model = accuracy["model"] == INTERMITTENT_MODEL
    accuracy.loc[intermittent & is_intermittent_model, "_rank"] = -np.inf
    accuracy.loc[~intermittent & is_intermittent_model, "_rank"] = np.inf
    accuracy["_naive_last"] = accuracy["model"] != "seasonal_naive"
    best = (accuracy.sort_values(["unique_id", "_rank", "_naive_last"])
            .drop_duplicates("unique_id")[["unique_id", "model"]])
    chosen = set(zip(best["unique_id"], best["model"], strict=True))
    accuracy["is_selected"] = [(u, m) in chosen for u, m in
                               zip(accuracy["unique_id"], accuracy["model"], strict=True)]
    accuracy["n_obs"] = accuracy["unique_id"].map(stats["n"]).astype(int)
    forecast = forecast.merge(accuracy[["unique_id", "model", "is_selected"]],
                              on=["unique_id", "model"])
    forecast = forecast.sort_values(["unique_id", "model", "ds"], ignore_index=True)
    accuracy = accuracy.sort_values(["unique_id", "model"], ignore_index=True)
    return forecast[FORECAST_COLUMNS], accuracy[ACCURACY_COLUMNS]


def _batches(history: pd.DataFrame, total: int, workers: int) -> Iterator[pd.DataFrame]:
    """Whole series grouped into about BATCHES_PER_WORKER batches per worker."""
    batch_size = max(1, math.ceil(total / (workers * BATCHES_PER_WORKER)))
    codes, _ = pd.factorize(history["unique_id"], sort=True)
    for _, batch in history.groupby(codes // batch_size, sort=True):
        yield batch


def _clean_history(history: pd.DataFrame) -> pd.DataFrame:
    """Typed, sorted copy of the history; rejects missing columns, nan, duplicate or gaps."""
    missing = {"unique_id", "ds", "y"} - set(history.columns)
    if missing:
        raise ValueError(f"history lacks columns {sorted(missing)}")
    clean = history[["unique_id", "ds", "y"]].copy()
    clean["unique_id"] = clean["unique_id"].astype(str)
    clean["ds"] = pd.to_datetime(clean["ds"])
    clean["y"] = clean["y"].astype(float)
    if clean["y"].isna().any():
        raise ValueError(f"history has {int(clean['y'].isna().sum())} rows with y = nan")
    duplicated = clean.duplicated(["unique_id", "ds"])
    if duplicated.any():
        raise ValueError(f"history has {int(duplicated.sum())} duplicate (unique_id, ds) rows")
    span = clean.groupby("unique_id")["ds"].agg(["min", "max", "size"])
    months = (span["max"].dt.year - span["min"].dt.year) * 12 + (
        span["max"].dt.month - span["min"].dt.month
    ) + 1
    gapped = span.index[months != span["size"]]
    if len(gapped):
        raise ValueError(
            f"history must be dense monthly (zeros included): {len(gapped)} series miss months, "
            f"e.g. {list(gapped[:3])}"
        )
    return clean.sort_values(["unique_id", "ds"], ignore_index=True)
