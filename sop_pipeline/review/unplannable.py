"""Sales no planned order can save (kind unplannable_sku): a lot or a lead time that makes a
sku-location unplannable, named with the units it loses.

- unplannable_sku, entity sku@location, one per sku-location of the supply plan that loses
  sales (unmet_qty above the statuses' tolerance, sop_pipeline.checks) for one of two reasons:
  (i) its lead time: sales lost in months before the first a planned receipt can arrive (the
  month holding the cut-off + lead_time_days, the plan's own rule; after the horizon when the
  lead time reaches beyond it);
  (ii) its lot: its smallest order (min_order_qty and order_multiple as the plan sizes lots,
  sop_pipeline.supply.lots) is above the sku-location's whole demand over the horizon, and it
  loses sales in months an order could reach: the lot does not fit the work centre, or costs
  more than the sales it saves.
  Sales lost in reach with a lot below the horizon's demand (capacity short) are left to
  projected_stockout. month = the first month such a sale is lost; value = the units lost for
  these reasons, threshold 0; high when that month is within the cycle's first 3 months, else
  medium. value_at_risk = those units x unit_price. The sentence names the sku, the location,
  the lead time or the lot (with the item's min_order_qty / order_multiple) and the units.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sop_pipeline.checks import QTY_TOLERANCE, tolerance
from sop_pipeline.cycle import first_receipt_months
from sop_pipeline.review.wording import money_text, quantity_text, units_text
from sop_pipeline.supply.inputs import LOT_COLUMNS, item_units
from sop_pipeline.supply.lots import item_lots
from sop_pipeline.tables import SERIES_KEY

UNPLANNABLE_HIGH_MONTHS = 3


def unplannable_alerts(
    cutoff: pd.Timestamp, plan: pd.DataFrame | None, items: pd.DataFrame | None,
    prices: pd.DataFrame, currency: str,
) -> list[dict[str, object]]:
    """One alert per sku-location losing sales to its lead time or its lot (module doc).

    plan: supply_plan rows of one scenario (sku, location_id, month, demand_qty, unmet_qty);
    items: sku, lead_time_days and optionally uom, min_order_qty, order_multiple; prices: sku,
    unit_price."""
    if (plan is None or plan.empty or items is None or items.empty
            or not {"demand_qty", "unmet_qty"} <= set(plan.columns)
            or "lead_time_days" not in items.columns):
        return []
    nodes = _unplannable_nodes(cutoff, plan, items.drop_duplicates("sku"))
    nodes = nodes.merge(prices[["sku", "unit_price"]], on="sku", how="left")
    high_until = cutoff + pd.DateOffset(months=UNPLANNABLE_HIGH_MONTHS)
    return [
        {
            "kind": "unplannable_sku",
            "severity": "high" if row.first_lost < high_until else "medium",
            "entity": f"{row.sku}@{row.location_id}",
            "month": row.first_lost,
            "message": _message(row, currency),
            "value": row.units,
            "threshold": 0.0,
            "value_at_risk": row.units * row.unit_price,
        }
        for row in nodes.itertuples(index=False)
    ]


def _unplannable_nodes(cutoff: pd.Timestamp, plan: pd.DataFrame, items: pd.DataFrame
                       ) -> pd.DataFrame:
    """Per sku-location that loses sales to its lead time or lot: the units lost to each
    (lead_units, lot_units, units), the first such month, the first arrival month, the
    horizon's last month and demand, the lot and the item's lot columns."""
    rows = plan[[*SERIES_KEY, "month", "demand_qty", "unmet_qty"]].merge(
        _item_rules(items), on="sku", how="inner")
    rows["month"] = pd.to_datetime(rows["month"])
    rows["arrival"] = first_receipt_months(cutoff, rows["lead_time_days"])
    demand, unmet = rows["demand_qty"].astype(float), rows["unmet_qty"].astype(float)
    lost = unmet.where(unmet > tolerance(demand, unmet, absolute=QTY_TOLERANCE), 0.0)
    horizon_demand = demand.groupby([rows[key] for key in SERIES_KEY]).transform("sum")
    lot_bound = rows["minimum"] > horizon_demand + tolerance(rows["minimum"], horizon_demand)
    early = rows["month"] < rows["arrival"]
    rows = rows.assign(lead_lost=lost.where(early, 0.0),
                       lot_lost=lost.where(~early & lot_bound, 0.0))
    first = (rows[rows["lead_lost"] + rows["lot_lost"] > 0]
             .groupby(SERIES_KEY, as_index=False)["month"].min()
             .rename(columns={"month": "first_lost"}))
    nodes = rows.groupby(SERIES_KEY, as_index=False).agg(
        lead_time_days=("lead_time_days", "first"), arrival=("arrival", "first"),
        last_month=("month", "max"), demand=("demand_qty", "sum"),
        minimum=("minimum", "first"), min_order_qty=("min_order_qty", "first"),
        order_multiple=("order_multiple", "first"),
        lead_units=("lead_lost", "sum"), lot_units=("lot_lost", "sum"))
    nodes = nodes.merge(first, on=SERIES_KEY)  # the sku-locations that lose any
    return nodes.assign(units=nodes["lead_units"] + nodes["lot_units"])


def _item_rules(items: pd.DataFrame) -> pd.DataFrame:
    """sku, lead_time_days, the smallest order the plan may place (its lot) and the item's
    own min_order_qty and order_multiple (NaN where absent)."""
    units = item_units(items)
    lots = item_lots(units["step"].to_numpy(), *(units[c].to_numpy() for c in LOT_COLUMNS))
    return units[["sku", *LOT_COLUMNS]].assign(
        lead_time_days=pd.to_numeric(items["lead_time_days"]).astype(float).to_numpy(),
        minimum=lots.minimum)


def _message(row: Any, currency: str) -> str:
    """'A at PLT1 loses 554 units of sales no planned order can save from Oct 2026 (11,080
    EUR): its smallest order, ... .'"""
    reasons, actions = [], []
    if row.lead_units > 0:
        actions.append("expedite an open order or shorten the lead time")
        arrival = (f"after the horizon's end ({row.last_month:%b %Y})"
                   if row.arrival > row.last_month else f"in {row.arrival:%b %Y}")
        reasons.append(
            f"its lead time of {quantity_text(row.lead_time_days)} days brings the first "
            f"planned receipt {arrival}, too late for {units_text(row.lead_units)}")
    if row.lot_units > 0:
        actions.append("check the item's lot")
        reasons.append(
            f"its smallest order, {units_text(row.minimum)} ({_lot_text(row)}), is above its "
            f"{units_text(row.demand)} of demand over the horizon, and "
            f"{units_text(row.lot_units)} are lost in months an order could reach")
    sales = money_text(row.units * row.unit_price, currency)
    action = "; ".join(actions)
    return (f"{row.sku} at {row.location_id} loses {units_text(row.units)} of sales no planned "
            f"order can save from {row.first_lost:%b %Y} ({sales}): {'; '.join(reasons)}. "
            f"{action[0].upper()}{action[1:]}.")


def _lot_text(row: Any) -> str:
    """'min_order_qty 500, order_multiple 1,000' as the item states them."""
    given = [f"{column} {quantity_text(value)}"
             for column, value in (("min_order_qty", row.min_order_qty),
                                   ("order_multiple", row.order_multiple))
             if np.isfinite(value) and value > 0]
    return ", ".join(given) or "one unit of measure step"
