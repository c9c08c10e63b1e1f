"""First-version statistical demand forecast: candidate models per series, picked by backtest.

A series is one sku x location in long format `unique_id, ds, y` (monthly, month-start `ds`,
zeros present); its id is `series_id(sku, location_id)` = "sku|location_id".

Rules, per series of n months and a holdout of h months:

- seasonal_naive: repeats the last 12 months. Fitted when n >= 12; scored on the last h months
  (fit on the first n - h) when n >= 12 + h, otherwise unscored and selected by default.
  80 % interval: qty +/- z(0.9) * sigma * sqrt(k), sigma = root mean square of the in-sample
  seasonal differences y[t] - y[t-12] (the standard deviation of the 12 months when n = 12),
  k = seasons ahead (1 for months 1 to 12, 2 for 13 to 24, and so on).
- prophet: fitted only when n >= 24 + h (scored the same way); yearly seasonality, an 80 %
  interval from 200 samples drawn with a fixed seed, so reruns are identical. Fitted with
  L-BFGS: below 100 points prophet defaults to Newton with 10,000 iterations, which takes
  about 25 s on a noise-free series (prophet still falls back to Newton if L-BFGS fails).
- A model whose fit raises is dropped for that series (logged), never fatal.
- mean: used when no candidate can be fitted (n < 12) or the history is all zeros. Flat mean
  of the last up-to-6 months +/- z(0.9) * their standard deviation; all zeros give 0. Unscored.
- Selection: the fitted model with the strictly lowest holdout WAPE; ties and unscored (nan)
  series keep seasonal_naive (or mean when it is the only model). Exactly one model per
  series has is_selected = True, in both returned frames.
- All values are clipped at 0 and ordered lower <= qty <= upper; backtest scores use the
  clipped forecasts, the numbers a planner would have seen.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from statistics import NormalDist

import numpy as np
import pandas as pd

from sop_pipeline.metrics import bias, mase, wape

logger = logging.getLogger(__name__)

SEASON_LENGTH = 12
MEAN_WINDOW = 6
PROPHET_MIN_MONTHS = 24
PROPHET_SAMPLES = 200
PROPHET_SEED = 0
INTERVAL_Z = NormalDist().inv_cdf(0.9)  # 80 % two-sided interval
BATCHES_PER_WORKER = 4
CANDIDATE_MODELS = ("seasonal_naive", "prophet")
FORECAST_COLUMNS = ["unique_id", "ds", "model", "qty", "lower", "upper", "is_selected"]
ACCURACY_COLUMNS = ["unique_id", "model", "wape", "mase", "bias", "n_obs", "is_selected"]

Interval = tuple[np.ndarray, np.ndarray, np.ndarray]  # qty, lower, upper


def series_id(sku: str, location_id: str) -> str:
    """The unique_id of one sku x location series: "sku|location_id"."""
    return f"{sku}|{location_id}"


def split_series_id(unique_id: str) -> tuple[str, str]:
    """Back from a unique_id to (sku, location_id); the last "|" separates them."""
    sku, separator, location_id = unique_id.rpartition("|")
    if not separator:
        raise ValueError(f"not a sku|location_id series id: {unique_id!r}")
    return sku, location_id


def forecast_demand(
    history: pd.DataFrame,
    horizon: int = 18,
    holdout: int = 6,
    models: tuple[str, ...] = ("seasonal_naive", "prophet"),
    workers: int = 1,
    on_progress: Callable[[int, int], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Forecast `horizon` months per series with every fittable model; score and pick one.

    Returns (forecast, accuracy); see the module docstring for the rules. workers > 1 fits
    batches of series in a process pool; on_progress(done_series, total_series) follows them.
    """
    _check_arguments(horizon, holdout, models, workers)
    history = _clean_history(history)
    total = history["unique_id"].nunique()
    if total == 0:
        return pd.DataFrame(columns=FORECAST_COLUMNS), pd.DataFrame(columns=ACCURACY_COLUMNS)

    results: list[tuple[pd.DataFrame, pd.DataFrame]] = []
    done = 0
    batches = _batches(history, total, workers)
    if workers == 1:
        for batch in batches:
            results.append(_forecast_batch(batch, horizon, holdout, models))
            done += batch["unique_id"].nunique()
            if on_progress is not None:
                on_progress(done, total)
    else:
        # spawn: workers start clean (no forked threads or locks from Dagster or cmdstanpy).
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            futures = {
                pool.submit(_forecast_batch, batch, horizon, holdout, models):
                    batch["unique_id"].nunique()
                for batch in batches
            }
            for future in as_completed(futures):
                results.append(future.result())
                done += futures[future]
                if on_progress is not None:
                    on_progress(done, total)

    forecast = pd.concat([f for f, _ in results], ignore_index=True)
    accuracy = pd.concat([a for _, a in results], ignore_index=True)
    forecast = forecast.sort_values(["unique_id", "model", "ds"], ignore_index=True)
    accuracy = accuracy.sort_values(["unique_id", "model"], ignore_index=True)
    return forecast[FORECAST_COLUMNS], accuracy[ACCURACY_COLUMNS]


