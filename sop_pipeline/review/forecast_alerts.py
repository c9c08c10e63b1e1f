"""Forecast alerts of a cycle (kinds biased_forecast, possibly_obsolete), from forecast_accuracy.

- biased_forecast: one per series whose selected model leans the same way in every backtest
  window (bias_consistent, where the rows carry it) by more than BIAS_THRESHOLD (0.2) of its
  demand; entity sku@location, month = the cycle month. Regular series are judged on bias =
  sum(forecast - actual) / sum(actual); intermittent and lumpy ones (demand_class) on
  scaled_bias = mean(forecast - actual) / the mean monthly demand before the first backtest
  origin: their backtest actuals may sum to a few units, which makes bias read +1,900 %. Both
  are an error per unit of demand, so the same limits hold: value = the metric, threshold =
  +0.2 or -0.2 (the side crossed); high above 0.4 in absolute value, else medium.
  value_at_risk = |metric| x the series' demand over the horizon (inventory demand_qty) x
  unit_cost when over-forecasting (stock bought for demand that does not come), x unit_price
  when under-forecasting (sales the plan does not supply for).
- possibly_obsolete: one per sku@location whose forecast_accuracy flags it possibly_obsolete
  (no demand in the last 12 months after demand before); month = the cycle month, value =
  stock on hand at the cut-off (the projection's first opening), threshold 0; medium when
  stock is on hand (it may never sell), else low. value_at_risk = that stock x unit_cost.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sop_pipeline.demand.classification import INTERMITTENT_CLASSES
from sop_pipeline.review.wording import quantity_text
from sop_pipeline.tables import SERIES_KEY

BIAS_THRESHOLD = 0.2
BIAS_HIGH = 0.4


def biased_forecast_alerts(
    cutoff: pd.Timestamp, accuracy: pd.DataFrame | None, inventory: pd.DataFrame,
    prices: pd.DataFrame,
) -> list[dict[str, object]]:
    """Series whose selected model over- or under-forecast its backtest by more than 20 %."""
    if accuracy is None or accuracy.empty:
        return []
    selected = accuracy
    if "is_selected" in selected.columns:
        selected = selected[selected["is_selected"].astype(bool)]
    sparse = (selected["demand_class"].isin(INTERMITTENT_CLASSES)
              if {"demand_class", "scaled_bias"} <= set(selected.columns)
              else pd.Series(False, index=selected.index))
    scaled_bias = selected.get("scaled_bias", np.nan)
    selected = selected.assign(scaled=sparse.astype(bool),
                               metric=np.where(sparse, scaled_bias, selected["bias"]).astype(float))
    biased = selected[selected["metric"].abs() > BIAS_THRESHOLD]
    if "bias_consistent" in biased.columns:  # a lean in every backtest window, not noise
        biased = biased[biased["bias_consistent"].fillna(False).astype(bool)]
    biased = biased.merge(_horizon_demand(inventory), on=SERIES_KEY, how="left").merge(
        prices, on="sku", how="left")
    return [
        {
            "kind": "biased_forecast",
            "severity": "high" if abs(row.metric) > BIAS_HIGH else "medium",
            "entity": f"{row.sku}@{row.location_id}",
            "month": cutoff,
            "message": _bias_message(row),
            "value": float(row.metric),
            "threshold": BIAS_THRESHOLD if row.metric > 0 else -BIAS_THRESHOLD,
            "value_at_risk": abs(row.metric) * row.horizon_qty
            * (row.unit_cost if row.metric > 0 else row.unit_price),
        }
        for row in biased.itertuples(index=False)
    ]


def _bias_message(row: Any) -> str:
    """'The selected forecast (auto_ets) of A at DC1 is over-forecasting by 25% ...'."""
    direction = "over" if row.metric > 0 else "under"
    model = getattr(row, "model", None)
    model = f" ({model})" if isinstance(model, str) and model else ""
    if row.scaled:
        measure = (f"of its mean monthly demand in its backtest (scaled bias {row.metric:+.2f}, "
                   f"limit ±{BIAS_THRESHOLD:.2f}; {row.demand_class} demand is judged against "
                   "its demand rate, not its backtest's few sales)")
    else:
        measure = (f"of actual demand in its backtest (bias {row.metric:+.2f}, "
                   f"limit ±{BIAS_THRESHOLD:.2f})")
    return (f"The selected forecast{model} of {row.sku} at {row.location_id} is "
            f"{direction}-forecasting by {abs(row.metric):.0%} {measure}: review the model or "
            "override it.")


def _horizon_demand(inventory: pd.DataFrame) -> pd.DataFrame:
    """sku, location_id, horizon_qty: the demand the plan works to over the horizon."""
    if inventory.empty or "demand_qty" not in inventory.columns:
        return pd.DataFrame({"sku": pd.Series(dtype=object),
                             "location_id": pd.Series(dtype=object),
                             "horizon_qty": pd.Series(dtype=float)})
    return (inventory.groupby(SERIES_KEY, as_index=False)["demand_qty"].sum()
            .rename(columns={"demand_qty": "horizon_qty"}))


def obsolete_alerts(cutoff: pd.Timestamp, accuracy: pd.DataFrame | None,
                    inventory: pd.DataFrame, prices: pd.DataFrame) -> list[dict[str, object]]:
    """Series with no demand for a year after demand before, with the stock they hold."""
    if accuracy is None or accuracy.empty or "possibly_obsolete" not in accuracy.columns:
        return []
    flagged = accuracy[accuracy["is_selected"].astype(bool)
                       & accuracy["possibly_obsolete"].fillna(False).astype(bool)]
    first = inventory.sort_values("month").drop_duplicates(SERIES_KEY)
    on_hand = dict(zip(zip(first["sku"], first["location_id"], strict=True),
                       first["opening_qty"], strict=True))
    unit_cost = prices.set_index("sku")["unit_cost"]
    alerts = []
    for row in flagged.itertuples(index=False):
        stock = float(on_hand.get((row.sku, row.location_id), 0.0))
        held = (f"; {quantity_text(stock)} units on hand may never sell: phase it out, sell "
                "the stock off or confirm the demand" if stock > 0 else "")
        alerts.append({
            "kind": "possibly_obsolete",
            "severity": "medium" if stock > 0 else "low",
            "entity": f"{row.sku}@{row.location_id}",
            "month": cutoff,
            "message": (f"{row.sku} at {row.location_id} has had no demand for 12 months "
                        f"(possibly obsolete): it is forecast at that rate, not its old one"
                        f"{held}."),
            "value": stock,
            "threshold": 0.0,
            "value_at_risk": stock * float(unit_cost.get(row.sku, np.nan)),
        })
    return alerts
