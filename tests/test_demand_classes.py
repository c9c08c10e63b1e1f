"""Demand classes, the sparse-demand rules, combinations and the choice between a combination
and a single model, on hand-built series and scores."""

import numpy as np
import pandas as pd
import pytest

from sop_pipeline.demand import selection
from sop_pipeline.demand.candidates import Backtest, _combination
from sop_pipeline.demand.classification import classify
from sop_pipeline.demand.forecast import forecast_demand
from sop_pipeline.demand.metrics import scores

MONTHS = 38


def _series(unique_id: str, values) -> pd.DataFrame:
    values = np.asarray(values, dtype=float)
    return pd.DataFrame({"unique_id": unique_id, "y": values,
                         "ds": pd.date_range("2023-01-01", periods=len(values), freq="MS")})


def _selected(accuracy: pd.DataFrame) -> pd.DataFrame:
    return accuracy[accuracy["is_selected"]].set_index("unique_id")


def test_syntetos_boylan_classes_on_hand_built_series():
    history = pd.concat([
        _series("smooth", [10, 11, 9, 10, 12, 10, 9, 11] * 3),          # ADI 1, CV2 ~0.01
        _series("erratic", [1, 30, 2, 25, 1, 40, 3, 28] * 3),           # ADI 1, CV2 > 0.49
        _series("intermittent", [0, 0, 5, 0, 0, 6, 0, 0, 5, 0] * 3),    # ADI 3, CV2 ~0.01
        _series("lumpy", [0, 0, 1, 0, 0, 40, 0, 0, 2, 0] * 3),          # ADI 3, CV2 > 0.49
        _series("launched", [0] * 20 + [10, 12, 9, 11] * 4),            # zeros before launch
        _series("none", [0] * 24),
    ])
    facts = classify(history)
    assert facts["demand_class"].to_dict() == {
        "erratic": "erratic", "intermittent": "intermittent", "launched": "smooth",
        "lumpy": "lumpy", "none": "no_demand", "smooth": "smooth"}
    assert facts.loc["intermittent", "adi"] == pytest.approx(28 / 9)  # from the first demand
    assert facts.loc["launched", "adi"] == pytest.approx(1.0)
    assert facts.loc["intermittent", "demands"] == 9


def test_one_or_two_demands_are_forecast_at_the_window_average_not_the_demand_size():
    one = np.zeros(MONTHS)
    one[30] = 4  # a part that sold 4 units once, 8 months ago
    two = np.zeros(MONTHS)
    two[[20, 33]] = [6, 3]
    forecast, accuracy = forecast_demand(
        pd.concat([_series("one|L", one), _series("two|L", two)]))
    chosen = forecast[forecast["is_selected"]].groupby("unique_id")["qty"].mean()
    assert chosen["one|L"] == pytest.approx(4 / 12)  # not 0.95 x 4 = 3.8 a month (Croston)
    assert chosen["two|L"] == pytest.approx(3 / 12)  # the last 12 months hold one demand of 3
    rules = _selected(accuracy)
    assert set(rules["model"]) == {"window_average"}
    assert set(rules["selection_rule"]) == {"few_demands"}


def test_a_series_silent_for_a_year_is_flagged_obsolete_and_forecast_at_zero():
    values = np.tile([0, 3, 0, 0, 5, 0], 7)[:MONTHS].astype(float)
    values[-14:] = 0
    forecast, accuracy = forecast_demand(_series("old|L", values))
    row = _selected(accuracy).loc["old|L"]
    assert bool(row["possibly_obsolete"]) and row["selection_rule"] == "possibly_obsolete"
    assert forecast.loc[forecast["is_selected"], "qty"].max() == 0


def test_intermittent_series_with_enough_demands_get_the_intermittent_methods():
    rng = np.random.default_rng(5)
    values = (rng.random(48) < 0.3) * rng.integers(2, 6, 48)
    _, accuracy = forecast_demand(_series("sparse|L", values))
    models = set(accuracy["model"])
    assert {"adida", "imapa", "tsb", "window_average", "intermittent_mean"} <= models
    assert not models & {"auto_ets", "prophet", "ensemble_median"}
    row = _selected(accuracy).loc["sparse|L"]
    assert row["demand_class"] in {"intermittent", "lumpy"}
    assert row["model"] != "seasonal_naive"  # the FVA baseline only, on sparse demand


def test_the_median_combination_beats_every_member_when_their_misses_cross():
    months = pd.date_range("2026-01-01", periods=3, freq="MS")
    members = {"auto_ets": [100, 130, 70], "auto_ces": [70, 100, 130],
               "dynamic_theta": [130, 70, 100]}
    errors = pd.concat([
        pd.DataFrame({"unique_id": "s", "model": model, "window": 0, "ds": months,
                      "y": 100.0, "qty": np.asarray(values, dtype=float)})
        for model, values in members.items()])
    forecast = errors.drop(columns=["window", "y"])
    _, combined = _combination(forecast, errors, "ensemble_median", tuple(members), "median")
    pooled = scores(pd.concat([errors, combined]), ["model"]).set_index("model")["wape"]
    assert pooled["ensemble_median"] == 0
    assert pooled.drop("ensemble_median").to_list() == pytest.approx([0.2, 0.2, 0.2])


def _rows(**scores_by_model) -> pd.DataFrame:
    """Candidate rows of one series: model -> (score, bias, bias of one sign in every window)."""
    return pd.DataFrame([{"model": model, "_score": score, "bias": bias, "bias_consistent": same}
                         for model, (score, bias, same) in scores_by_model.items()])


def test_the_combination_is_kept_even_where_a_single_model_scored_better():
    # measured on M3 and PBS: switching to a backtest winner loses accuracy at every margin
    rows = _rows(seasonal_naive=(0.30, 0.0, False), auto_ets=(0.10, 0.01, False),
                 ensemble_median=(0.20, 0.02, False))
    assert selection.choose(rows, "scored", False) == ("ensemble_median", "combination")
    singles = rows[rows["model"] != "ensemble_median"]
    assert selection.choose(singles, "scored", False) == ("auto_ets", "best_score")


def test_a_consistent_bias_is_reported_and_the_choice_stays():
    biased = _rows(seasonal_naive=(0.40, 0.05, False), auto_ets=(0.45, 0.30, True),
                   ensemble_median=(0.38, 0.35, True))
    assert selection.choose(biased, "scored", False) == ("ensemble_median", "combination")


def test_backtest_scores_say_whether_a_bias_has_one_sign_in_every_window():
    months = pd.date_range("2026-01-01", periods=2, freq="MS")
    errors = pd.concat([
        pd.DataFrame({"unique_id": "s|L", "model": model, "window": window, "ds": months,
                      "y": 10.0, "qty": qty})
        for model, by_window in {"lean": (12.0, 13.0, 11.0), "noise": (12.0, 8.0, 11.0)}.items()
        for window, qty in enumerate(by_window)])
    history = _series("s|L", np.arange(40.0))
    backtests = pd.Series([Backtest()], index=["s|L"])
    scored = selection.score_backtests(errors, history, backtests).set_index("model")
    assert bool(scored.loc["lean", "bias_consistent"])
    assert not bool(scored.loc["noise", "bias_consistent"])

