"""Accuracy metrics on hand-computed cases, as scalars and grouped."""

import math

import numpy as np
import pandas as pd
import pytest

from sop_pipeline.demand.metrics import (
    METRICS,
    bias,
    fva,
    mase,
    naive_scales,
    rmsse,
    scores,
    smape,
    wape,
)

SEASONAL = [*range(1, 13), 3, 4]  # seasonal differences 3-1 and 4-2: scale 2, squared 4


def test_wape_is_total_absolute_error_over_total_actual():
    # |12-10| + |18-20| + |30-30| = 4 over 60
    assert wape([10, 20, 30], [12, 18, 30]) == pytest.approx(4 / 60)


def test_bias_sign_says_over_or_under_forecast():
    assert bias([10, 20, 30], [12, 18, 36]) == pytest.approx(6 / 60)
    assert bias([10, 20, 30], [5, 10, 15]) == pytest.approx(-0.5)


def test_zero_actuals_give_nan_not_inf():
    assert math.isnan(wape([0, 0], [1, 2]))
    assert math.isnan(bias([0, 0], [1, 2]))


def test_smape_is_in_percent_and_counts_a_double_zero_as_zero():
    # terms 2*10/210, 0 (both zero), 2*50/50
    assert smape([100, 0, 50], [110, 0, 0]) == pytest.approx(100 * (20 / 210 + 0 + 2) / 3)
    assert smape([0, 0], [0, 0]) == 0


def test_mase_scales_by_seasonal_differences():
    # MAE (|16-10| + |10-10|) / 2 = 3, over 2
    assert mase([10, 10], [16, 10], SEASONAL) == pytest.approx(1.5)


def test_rmsse_scales_the_squared_error_by_squared_seasonal_differences():
    # MSE (36 + 0) / 2 = 18 over the mean squared seasonal difference 4
    assert rmsse([10, 10], [16, 10], SEASONAL) == pytest.approx(math.sqrt(18 / 4))


def test_short_history_falls_back_to_lag_one():
    # 3 points < 13: lag-1 differences 2 and 4: scale 3, squared (4 + 16) / 2 = 10; error 6
    assert mase([20], [26], [10, 12, 16]) == pytest.approx(2.0)
    assert rmsse([20], [26], [10, 12, 16]) == pytest.approx(math.sqrt(36 / 10))
    # exactly 12 points is still too short for a seasonal difference: lag-1 scale 1
    assert mase([0], [2], list(range(12))) == pytest.approx(2.0)


def test_scaled_errors_are_nan_when_the_history_is_flat_or_too_short():
    for metric in (mase, rmsse):
        assert math.isnan(metric([5, 6], [5, 5], [5] * 24))
        assert math.isnan(metric([5], [5], [7]))
        assert math.isnan(metric([5], [5], []))


def test_fva_is_the_baseline_metric_minus_the_model_metric():
    assert fva(0.3, 0.2) == pytest.approx(0.1)  # better than the baseline: positive
    assert list(fva(pd.Series([0.1, 0.4]), pd.Series([0.2, 0.4]))) == pytest.approx([-0.1, 0])


def test_a_missing_forecast_adds_no_error_but_its_actual_still_counts():
    assert wape([10, 20], [12, np.nan]) == pytest.approx(2 / 30)
    assert math.isnan(wape([10, 20], [np.nan, np.nan]))


def test_lengths_must_match():
    with pytest.raises(ValueError, match="differ in length"):
        wape([1, 2], [1])


