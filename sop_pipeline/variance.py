"""Forecast vs actual by lag: how good each cycle's forecast of one month turned out to be.

Lag is the number of months between the cycle that made a forecast and the month forecast:
lag 0 is the forecast made in the cycle of that very month, lag 3 the one made three cycles
before. Reading the same target month across lags shows whether forecasts improve as the
month gets closer (the forecast waterfall).
"""

from __future__ import annotations

import pandas as pd

KEY = ["sku", "location_id"]
VARIANCE_COLUMNS = [
    "target_month",
    "sku",
    "location_id",
    "lag",
    "forecast_cycle",
    "forecast_qty",
    "actual_qty",
    "error",
    "abs_error",
]


def forecast_vs_actual(
    forecasts: pd.DataFrame, actuals: pd.DataFrame, target_month: pd.Timestamp
) -> pd.DataFrame:
    """Every forecast made for target_month by a cycle <= target_month, against the actual.

    forecasts: cycle_month, sku, location_id, month, qty (selected forecasts of earlier cycles);
    actuals: sku, location_id, month, qty. A missing actual counts as 0; error = forecast - actual.
    """
    target = _month_start(target_month)
    made = forecasts.assign(
        cycle_month=_month_starts(forecasts["cycle_month"]), month=_month_starts(forecasts["month"])
    )
    made = made[(made["month"] == target) & (made["cycle_month"] <= target)]
    variance = made.groupby([*KEY, "cycle_month"], as_index=False)["qty"].sum().rename(
        columns={"cycle_month": "forecast_cycle", "qty": "forecast_qty"}
    )

    actual = actuals[_month_starts(actuals["month"]) == target]
    actual = actual.groupby(KEY, as_index=False)["qty"].sum().rename(columns={"qty": "actual_qty"})
    variance = variance.merge(actual, on=KEY, how="left").fillna({"actual_qty": 0.0})

    variance["target_month"] = target
    variance["lag"] = _months_between(variance["forecast_cycle"], target).astype(int)
    variance["forecast_qty"] = variance["forecast_qty"].astype(float)
    variance["actual_qty"] = variance["actual_qty"].astype(float)
    variance["error"] = variance["forecast_qty"] - variance["actual_qty"]
    variance["abs_error"] = variance["error"].abs()
    return variance.sort_values([*KEY, "lag"], ignore_index=True)[VARIANCE_COLUMNS]


def _month_start(month: pd.Timestamp | str) -> pd.Timestamp:
    """The first day of the month `month` falls in."""
    return pd.Timestamp(month).to_period("M").to_timestamp()


def _month_starts(months: pd.Series) -> pd.Series:
    """A column of dates moved to the first day of their month."""
    return pd.to_datetime(months).dt.to_period("M").dt.to_timestamp()


def _months_between(cycles: pd.Series, target: pd.Timestamp) -> pd.Series:
    """Whole months from each cycle month to the target month."""
    return (target.year - cycles.dt.year) * 12 + (target.month - cycles.dt.month)
