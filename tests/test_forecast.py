"""Demand forecast: model rules, selection by backtest, intervals and parallel runs.

One module-scoped run over a small panel keeps the prophet fits (about 0.1-0.5 s each) few.
"""

import numpy as np
import pandas as pd
import pytest

from sop_pipeline.forecast import (
    ACCURACY_COLUMNS,
    FORECAST_COLUMNS,
    INTERVAL_Z,
    _select,
    forecast_demand,
    series_id,
    split_series_id,
)

LAST_MONTH = pd.Timestamp("2026-09-01")
SEASON = np.array([10, 12, 15, 20, 30, 40, 45, 40, 30, 20, 15, 12], dtype=float)
HORIZON = 18


def _series(unique_id: str, values) -> pd.DataFrame:
    values = np.asarray(values, dtype=float)
    ds = pd.date_range(end=LAST_MONTH, periods=values.size, freq="MS")
    return pd.DataFrame({"unique_id": unique_id, "ds": ds, "y": values})


def _panel() -> pd.DataFrame:
    t = np.arange(48)
    return pd.concat(
        [
            _series("SEAS|DC1", 100 + SEASON[t % 12]),
            _series("TREND|DC1", 50 + 5 * t + 2 * SEASON[t % 12]),
            _series("DECLINE|DC1", 240 - 5 * t),
            _series("ZERO|DC1", np.zeros(48)),
            _series("SHORT|DC1", [1, 2, 3, 4, 5, 6, 7, 8]),
            _series("MID|DC1", np.arange(1, 16)),
        ],
        ignore_index=True,
    )


@pytest.fixture(scope="module")
def progress() -> list[tuple[int, int]]:
    return []


@pytest.fixture(scope="module")
def result(progress) -> tuple[pd.DataFrame, pd.DataFrame]:
    return forecast_demand(
        _panel(), horizon=HORIZON, holdout=6, on_progress=lambda *p: progress.append(p)
    )


def _selected(frame: pd.DataFrame) -> pd.Series:
    return frame[frame["is_selected"]].groupby("unique_id")["model"].first()


def test_shapes_columns_and_one_selected_model_per_series(result):
    forecast, accuracy = result
    assert list(forecast.columns) == FORECAST_COLUMNS
    assert list(accuracy.columns) == ACCURACY_COLUMNS
    months = pd.date_range("2026-10-01", periods=HORIZON, freq="MS")
    for _, rows in forecast.groupby(["unique_id", "model"]):
        assert list(rows["ds"]) == list(months)
    assert (accuracy.groupby("unique_id")["is_selected"].sum() == 1).all()
    assert (forecast[forecast["is_selected"]].groupby("unique_id").size() == HORIZON).all()
    assert _selected(forecast).to_dict() == _selected(accuracy).to_dict()
    n_obs = accuracy.groupby("unique_id")["n_obs"].first().to_dict()
    assert n_obs == {"SEAS|DC1": 48, "TREND|DC1": 48, "DECLINE|DC1": 48, "ZERO|DC1": 48,
                     "SHORT|DC1": 8, "MID|DC1": 15}


def test_models_fitted_follow_history_length(result):
    _, accuracy = result
    models = accuracy.groupby("unique_id")["model"].apply(sorted).to_dict()
    assert models["SEAS|DC1"] == ["prophet", "seasonal_naive"]
    assert models["MID|DC1"] == ["seasonal_naive"]  # 15 < 24 + 6: no prophet
    assert models["SHORT|DC1"] == ["mean"]
    assert models["ZERO|DC1"] == ["mean"]


def test_pure_seasonal_series_selects_exact_seasonal_naive(result):
    forecast, accuracy = result
    assert _selected(accuracy)["SEAS|DC1"] == "seasonal_naive"
    scores = accuracy[accuracy["unique_id"] == "SEAS|DC1"].set_index("model")
    assert scores.loc["seasonal_naive", "wape"] == 0
    assert scores.loc["prophet", "wape"] > 0
    chosen = forecast[(forecast["unique_id"] == "SEAS|DC1") & forecast["is_selected"]]
    expected = 100 + SEASON[np.arange(48, 48 + HORIZON) % 12]
    np.testing.assert_allclose(chosen["qty"], expected)
    # no seasonal-difference residuals: a zero-width interval
    np.testing.assert_allclose(chosen["upper"] - chosen["lower"], 0)


def test_trend_series_selects_prophet_over_lagging_seasonal_naive(result):
    forecast, accuracy = result
    assert _selected(accuracy)["TREND|DC1"] == "prophet"
    scores = accuracy[accuracy["unique_id"] == "TREND|DC1"].set_index("model")
    # seasonal naive is 12 x 5 = 60 low in each of the 6 holdout months; the holdout
    # actuals sum to 6 x 50 + 5 x (42 + ... + 47) + 2 x (45 + 40 + 30 + 20 + 15 + 12) = 1959
    assert scores.loc["seasonal_naive", "wape"] == pytest.approx(360 / 1959)
    assert scores.loc["seasonal_naive", "bias"] == pytest.approx(-360 / 1959)
    assert scores.loc["seasonal_naive", "mase"] == pytest.approx(1.0)  # in-sample diffs are 60
    assert scores.loc["prophet", "wape"] < 0.05
    # next October: 50 + 5 x 48 + 2 x 10 = 310
    prophet = forecast[(forecast["unique_id"] == "TREND|DC1") & forecast["is_selected"]]
    assert prophet["qty"].iloc[0] == pytest.approx(310, rel=0.02)


