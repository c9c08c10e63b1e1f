"""Forecast accuracy metrics: the one definition the backtest, the variance waterfall and the
benchmarks score with.

Errors are forecast - actual. Over a pool of months (one series, or a whole group):

- WAPE = sum |f - a| / sum a; bias = sum(f - a) / sum a (positive = over-forecast). Both are
  nan unless sum a > 0.
- MAE = mean |f - a|; RMSE = sqrt(mean (f - a)^2).
- sMAPE (M3/M4), in percent: 200 x mean(|f - a| / (|a| + |f|)); a month with a = f = 0
  counts 0.
- MASE = MAE / scale and RMSSE (M5) = sqrt(mean (f - a)^2 / squared scale), scaled by the
  series' in-sample naive errors (`naive_scales`): the mean absolute, and the mean squared,
  difference y[t] - y[t - 12] over the in-sample months. One fallback for short histories:
  with fewer than 13 in-sample months (no full season to difference), lag-1 differences
  y[t] - y[t - 1] instead. nan when the scale is 0 (a flat history) or cannot be computed
  (fewer than 2 in-sample months).
- scaled bias = mean(f - a) / the series' mean in-sample demand (`naive_scales`' `level`,
  every in-sample month, zero months included): the bias of intermittent and lumpy series,
  whose backtest actuals may sum to little (a few units make bias read +1,900 %). nan when
  that mean is 0 or there is no in-sample month.
- FVA = the baseline's metric - the model's (positive = better than the baseline).

A missing forecast (nan) adds no error, but its actual still counts in the pooled sum a; a
pool without any forecast scores nan. No metric is ever inf or raises on a zero denominator:
a series without demand simply has no score.

Two shapes from the same code: `scores` pools a long frame of errors per group (the backtest
per series x model, the waterfall per family x lag), and the scalar functions (`wape`,
`mase`, ...) score one pair of arrays by running `scores` on it as a single group.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

SEASON_LENGTH = 12
SERIES = "unique_id"
METRICS = ["wape", "bias", "mae", "rmse", "smape", "mase", "rmsse", "scaled_bias"]


def scores(
    errors: pd.DataFrame,
    by: Sequence[str] = (SERIES, "model"),
    scales: pd.DataFrame | None = None,
    actual: str = "y",
    forecast: str = "qty",
) -> pd.DataFrame:
    """Every metric per group of a long frame of forecasts and actuals, pooled over its rows.

    Returns one row per group: the `by` columns, then METRICS. scales (from naive_scales,
    indexed by unique_id, which must then be one of `by`) gives MASE and RMSSE; without it
    they are nan. Rows whose `by` key is missing are left out, as in a pandas groupby.
    """
    by = list(by)
    if scales is not None and scales.index.name not in by:
        raise ValueError(f"scaled metrics need {scales.index.name!r} among the groups {by}")
    actuals, forecasts = errors[actual].astype(float), errors[forecast].astype(float)
    error = forecasts - actuals
    both = actuals.abs() + forecasts.abs()
    parts = errors[by].assign(
        actual=actuals, error=error, abs_error=error.abs(), squared_error=error**2,
        smape_term=(2 * error.abs() / both.where(both != 0)).mask(both == 0, 0.0),
    )
    grouped = parts.groupby(by)
    sums = grouped[["actual", "error", "abs_error"]].sum(min_count=1)
    means = grouped[["error", "abs_error", "squared_error", "smape_term"]].mean()
    table = pd.DataFrame({
        "wape": _ratio(sums["abs_error"], sums["actual"]),
        "bias": _ratio(sums["error"], sums["actual"]),
        "mae": means["abs_error"],
        "rmse": np.sqrt(means["squared_error"]),
        "smape": 100 * means["smape_term"],
        "mase": np.nan,
        "rmsse": np.nan,
        "scaled_bias": np.nan,
    }, index=sums.index)
    if scales is not None:
        series = table.index.get_level_values(scales.index.name)
        scale = scales.reindex(series).set_axis(table.index)
        table["mase"] = _ratio(table["mae"], scale["scale"])
        table["rmsse"] = np.sqrt(_ratio(means["squared_error"], scale["squared_scale"]))
        table["scaled_bias"] = _ratio(means["error"], scale["level"])
    return table.reset_index()[[*by, *METRICS]]


def naive_scales(
    history: pd.DataFrame, season_length: int = SEASON_LENGTH, exclude_last: int = 0
) -> pd.DataFrame:
    """The in-sample naive scales of MASE (`scale`) and RMSSE (`squared_scale`), and the mean
    in-sample demand the scaled bias divides by (`level`), per series.

    history: long unique_id, y in time order. exclude_last drops each series' last months
    first, so that only in-sample months count (the backtest: those from its first origin
    on). Indexed by unique_id; see the module docstring for the lag and the nan rule.
    """
    rows = {}
    for unique_id, y in history.groupby(SERIES)["y"]:
        values = y.to_numpy(dtype=float)
        insample = values[:max(values.size - exclude_last, 0)]
        differences = _naive_differences(insample, season_length)
        rows[unique_id] = (_positive_mean(np.abs(differences)),
                           _positive_mean(differences**2), _positive_mean(insample))
    return pd.DataFrame.from_dict(rows, orient="index",
                                  columns=["scale", "squared_scale", "level"],
                                  dtype=float).rename_axis(SERIES)


def wape(actual: ArrayLike, forecast: ArrayLike) -> float:
    """Weighted absolute percentage error sum |f - a| / sum a; nan unless sum a > 0."""
    return _single(actual, forecast)["wape"]


def bias(actual: ArrayLike, forecast: ArrayLike) -> float:
    """Relative bias sum(f - a) / sum a: positive means over-forecast; nan unless sum a > 0."""
    return _single(actual, forecast)["bias"]


def smape(actual: ArrayLike, forecast: ArrayLike) -> float:
    """Symmetric MAPE in percent, 200 x mean(|f - a| / (|a| + |f|)); a = f = 0 counts 0."""
    return _single(actual, forecast)["smape"]


def mase(actual: ArrayLike, forecast: ArrayLike, insample: ArrayLike,
         season_length: int = SEASON_LENGTH) -> float:
    """Mean absolute scaled error: MAE over the in-sample naive MAE (lag 1 when too short)."""
    return _single(actual, forecast, insample, season_length)["mase"]


def rmsse(actual: ArrayLike, forecast: ArrayLike, insample: ArrayLike,
          season_length: int = SEASON_LENGTH) -> float:
    """Root mean squared scaled error (M5): sqrt(MSE over the in-sample naive MSE)."""
    return _single(actual, forecast, insample, season_length)["rmsse"]


def fva(baseline: float | pd.Series, model: float | pd.Series) -> float | pd.Series:
    """Forecast value added: the baseline's metric minus the model's (positive = better)."""
    return baseline - model


def _single(actual: ArrayLike, forecast: ArrayLike, insample: ArrayLike | None = None,
            season_length: int = SEASON_LENGTH) -> pd.Series:
    """Every metric of one pair of arrays: `scores` with the whole of it as one group."""
    actual_values, forecast_values = _paired(actual, forecast)
    if actual_values.size == 0:
        return pd.Series(np.nan, index=METRICS)
    errors = pd.DataFrame({SERIES: "series", "y": actual_values, "qty": forecast_values})
    scales = None
    if insample is not None:
        history = pd.DataFrame({SERIES: "series",
                                "y": np.asarray(insample, dtype=float).ravel()})
        scales = naive_scales(history, season_length)
    return scores(errors, [SERIES], scales).iloc[0][METRICS].astype(float)


def _paired(actual: ArrayLike, forecast: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Both inputs as float arrays of the same length."""
    actual_values = np.asarray(actual, dtype=float).ravel()
    forecast_values = np.asarray(forecast, dtype=float).ravel()
    if actual_values.shape != forecast_values.shape:
        raise ValueError(
            f"actual and forecast differ in length: {actual_values.size} vs "
            f"{forecast_values.size}"
        )
    return actual_values, forecast_values


def _naive_differences(insample: np.ndarray, season_length: int) -> np.ndarray:
    """y[t] - y[t - season_length], or y[t] - y[t - 1] when there is no full season."""
    lag = season_length if insample.size >= season_length + 1 else 1
    return insample[lag:] - insample[:-lag]


def _positive_mean(values: np.ndarray) -> float:
    """The mean, or nan when there is none or it is 0 (a scale to divide by)."""
    mean = float(values.mean()) if values.size else np.nan
    return mean if mean > 0 else np.nan


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator, nan where the denominator is not positive."""
    return numerator / denominator.where(denominator > 0)