def _check_arguments(horizon: int, holdout: int, models: tuple[str, ...], workers: int) -> None:
    """Fail early on arguments that would silently produce nothing."""
    if horizon < 1:
        raise ValueError(f"horizon must be at least 1 month, got {horizon}")
    if holdout < 0:
        raise ValueError(f"holdout cannot be negative, got {holdout}")
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    unknown = sorted(set(models) - set(CANDIDATE_MODELS))
    if unknown or not models:
        raise ValueError(f"models must be among {CANDIDATE_MODELS}, got {models}")


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


def _batches(history: pd.DataFrame, total: int, workers: int) -> Iterator[pd.DataFrame]:
    """Whole series grouped into about BATCHES_PER_WORKER batches per worker."""
    batch_size = max(1, math.ceil(total / (workers * BATCHES_PER_WORKER)))
    codes, _ = pd.factorize(history["unique_id"], sort=True)
    for _, batch in history.groupby(codes // batch_size, sort=True):
        yield batch


def _forecast_batch(
    history: pd.DataFrame, horizon: int, holdout: int, models: tuple[str, ...]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Forecast and score a batch of whole series; top-level so a process pool can pickle it."""
    _quiet_prophet()
    forecasts: list[pd.DataFrame] = []
    scores: list[dict[str, object]] = []
    for unique_id, series in history.groupby("unique_id", sort=True):
        series_forecast, series_scores = _forecast_series(
            str(unique_id), series["ds"], series["y"].to_numpy(), horizon, holdout, models
        )
        forecasts.append(series_forecast)
        scores.extend(series_scores)
    return pd.concat(forecasts, ignore_index=True), pd.DataFrame(scores)


def _forecast_series(
    unique_id: str,
    ds: pd.Series,
    y: np.ndarray,
    horizon: int,
    holdout: int,
    models: tuple[str, ...],
) -> tuple[pd.DataFrame, list[dict[str, object]]]:
    """All fittable models for one series, their holdout scores and the selected model."""
    future = pd.date_range(ds.iloc[-1] + pd.offsets.MonthBegin(1), periods=horizon, freq="MS")
    fitted: dict[str, Interval] = {}
    scored: dict[str, dict[str, float]] = {}
    if y.any():
        for model in models:
            min_fit, min_score = _min_months(model, holdout)
            if y.size < min_fit:
                continue
            try:
                fitted[model] = _clip(*_FITTERS[model](ds, y, horizon))
                if holdout and y.size >= min_score:
                    scored[model] = _backtest(model, ds, y, holdout)
            except Exception:
                logger.warning("%s could not be fitted for %s", model, unique_id, exc_info=True)
                fitted.pop(model, None)
    if not fitted:
        fitted["mean"] = _clip(*_mean(ds, y, horizon))
    selected = _select(list(fitted), scored)

    forecast = pd.concat(
        [
            pd.DataFrame(
                {"unique_id": unique_id, "ds": future, "model": model, "qty": qty,
                 "lower": lower, "upper": upper, "is_selected": model == selected}
            )
            for model, (qty, lower, upper) in fitted.items()
        ],
        ignore_index=True,
    )
    nan_scores = {"wape": np.nan, "mase": np.nan, "bias": np.nan}
    accuracy = [
        {"unique_id": unique_id, "model": model, **scored.get(model, nan_scores),
         "n_obs": int(y.size), "is_selected": model == selected}
        for model in fitted
    ]
    return forecast, accuracy


def _min_months(model: str, holdout: int) -> tuple[int, int]:
    """(months needed to fit, months needed to score) for a candidate model."""
    if model == "seasonal_naive":
        return SEASON_LENGTH, SEASON_LENGTH + holdout
    return PROPHET_MIN_MONTHS + holdout, PROPHET_MIN_MONTHS + holdout


def _backtest(model: str, ds: pd.Series, y: np.ndarray, holdout: int) -> dict[str, float]:
    """Fit on all but the last `holdout` months, forecast them and score the clipped result."""
    train, actual = y[:-holdout], y[-holdout:]
    fitter = _prophet_point if model == "prophet" else _FITTERS[model]
    qty, _, _ = _clip(*fitter(ds.iloc[:-holdout], train, holdout))
    return {
        "wape": wape(actual, qty),
        "mase": mase(actual, qty, train, season_length=SEASON_LENGTH),
        "bias": bias(actual, qty),
    }


def _select(fitted: list[str], scored: dict[str, dict[str, float]]) -> str:
    """Strictly lowest finite WAPE wins; otherwise seasonal_naive (or the first fitted model)."""
    best = "seasonal_naive" if "seasonal_naive" in fitted else fitted[0]
    best_wape = scored.get(best, {}).get("wape", np.nan)
    for model in fitted:
        model_wape = scored.get(model, {}).get("wape", np.nan)
        if np.isfinite(model_wape) and not (np.isfinite(best_wape) and model_wape >= best_wape):
            best, best_wape = model, model_wape
    return best


def _clip(qty: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> Interval:
    """Non-negative values ordered lower ≤ qty ≤ upper."""
    qty = np.clip(np.asarray(qty, dtype=float), 0, None)
    lower = np.clip(np.minimum(np.asarray(lower, dtype=float), qty), 0, None)
    upper = np.maximum(np.asarray(upper, dtype=float), qty)
    return qty, lower, upper


def _seasonal_naive(ds: pd.Series, y: np.ndarray, horizon: int) -> Interval:
    """Repeat the last 12 months; the interval widens with the square root of seasons ahead."""
    steps = np.arange(horizon)
    qty = y[-SEASON_LENGTH:][steps % SEASON_LENGTH]
    residuals = y[SEASON_LENGTH:] - y[:-SEASON_LENGTH]
    sigma = np.sqrt(np.mean(residuals**2)) if residuals.size else np.std(y)
    half_width = INTERVAL_Z * sigma * np.sqrt(steps // SEASON_LENGTH + 1)
    return qty, qty - half_width, qty + half_width


def _mean(ds: pd.Series, y: np.ndarray, horizon: int) -> Interval:
    """Flat mean of the last up-to-6 months, +/- z times their standard deviation."""
    window = y[-MEAN_WINDOW:]
    qty = np.full(horizon, window.mean())
    half_width = INTERVAL_Z * window.std()
    return qty, qty - half_width, qty + half_width


def _prophet_point(ds: pd.Series, y: np.ndarray, horizon: int) -> Interval:
    """Prophet without its sampled interval: a backtest scores the point forecast only."""
    return _prophet(ds, y, horizon, samples=0)


def _prophet(ds: pd.Series, y: np.ndarray, horizon: int, samples: int = PROPHET_SAMPLES
             ) -> Interval:
    """Prophet with yearly seasonality; the sampled interval is seeded for repeatable runs."""
    from prophet import Prophet  # deferred: importing prophet costs about a second

    model = Prophet(
        yearly_seasonality=True,
        weekly_seasonality=False,
        daily_seasonality=False,
        interval_width=0.8,
        uncertainty_samples=samples,
    )
    # L-BFGS, not prophet's small-data default Newton: same fit, 100x faster on smooth series.
    model.fit(pd.DataFrame({"ds": ds.to_numpy(), "y": y}), algorithm="LBFGS")
    future = model.make_future_dataframe(periods=horizon, freq="MS", include_history=False)
    random_state = np.random.get_state()
    np.random.seed(PROPHET_SEED)  # prophet samples its interval from numpy's global generator
    try:
        prediction = model.predict(future)
    finally:
        np.random.set_state(random_state)
    qty = prediction["yhat"].to_numpy()
    if not samples:
        return qty, qty, qty
    return qty, prediction["yhat_lower"].to_numpy(), prediction["yhat_upper"].to_numpy()


def _quiet_prophet() -> None:
    """Silence cmdstanpy's per-fit lines and prophet's info chatter (in every worker too)."""
    import prophet  # noqa: F401  (importing prophet resets its logger to INFO: import first)

    logging.getLogger("cmdstanpy").disabled = True
    logging.getLogger("prophet").setLevel(logging.ERROR)


_FITTERS: dict[str, Callable[[pd.Series, np.ndarray, int], Interval]] = {
    "seasonal_naive": _seasonal_naive,
    "prophet": _prophet,
}