def test_seasonal_naive_interval_widens_by_season(result):
    forecast, _ = result
    naive = forecast[(forecast["unique_id"] == "TREND|DC1")
                     & (forecast["model"] == "seasonal_naive")].reset_index(drop=True)
    # October repeats month 36: 50 + 5 x 36 + 2 x 10 = 250; residuals are all 60
    assert naive.loc[0, "qty"] == pytest.approx(250)
    assert naive.loc[0, "upper"] - naive.loc[0, "qty"] == pytest.approx(INTERVAL_Z * 60)
    assert naive.loc[12, "qty"] == pytest.approx(250)  # a year later: same month, 2nd season
    assert naive.loc[12, "upper"] - naive.loc[12, "qty"] == pytest.approx(
        INTERVAL_Z * 60 * np.sqrt(2)
    )


def test_values_are_non_negative_and_ordered(result):
    forecast, _ = result
    assert (forecast[["qty", "lower", "upper"]] >= 0).all().all()
    assert (forecast["lower"] <= forecast["qty"]).all()
    assert (forecast["qty"] <= forecast["upper"]).all()
    decline = forecast[forecast["unique_id"] == "DECLINE|DC1"]
    # the decline hits 0 within the horizon: prophet's trend is clipped, not negative
    assert (decline.loc[decline["model"] == "prophet", "qty"].iloc[-6:] == 0).all()
    # seasonal naive residuals of -60 give a half-width of 77 on values 5..60: lower clips to 0
    assert (decline.loc[decline["model"] == "seasonal_naive", "lower"] == 0).all()


def test_short_series_gets_mean_of_last_six_months(result):
    forecast, _ = result
    short = forecast[forecast["unique_id"] == "SHORT|DC1"]
    assert (short["model"] == "mean").all() and short["is_selected"].all()
    spread = INTERVAL_Z * np.std([3, 4, 5, 6, 7, 8])
    np.testing.assert_allclose(short["qty"], 5.5)  # mean of 3..8
    np.testing.assert_allclose(short["lower"], 5.5 - spread)
    np.testing.assert_allclose(short["upper"], 5.5 + spread)


def test_all_zero_series_gets_zero_mean(result):
    forecast, accuracy = result
    zero = forecast[forecast["unique_id"] == "ZERO|DC1"]
    assert (zero[["qty", "lower", "upper"]] == 0).all().all()
    assert _selected(accuracy)["ZERO|DC1"] == "mean"


def test_unscored_seasonal_naive_is_selected_by_default(result):
    forecast, accuracy = result
    mid = accuracy[accuracy["unique_id"] == "MID|DC1"].iloc[0]
    assert mid["is_selected"] and np.isnan(mid["wape"])
    chosen = forecast[(forecast["unique_id"] == "MID|DC1") & forecast["is_selected"]]
    np.testing.assert_allclose(chosen["qty"].iloc[:12], np.arange(4, 16))  # last 12 months


def test_progress_reaches_all_series(result, progress):
    assert progress[-1] == (6, 6)
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)


def test_two_workers_give_the_same_result(result):
    panel = _panel()
    small = panel[panel["unique_id"].isin(["TREND|DC1", "SHORT|DC1", "MID|DC1"])]
    calls = []
    forecast, accuracy = forecast_demand(
        small, horizon=HORIZON, workers=2, on_progress=lambda *p: calls.append(p)
    )
    expected_forecast, expected_accuracy = (
        frame[frame["unique_id"].isin(small["unique_id"])].reset_index(drop=True)
        for frame in result
    )
    pd.testing.assert_frame_equal(forecast, expected_forecast)
    pd.testing.assert_frame_equal(accuracy, expected_accuracy)
    assert calls[-1] == (3, 3)


def test_selection_keeps_seasonal_naive_on_ties_and_nan():
    fitted = ["seasonal_naive", "prophet"]
    tie = {"seasonal_naive": {"wape": 0.1}, "prophet": {"wape": 0.1}}
    assert _select(fitted, tie) == "seasonal_naive"
    no_demand = {"seasonal_naive": {"wape": np.nan}, "prophet": {"wape": np.nan}}
    assert _select(fitted, no_demand) == "seasonal_naive"
    assert _select(fitted, {"seasonal_naive": {"wape": 0.2}, "prophet": {"wape": 0.1}}) == (
        "prophet"
    )


def test_series_id_round_trip():
    assert series_id("BIK-001", "DC1") == "BIK-001|DC1"
    assert split_series_id("BIK-001|DC1") == ("BIK-001", "DC1")
    assert split_series_id("A|B|DC1") == ("A|B", "DC1")
    with pytest.raises(ValueError):
        split_series_id("BIK-001")


def test_history_with_missing_months_is_rejected():
    gapped = _series("A|DC1", range(24)).drop(index=5)
    with pytest.raises(ValueError, match="dense monthly"):
        forecast_demand(gapped)


def test_unknown_model_is_rejected():
    with pytest.raises(ValueError, match="models must be among"):
        forecast_demand(_series("A|DC1", range(24)), models=("arima",))
