"""Choosing one model per series from its backtest: the scores, the combination rule and the
bias fallback (the rules are listed in sop_pipeline.demand.forecast)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sop_pipeline.demand.candidates import COMBINATIONS, LEVELS, SEASON_LENGTH
from sop_pipeline.demand.classification import INTERMITTENT_CLASSES
from sop_pipeline.demand.metrics import fva, naive_scales, scores
from sop_pipeline.tables import OUTPUT_TABLES, SERIES_KEY

# |backtest bias| beyond this is reported (forecast_accuracy, alerts, the family table), not
# acted on: measured on M3 and PBS, falling back to an unbiased candidate or scaling the
# forecast by 1 / (1 + bias) lost accuracy on the holdout (the backtest bias did not persist).
BIAS_LIMIT = 0.2
BOUNDS = [f"{side}_{level}" for level in LEVELS for side in ("lower", "upper")]
# The engine's own long format (unique_id, ds); the stage renames to the tables' columns.
FORECAST_COLUMNS = ["unique_id", "ds", "model", "qty", *BOUNDS, "is_selected"]
ACCURACY_COLUMNS = ["unique_id", *(c for c in OUTPUT_TABLES["forecast_accuracy"].stage_columns
                                   if c not in SERIES_KEY)]


def score_backtests(errors: pd.DataFrame | None, history: pd.DataFrame, backtests: pd.Series
            ) -> pd.DataFrame:
    """WAPE, MASE, RMSSE, bias, scaled bias and RMSE per series and model, pooled over the
    backtest windows, and whether the bias has the same sign in every window.

    Forecasts are clipped at 0 first, as the final forecast is; MASE, RMSSE and the scaled
    bias are scaled on each series' months before its first backtest origin (backtests:
    unique_id → Backtest).
    """
    columns = ["unique_id", "model", "wape", "mase", "rmsse", "bias", "scaled_bias", "rmse",
               "bias_consistent"]
    if errors is None or errors.empty:
        return pd.DataFrame(columns=columns)
    errors = errors.assign(qty=errors["qty"].clip(lower=0))
    scales = pd.concat([
        naive_scales(history[history["unique_id"].isin(ids)], SEASON_LENGTH,
                     exclude_last=backtest.first_origin())
        for backtest, ids in backtests.groupby(backtests, sort=False).groups.items()])
    pooled = scores(errors, ["unique_id", "model"], scales)
    by_window = scores(errors, ["unique_id", "model", "window"])
    sign = np.sign(by_window["bias"])
    consistent = (by_window.assign(sign=sign).groupby(["unique_id", "model"])["sign"]
                  .agg(lambda signs: bool(signs.notna().all() and abs(signs.sum()) == len(signs)
                                          and signs.iloc[0] != 0))
                  .rename("bias_consistent").reset_index())
    return pooled.merge(consistent, on=["unique_id", "model"], how="left")[columns]


def select_models(forecast: pd.DataFrame, scored: pd.DataFrame, stats: pd.DataFrame
            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One model per series by the selection rule (module docstring); add FVA and the facts."""
    fitted = forecast[["unique_id", "model"]].drop_duplicates()
    accuracy = fitted.merge(scored, on=["unique_id", "model"], how="left")
    naive = accuracy.loc[accuracy["model"] == "seasonal_naive", ["unique_id", "wape"]]
    accuracy = accuracy.merge(naive.rename(columns={"wape": "naive_wape"}), on="unique_id",
                              how="left")
    accuracy["fva"] = fva(accuracy["naive_wape"], accuracy["wape"])
    facts = stats.loc[accuracy["unique_id"]]
    intermittent = facts["demand_class"].isin(INTERMITTENT_CLASSES).to_numpy()
    error = np.where(intermittent, accuracy["rmsse"], accuracy["wape"])
    accuracy["_score"] = pd.Series(error, index=accuracy.index).astype(float) + accuracy[
        "bias"].astype(float).abs()
    choice = {unique_id: choose(rows, stats.at[unique_id, "rule"],
                                 stats.at[unique_id, "demand_class"] in INTERMITTENT_CLASSES)
              for unique_id, rows in accuracy.groupby("unique_id", sort=False)}
    accuracy["is_selected"] = [choice[u][0] == m for u, m in
                               zip(accuracy["unique_id"], accuracy["model"], strict=True)]
    accuracy["selection_rule"] = accuracy["unique_id"].map(lambda u: choice[u][1])
    accuracy["n_obs"] = accuracy["unique_id"].map(stats["n"]).astype(int)
    accuracy["demand_class"] = accuracy["unique_id"].map(stats["demand_class"])
    accuracy["possibly_obsolete"] = accuracy["unique_id"].map(stats["possibly_obsolete"])
    accuracy["bias_consistent"] = accuracy["bias_consistent"].astype("boolean")
    forecast = forecast.merge(accuracy[["unique_id", "model", "is_selected"]],
                              on=["unique_id", "model"])
    forecast = forecast.sort_values(["unique_id", "model", "ds"], ignore_index=True)
    accuracy = accuracy.sort_values(["unique_id", "model"], ignore_index=True)
    return forecast[FORECAST_COLUMNS], accuracy[ACCURACY_COLUMNS]


def choose(rows: pd.DataFrame, rule: str, intermittent: bool) -> tuple[str, str]:
    """(model, rule) for one series' candidate rows with their scores.

    On intermittent series seasonal naive is the FVA baseline only: repeating last year's
    random spikes is no demand rate to plan stock on.
    """
    models = list(rows["model"])
    if rule != "scored":  # a rule decided before any score: the one model it fitted
        forced = "window_average" if "window_average" in models else models[0]
        return forced, rule
    score = rows.set_index("model")["_score"]
    if intermittent and len(score) > 1:
        score = score.drop("seasonal_naive", errors="ignore")
    scored = score.dropna()
    if scored.empty:
        return ("seasonal_naive" if "seasonal_naive" in models else models[0]), "unscored"
    combination = next((m for m in COMBINATIONS if m in scored.index), None)
    if combination is not None:
        chosen, why = combination, "combination"
    else:  # lowest score, seasonal naive first among equals
        singles = scored.sort_index(key=lambda index: index != "seasonal_naive", kind="stable")
        chosen, why = singles.idxmin(), "best_score"
    return chosen, why


