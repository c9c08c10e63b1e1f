"""What a supply plan a planner signs must hold, checked on its output tables alone (the
supply_plan asset's check, and the tests on the demo company):

- balances close: closing = opening + scheduled + planned - (demand - unmet), and each month
  opens with the previous month's closing;
- demand is served in time order: no month loses a sale (unmet > QTY_TOLERANCE) while the
  same sku-location closes it with stock (> QTY_TOLERANCE), safety stock included;
- planned hours stay within available hours + the allowed overtime share;
- nothing planned arrives before the month holding cut-off + the item's lead time;
- planned orders are lots: whole steps of the unit, multiples of order_multiple, at least
  min_order_qty (sop_pipeline.supply.lots).
"""

from __future__ import annotations

import pandas as pd

from sop_pipeline.cycle import month_start, month_starts
from sop_pipeline.supply.inputs import SAMPLE_ROWS, item_units
from sop_pipeline.supply.lots import item_lots
from sop_pipeline.supply.units import QTY_TOLERANCE
from sop_pipeline.tables import SERIES_KEY

_EXACT = 1e-6  # balances and hours hold to float noise


def plan_problems(
    plan: pd.DataFrame, load: pd.DataFrame, items: pd.DataFrame, cycle_month: pd.Timestamp,
    overtime_share: float,
) -> list[str]:
    """Every invariant the plan breaks, as 'what: N row(s), e.g. ...' (empty: it holds).

    plan: supply_plan rows; load: planned_hours and available_hours per work centre x month;
    items: sku, lead_time_days and optionally uom, min_order_qty, order_multiple."""
    if plan.empty:
        return []
    rows = plan.sort_values([*SERIES_KEY, "month"], ignore_index=True)
    rows = rows.merge(_item_rules(items), on="sku", how="left", validate="many_to_one")
    planned = rows["planned_production_qty"] + rows["planned_purchase_qty"]
    expected = (rows["opening_qty"] + rows["scheduled_receipts_qty"] + planned
                - (rows["demand_qty"] - rows["unmet_qty"]))
    next_opening = rows.groupby(SERIES_KEY)["opening_qty"].shift(-1)
    arrival = month_starts(month_start(cycle_month)
                           + pd.to_timedelta(rows["lead_time_days"].fillna(0.0), unit="D"))
    lots = planned / rows["multiple"]
    broken = {
        "closing != opening + receipts + planned - served":
            (rows["closing_qty"] - expected).abs() > _EXACT,
        "opening != the previous month's closing":
            next_opening.notna() & ((next_opening - rows["closing_qty"]).abs() > _EXACT),
        "a sale lost while the month closes with stock":
            (rows["unmet_qty"] > QTY_TOLERANCE) & (rows["closing_qty"] > QTY_TOLERANCE),
        "planned inside the lead time": (planned > 0) & (pd.to_datetime(rows["month"]) < arrival),
        "planned off its lot (multiple or minimum)": (planned > 0) & (
            ((lots - lots.round()).abs() > _EXACT) | (planned < rows["minimum"] - _EXACT)),
    }
    problems = [_problem(rows, what, mask) for what, mask in broken.items() if mask.any()]
    if len(load):
        over = load["planned_hours"] > load["available_hours"] * (1 + overtime_share) + _EXACT
        if over.any():
            problems.append(_problem(load, "planned hours above available + overtime", over))
    return problems


def _item_rules(items: pd.DataFrame) -> pd.DataFrame:
    """sku, lead_time_days and the lot (multiple, minimum) of each item."""
    units = item_units(items)
    lots = item_lots(units["step"].to_numpy(), units["min_order_qty"].to_numpy(),
                     units["order_multiple"].to_numpy())
    return units[["sku"]].assign(lead_time_days=pd.to_numeric(items["lead_time_days"]).to_numpy(),
                                 multiple=lots.multiple, minimum=lots.minimum)


def _problem(rows: pd.DataFrame, what: str, mask: pd.Series) -> str:
    """'what: N row(s), e.g. key=value, ...; ...'."""
    sample = rows.loc[mask.to_numpy()].head(SAMPLE_ROWS).drop(
        columns=["multiple", "minimum"], errors="ignore")
    shown = "; ".join(", ".join(f"{k}={v}" for k, v in record.items())
                      for record in sample.to_dict("records"))
    return f"supply plan: {what}: {int(mask.sum())} row(s), e.g. {shown}"
