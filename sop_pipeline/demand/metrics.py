"""Forecast accuracy metrics used to score backtests and pick a model per series.

Every metric returns nan (never inf, never an exception) when its denominator is zero, so a
series with no demand in the holdout simply has no score instead of breaking the cycle.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def wape(actual: ArrayLike, forecast: ArrayLike) -> float:
    """Weighted absolute percentage error: sum|f - a| / sum|a|; nan when the actuals sum to 0."""
    actual_values, forecast_values = _paired(actual, forecast)
    scale = np.abs(actual_values).sum()
    if scale == 0:
        return float("nan")
    return float(np.abs(forecast_values - actual_values).sum() / scale)


def bias(actual: ArrayLike, forecast: ArrayLike) -> float:
    """Relative bias sum(f - a) / sum(a): positive means over-forecast; nan when sum(a) is 0."""
    actual_values, forecast_values = _paired(actual, forecast)
    total_actual = actual_values.sum()
    if total_actual == 0:
        return float("nan")
    return float((forecast_values - actual_values).sum() / total_actual)


def mase(
    actual: ArrayLike, forecast: ArrayLike, insample: ArrayLike, season_length: int = 12
) -> float:
    """Mean absolute scaled error: holdout MAE over the in-sample seasonal-naive MAE.

    The scale uses lag-1 differences when the history is shorter than season_length + 1; nan
    when the scale is 0 or cannot be computed (fewer than 2 in-sample points).
    """
    actual_values, forecast_values = _paired(actual, forecast)
    scale = _naive_scale(np.asarray(insample, dtype=float), season_length)
    if actual_values.size == 0 or not np.isfinite(scale) or scale == 0:
        return float("nan")
    return float(np.abs(forecast_values - actual_values).mean() / scale)


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


def _naive_scale(insample: np.ndarray, season_length: int) -> float:
    """Mean absolute seasonal difference of the history (lag 1 when too short for a season)."""
    lag = season_length if insample.size >= season_length + 1 else 1
    if insample.size < lag + 1:
        return float("nan")
    return float(np.abs(insample[lag:] - insample[:-lag]).mean())
