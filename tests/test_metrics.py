"""Accuracy metrics on hand-computed cases."""

import math

import pytest

from sop_pipeline.demand.metrics import bias, mase, wape


def test_wape_is_total_absolute_error_over_total_actual():
    # |12-10| + |18-20| + |30-30| = 4 over 60
    assert wape([10, 20, 30], [12, 18, 30]) == pytest.approx(4 / 60)


def test_bias_sign_says_over_or_under_forecast():
    assert bias([10, 20, 30], [12, 18, 36]) == pytest.approx(6 / 60)
    assert bias([10, 20, 30], [5, 10, 15]) == pytest.approx(-0.5)


def test_zero_actuals_give_nan_not_inf():
    assert math.isnan(wape([0, 0], [1, 2]))
    assert math.isnan(bias([0, 0], [1, 2]))


def test_mase_scales_by_seasonal_differences():
    insample = [*range(1, 13), 3, 4]  # seasonal differences 3-1 and 4-2: scale 2
    # MAE (|16-10| + |10-10|) / 2 = 3, over 2
    assert mase([10, 10], [16, 10], insample) == pytest.approx(1.5)


def test_mase_falls_back_to_lag_one_on_short_history():
    # 3 points < 13: lag-1 differences 2 and 4, scale 3; MAE 6
    assert mase([20], [26], [10, 12, 16]) == pytest.approx(2.0)
    # exactly 12 points is still too short for a seasonal difference: lag-1 scale 1
    assert mase([0], [2], list(range(12))) == pytest.approx(2.0)


def test_mase_is_nan_when_history_is_flat():
    assert math.isnan(mase([5, 6], [5, 5], [5] * 24))
    assert math.isnan(mase([5], [5], [7]))


def test_lengths_must_match():
    with pytest.raises(ValueError, match="differ in length"):
        wape([1, 2], [1])
