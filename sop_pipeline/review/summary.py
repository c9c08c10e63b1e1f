"""cycle_summary: the headline figures of one cycle, as an executive reads them.

- wape_lag1 / wape_lag3, bias_lag1, fva_lag1: the forecast waterfall's 'all' rows at lag 1
  and 3 for the month that just closed (empty until cycles that old exist);
- consensus_value_fy vs budget_value_fy: the fiscal year the cycle is in, actuals for closed
  months + consensus for the rest, against the budget of the same months;
- peak_utilisation and where it is (required hours / available, over the horizon);
- skus_at_stockout_risk: sku-locations with a projected stockout in the horizon; unmet_qty:
  demand the supply plan cannot meet;
- inventory_value_m3: projected stock (negative counted as 0) x unit cost at the end of the
  cycle's third month;
- alerts by severity.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sop_pipeline.cycle import month_start
from sop_pipeline.review.variance import fiscal_year
from sop_pipeline.tables import OUTPUT_TABLES

SUMMARY_COLUMNS = OUTPUT_TABLES["cycle_summary"].stage_columns
INVENTORY_MONTH = 3


def cycle_summary(
    cycle_month: pd.Timestamp, *, waterfall: pd.DataFrame, budget: pd.DataFrame,
    capacity: pd.DataFrame, inventory: pd.DataFrame, supply: pd.DataFrame,
    alerts: pd.DataFrame, items: pd.DataFrame,
) -> pd.DataFrame:
    """One row: the figures above, from this cycle's rows of the other output tables."""
    cutoff = month_start(cycle_month)
    row: dict[str, object] = {
        **_waterfall_figures(waterfall), **_budget_figures(budget, cutoff),
        **_capacity_figures(capacity),
        "skus_at_stockout_risk": int(
            inventory.loc[inventory["status"] == "stockout", ["sku", "location_id"]]
            .drop_duplicates().shape[0]),
        "unmet_qty": float(supply["unmet_qty"].sum()) if len(supply) else 0.0,
        "inventory_value_m3": _inventory_value(inventory, items, cutoff),
        **{f"alerts_{severity}": int((alerts["severity"] == severity).sum())
           for severity in ("high", "medium", "low")},
    }
    return pd.DataFrame([row])[SUMMARY_COLUMNS]


def _waterfall_figures(waterfall: pd.DataFrame) -> dict[str, float]:
    total = waterfall[waterfall["family"] == "all"].set_index("lag")

    def figure(lag: int, column: str) -> float:
        return float(total.loc[lag, column]) if lag in total.index else np.nan

    return {"wape_lag1": figure(1, "wape"), "wape_lag3": figure(3, "wape"),
            "bias_lag1": figure(1, "bias"), "fva_lag1": figure(1, "fva")}


def _budget_figures(budget: pd.DataFrame, cutoff: pd.Timestamp) -> dict[str, float]:
    if budget.empty:
        return {"consensus_value_fy": np.nan, "budget_value_fy": np.nan,
                "gap_to_budget_pct": np.nan}
    current = budget[budget["fiscal_year"] == fiscal_year(cutoff)]
    plan, target = float(current["plan_value"].sum()), float(current["budget_value"].sum())
    return {"consensus_value_fy": plan, "budget_value_fy": target,
            "gap_to_budget_pct": plan / target - 1.0 if target else np.nan}


def _capacity_figures(capacity: pd.DataFrame) -> dict[str, object]:
    loaded = capacity.dropna(subset=["utilisation"])
    if loaded.empty:
        return {"peak_utilisation": np.nan, "peak_work_center": None}
    peak = loaded.loc[loaded["utilisation"].idxmax()]
    return {"peak_utilisation": float(peak["utilisation"]),
            "peak_work_center": f"{peak['work_center_id']} "
                                f"{pd.Timestamp(peak['month']):%Y-%m}"}


def _inventory_value(inventory: pd.DataFrame, items: pd.DataFrame, cutoff: pd.Timestamp
                     ) -> float:
    month = cutoff + pd.DateOffset(months=INVENTORY_MONTH - 1)
    stock = inventory[pd.to_datetime(inventory["month"]) == month].merge(
        items[["sku", "unit_cost"]], on="sku", how="left")
    return float((stock["closing_qty"].clip(lower=0) * stock["unit_cost"].fillna(0.0)).sum())
