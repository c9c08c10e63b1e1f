"""The demand forecast: backtest scores by hand, model selection on series built for it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sop_pipeline.demand.candidates import (
    PROPHET_PRIORS,
    Backtest,
    choose_prophet_priors,
    prophet_backtest,
)
from sop_pipeline.demand.forecast import (
    ACCURACY_COLUMNS,
    FORECAST_COLUMNS,
    ForecastSettings,
    forecast_demand,
    series_id,
    split_series_id,
)
from sop_pipeline.demand.metrics import wape

END = "2026-09-01"
FAST = ("seasonal_naive", "auto_ets", "auto_theta", "croston_sba")


def _series(unique_id: str, y) -> pd.DataFrame:
    y = np.asarray(y, dtype=float)
    return pd.DataFrame({"unique_id": unique_id,
                         "ds": pd.date_range(end=END, periods=len(y), freq="MS"), "y": y})


def _selected(accuracy: pd.DataFrame) -> dict[str, str]:
    chosen = accuracy[accuracy["is_selected"]]
    return dict(zip(chosen["unique_id"], chosen["model"], strict=True))


SEASON = np.array([50, 60, 80, 120, 160, 200, 210, 180, 130, 90, 60, 50], dtype=float)


def test_backtest_scores_match_a_hand_computation():
    # y = t: seasonal naive is always 12 below; 3 windows of 12 months ending at 18, 21, 24
    history = _series("A|L", np.arange(36))
    _, accuracy = forecast_demand(history, ForecastSettings(models=("seasonal_naive",)))
    naive = accuracy.iloc[0]
    actual_sum = sum(range(18, 30)) + sum(range(21, 33)) + sum(range(24, 36))  # 954
    assert naive["wape"] == pytest.approx(36 * 12 / actual_sum)
    assert naive["bias"] == pytest.approx(-36 * 12 / actual_sum)
    assert naive["mase"] == pytest.approx(1.0)  # in-sample seasonal differences are 12
    assert naive["rmse"] == pytest.approx(12.0)
    assert naive["fva"] == 0 and naive["n_obs"] == 36


def test_backtest_mase_falls_back_to_lag_one_before_a_short_first_origin():
    # 30 months: 12 before the first origin, no seasonal difference: lag-1 differences are 1
    history = _series("A|L", np.arange(30))
    _, accuracy = forecast_demand(history, ForecastSettings(models=("seasonal_naive",)))
    naive = accuracy.iloc[0]
    assert naive["mase"] == pytest.approx(12.0)  # MAE 12 over the lag-1 scale 1
    assert naive["rmse"] == pytest.approx(12.0)


def test_selection_picks_the_model_built_to_win():
    rng = np.random.default_rng(3)
    t = np.arange(48)
    history = pd.concat([
        _series("seasonal|L", np.tile(SEASON, 4)),
        _series("trend|L", 100 + 8 * t + np.tile(SEASON, 4) * 0.3),
        _series("intermittent|L", rng.poisson(0.3, 48) * 4),
    ])
    forecast, accuracy = forecast_demand(history, ForecastSettings(models=FAST))
    chosen = _selected(accuracy)
    assert chosen["seasonal|L"] == "seasonal_naive"
    assert chosen["trend|L"] in {"auto_ets", "auto_theta"}
    assert chosen["intermittent|L"] == "croston_sba"
    seasonal = accuracy[accuracy["unique_id"] == "seasonal|L"].set_index("model")
    assert seasonal.loc["seasonal_naive", "wape"] == 0
    trend = accuracy[accuracy["unique_id"] == "trend|L"].set_index("model")
    assert trend.loc[chosen["trend|L"], "fva"] > 0.05  # clearly better than naive
    # seasonal naive repeats the last year exactly
    naive = forecast[(forecast["unique_id"] == "seasonal|L")
                     & (forecast["model"] == "seasonal_naive")]
    assert naive["qty"].to_numpy()[:12] == pytest.approx(SEASON)


def test_frames_are_complete_and_intervals_nested():
    rng = np.random.default_rng(0)
    history = pd.concat([
        _series("noisy|L", np.tile(SEASON, 3) + rng.normal(0, 15, 36)),
        _series("young|L", SEASON[:10] + 5),
        _series("one-year|L", np.r_[SEASON, SEASON[:8]]),
        _series("zeros|L", np.zeros(30)),
    ])
    forecast, accuracy = forecast_demand(history, ForecastSettings(horizon=6, models=FAST))
    assert list(forecast.columns) == FORECAST_COLUMNS
    assert list(accuracy.columns) == ACCURACY_COLUMNS
    assert (accuracy.groupby("unique_id")["is_selected"].sum() == 1).all()
    assert (forecast.groupby(["unique_id", "model"]).size() == 6).all()
    assert (forecast["lower_95"] >= 0).all()
    ordered = ["lower_95", "lower_80", "qty", "upper_80", "upper_95"]
    assert (forecast[ordered].diff(axis=1).iloc[:, 1:] >= -1e-9).all().all()
    chosen = _selected(accuracy)
    assert chosen == {"noisy|L": chosen["noisy|L"], "young|L": "mean",
                      "one-year|L": "seasonal_naive", "zeros|L": "mean"}
    assert accuracy.loc[accuracy["unique_id"] == "one-year|L", "wape"].isna().all()
    young = forecast[forecast["unique_id"] == "young|L"]
    assert young["qty"].iloc[0] == pytest.approx(SEASON[4:10].mean() + 5)
    assert (forecast.loc[forecast["unique_id"] == "zeros|L", "qty"] == 0).all()
    # the 95 % interval is wider than the 80 % one where the model has spread
    noisy = forecast[forecast["unique_id"] == "noisy|L"]
    assert ((noisy["upper_95"] - noisy["lower_95"]) > (noisy["upper_80"] - noisy["lower_80"])
            ).all()


def test_prophet_is_a_candidate_for_the_largest_long_series_only():
    t = np.arange(48)
    history = pd.concat([
        _series("big|L", 1000 + 10 * t + np.tile(SEASON, 4)),
        _series("small|L", 10 + np.tile(SEASON, 4) / 10),
    ])
    settings = ForecastSettings(models=("seasonal_naive", "prophet"), prophet_max_series=1)
    _, accuracy = forecast_demand(history, settings)
    assert set(accuracy.loc[accuracy["model"] == "prophet", "unique_id"]) == {"big|L"}
    prophet = accuracy[(accuracy["unique_id"] == "big|L") & (accuracy["model"] == "prophet")]
    assert prophet["wape"].notna().all()


def test_parallel_workers_give_the_same_result_and_report_progress():
    rng = np.random.default_rng(5)
    history = pd.concat([_series(f"S{i}|L", np.tile(SEASON, 3) + rng.normal(0, 10, 36))
                         for i in range(6)])
    progress: list[tuple[int, int]] = []
    settings = ForecastSettings(models=FAST, backtest=Backtest(windows=2))
    one = forecast_demand(history, settings, on_progress=lambda d, t: progress.append((d, t)))
    two = forecast_demand(history, ForecastSettings(models=FAST, backtest=Backtest(windows=2),
                                                    workers=2))
    pd.testing.assert_frame_equal(one[0], two[0])
    pd.testing.assert_frame_equal(one[1], two[1])
    assert progress[-1] == (6, 6) and len(progress) > 1


def test_bad_history_and_settings_are_refused():
    with pytest.raises(ValueError, match="dense monthly"):
        forecast_demand(_series("A|L", np.ones(30)).drop(index=[5]))
    with pytest.raises(ValueError, match="models must include seasonal_naive"):
        ForecastSettings(models=("auto_ets",))


def test_series_id_round_trip():
    assert split_series_id(series_id("BIK|1", "DC1")) == ("BIK|1", "DC1")


def test_croston_is_kept_for_intermittent_series():
    # a flat series with noise: Croston (a level forecast) scores well but is not for it
    rng = np.random.default_rng(8)
    history = _series("flat|L", 100 + rng.normal(0, 20, 48))
    _, accuracy = forecast_demand(history, ForecastSettings(models=FAST))
    assert accuracy.loc[accuracy["model"] == "croston_sba", "wape"].notna().all()
    assert _selected(accuracy)["flat|L"] != "croston_sba"


def test_prophet_priors_are_the_best_on_the_backtest():
    t = np.arange(48)
    trend_break = np.where(t < 36, 200 + 2 * t, 272 + 15 * (t - 36)) + np.tile(SEASON, 4) * 0.5
    history = _series("break|L", trend_break)
    backtest = Backtest()
    chosen = choose_prophet_priors(history, backtest)

    def wape_of(priors):
        errors = prophet_backtest("break|L", history, backtest, priors)
        return wape(errors["y"], errors["qty"].clip(lower=0))

    assert chosen in PROPHET_PRIORS
    assert all(wape_of(chosen) <= wape_of(other) + 1e-12 for other in PROPHET_PRIORS)


def test_prophet_learns_known_events_from_their_past_occurrences():
    rng = np.random.default_rng(5)
    y = 100 + rng.normal(0, 3, 60)
    past_events = [7, 20, 29, 41, 50]  # irregular months: yearly seasonality cannot learn them
    y[past_events] *= 1.6
    history = _series("promo|L", y)
    months = list(history["ds"]) + list(pd.date_range(END, periods=19, freq="MS")[1:])
    uplift = np.zeros(len(months))
    uplift[past_events] = 0.6
    uplift[60 + 2] = 0.6  # a planned event in the third forecast month
    events = pd.DataFrame({"unique_id": "promo|L", "ds": months, "uplift_pct": uplift})
    settings = ForecastSettings(models=("seasonal_naive", "prophet"), horizon=6)

    def prophet_forecast(with_events: pd.DataFrame | None) -> np.ndarray:
        forecast, _ = forecast_demand(history, settings, events=with_events)
        return forecast.loc[forecast["model"] == "prophet", "qty"].to_numpy()

    learned, plain = prophet_forecast(events), prophet_forecast(None)
    others = [0, 1, 3, 4, 5]
    assert learned[2] / learned[others].mean() > 1.4  # the event month carries the uplift
    assert plain[2] / plain[others].mean() < 1.15  # without the regressor it cannot know
