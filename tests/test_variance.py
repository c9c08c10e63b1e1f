"""Forecast vs actual by lag on a hand-computed waterfall."""

import pandas as pd
import pytest

from sop_pipeline.variance import VARIANCE_COLUMNS, forecast_vs_actual

TARGET = pd.Timestamp("2026-11-01")


@pytest.fixture
def variance() -> pd.DataFrame:
    rows = [  # cycle_month, sku, month, qty
        ("2026-11-01", "A", "2026-11-01", 100.0),
        ("2026-10-01", "A", "2026-11-01", 90.0),
        ("2026-08-01", "A", "2026-11-01", 120.0),
        ("2025-12-01", "A", "2026-11-01", 70.0),
        ("2026-12-01", "A", "2026-11-01", 999.0),  # made after the target month: excluded
        ("2026-10-01", "A", "2026-12-01", 888.0),  # another target month: excluded
        ("2026-10-01", "B", "2026-11-01", 50.0),
    ]
    forecasts = pd.DataFrame(rows, columns=["cycle_month", "sku", "month", "qty"]).assign(
        location_id="DC1"
    )
    for column in ("cycle_month", "month"):
        forecasts[column] = pd.to_datetime(forecasts[column])
    actuals = pd.DataFrame(
        {"sku": ["A", "A", "A"], "location_id": "DC1",
         "month": pd.to_datetime(["2026-11-01", "2026-11-01", "2026-10-01"]),
         "qty": [60.0, 50.0, 80.0]}
    )
    return forecast_vs_actual(forecasts, actuals, TARGET)


def test_every_earlier_cycle_gives_one_row_by_lag(variance):
    assert list(variance.columns) == VARIANCE_COLUMNS
    a = variance[variance["sku"] == "A"].set_index("lag")
    assert sorted(a.index) == [0, 1, 3, 11]
    assert a.loc[11, "forecast_cycle"] == pd.Timestamp("2025-12-01")  # across the year end
    assert (variance["target_month"] == TARGET).all()


def test_error_is_forecast_minus_summed_actual(variance):
    a = variance[variance["sku"] == "A"].set_index("lag")
    assert (a["actual_qty"] == 110.0).all()  # 60 + 50; October's 80 is not counted
    assert a["forecast_qty"].to_dict() == {0: 100.0, 1: 90.0, 3: 120.0, 11: 70.0}
    assert a["error"].to_dict() == {0: -10.0, 1: -20.0, 3: 10.0, 11: -40.0}
    assert a["abs_error"].to_dict() == {0: 10.0, 1: 20.0, 3: 10.0, 11: 40.0}


def test_missing_actual_counts_as_zero(variance):
    b = variance[variance["sku"] == "B"].iloc[0]
    assert (b["lag"], b["actual_qty"], b["error"], b["abs_error"]) == (1, 0.0, 50.0, 50.0)