def test_scores_pool_each_group_and_agree_with_the_scalar_functions():
    errors = pd.DataFrame({
        "unique_id": ["A"] * 4 + ["B"] * 2,
        "model": ["m1", "m1", "m2", "m2", "m1", "m1"],
        "y": [10.0, 20.0, 10.0, 20.0, 4.0, 0.0],
        "qty": [12.0, 18.0, 10.0, 26.0, 0.0, 0.0],
    })
    history = pd.DataFrame({"unique_id": ["A"] * 14 + ["B"] * 3,
                            "y": [*SEASONAL, 1.0, 3.0, 2.0]})  # B: lag-1 scale 1.5
    table = scores(errors, scales=naive_scales(history)).set_index(["unique_id", "model"])

    assert list(table.columns) == METRICS
    a1 = table.loc[("A", "m1")]
    assert (a1["wape"], a1["bias"], a1["mae"]) == pytest.approx((4 / 30, 0.0, 2.0))
    assert (a1["rmse"], a1["mase"], a1["rmsse"]) == pytest.approx((2.0, 1.0, 1.0))
    assert table.loc[("A", "m2"), "bias"] == pytest.approx(6 / 30)
    b1 = table.loc[("B", "m1")]
    assert (b1["wape"], b1["mase"], b1["smape"]) == pytest.approx((1.0, 2 / 1.5, 100.0))

    for (unique_id, model), row in table.iterrows():
        part = errors[(errors["unique_id"] == unique_id) & (errors["model"] == model)]
        insample = history.loc[history["unique_id"] == unique_id, "y"]
        assert row["wape"] == pytest.approx(wape(part["y"], part["qty"]))
        assert row["bias"] == pytest.approx(bias(part["y"], part["qty"]))
        assert row["smape"] == pytest.approx(smape(part["y"], part["qty"]))
        assert row["mase"] == pytest.approx(mase(part["y"], part["qty"], insample))
        assert row["rmsse"] == pytest.approx(rmsse(part["y"], part["qty"], insample))

    pooled = scores(errors, ["model"]).set_index("model")  # over both series, unscaled
    assert pooled.loc["m1", "wape"] == pytest.approx((2 + 2 + 4) / 34)
    assert pooled[["mase", "rmsse"]].isna().all().all()


def test_scores_need_the_series_among_the_groups_to_scale():
    errors = pd.DataFrame({"unique_id": ["A"], "model": ["m"], "y": [1.0], "qty": [1.0]})
    scales = naive_scales(pd.DataFrame({"unique_id": "A", "y": [1.0, 2.0]}))
    with pytest.raises(ValueError, match="'unique_id' among the groups"):
        scores(errors, ["model"], scales)


def test_naive_scales_leave_out_the_last_months_first():
    history = pd.DataFrame({"unique_id": "A", "y": np.arange(36, dtype=float)})
    seasonal = naive_scales(history, exclude_last=18).loc["A"]  # 18 months: lag 12
    assert (seasonal["scale"], seasonal["squared_scale"]) == (12.0, 144.0)
    assert naive_scales(history, exclude_last=24).loc["A", "scale"] == 1.0  # 12: lag 1
    assert math.isnan(naive_scales(history, exclude_last=35).loc["A", "scale"])


def test_scaled_bias_divides_the_mean_error_by_the_mean_insample_demand():
    # intermittent: backtest actuals sum to 2, so bias reads +50 %; the demand rate before
    # the backtest is 2 a month, so the forecast leans 1/3 unit a month, 1/6 of that rate
    history = pd.DataFrame({"unique_id": ["A"] * 9 + ["B"] * 4,
                            "y": [0.0, 0.0, 4.0, 0.0, 0.0, 8.0, 0.0, 2.0, 0.0,
                                  0.0, 0.0, 0.0, 3.0]})
    scales = naive_scales(history, exclude_last=3)
    assert scales.loc["A", "level"] == 2.0
    assert math.isnan(scales.loc["B", "level"])  # no demand before the backtest: no scale
    errors = pd.DataFrame({"unique_id": ["A"] * 3 + ["B"], "model": "m",
                           "y": [0.0, 2.0, 0.0, 3.0], "qty": [1.0, 1.0, 1.0, 1.0]})
    table = scores(errors, scales=scales).set_index("unique_id")
    assert table.loc["A", "bias"] == pytest.approx(0.5)
    assert table.loc["A", "scaled_bias"] == pytest.approx(1 / 6)
    assert math.isnan(table.loc["B", "scaled_bias"])
    assert math.isnan(scores(errors).loc[0, "scaled_bias"])  # unscaled: nan
