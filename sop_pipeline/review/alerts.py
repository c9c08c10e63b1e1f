"""Planner alerts of a cycle: stock, capacity, purchase orders, suppliers, forecast bias, the
action messages on orders and the S&OP decisions past their due month.

Each alert has a kind, a severity (high, medium, low), the entity it is about, the month it
bites, a sentence a planner can act on (naming the sku at its location, the work centre, the
order line or the supplier), the value that tripped it against its threshold, and the money
at stake, value_at_risk, in the items' currency (unit_cost and unit_price of dim_items; nan
where the items do not price it). "The cycle's first 3 months" means months before
cycle_month + 3 months.

- projected_stockout: one per sku@location, at the first month its projected status is
  'stockout' (demand the supply plan cannot meet, or closing stock below zero); value =
  shortage qty (the unmet demand, or minus the closing stock), threshold 0; high within the
  cycle's first 3 months, else medium. value_at_risk = the sku@location's shortage over the
  whole horizon (unmet demand summed, plus the deepest negative closing stock) x unit_price:
  the sales lost, which the sentence states with the horizon's units.
- unplannable_sku: sales no planned order can save, lost to a sku-location's lead time or to
  a lot above its whole horizon's demand: see sop_pipeline.review.unplannable.
- below_safety_stock: one per sku@location without a stockout alert, at the first month its
  status is 'below_safety_stock' (0 <= closing < safety stock); value = closing qty,
  threshold = safety stock qty; medium within the cycle's first 3 months, else low.
  value_at_risk = units under safety stock x unit_cost (the buffer missing).
- excess_stock: one per sku@location, at the first month its status is 'excess'; value =
  days of cover (empty when stock has no demand ahead at all), threshold = excess_cover_days
  (default 180, as in the projection); low. value_at_risk = the units beyond what the
  threshold's days of cover need (closing x (1 - threshold / days of cover); all of the stock
  without demand ahead) x unit_cost: working capital tied up.
- capacity_overload: one per work centre x month with utilisation > 1 (required hours above
  available beyond the tolerance of sop_pipeline.checks: float noise is no overload); value =
  utilisation, threshold 1.0; high above 1.2, else medium. A centre with no available hours
  but some load (utilisation nan) is a high alert with value nan. The sentence names the
  centre by its `name` column and lists the skus loading it most from a `top_skus` text
  column, when the capacity rows carry these (both optional). value_at_risk = overload_hours
  / required_hours x required_value, the sales value of the consensus demand routed through
  the centre that month (an optional capacity column): the share of that output the overload
  puts at risk.
- late_purchase_order and supplier_lead_time: see sop_pipeline.review.order_alerts.
- biased_forecast and possibly_obsolete: see sop_pipeline.review.forecast_alerts.
- release_now, expedite, push_out, cancel (action messages on planned and open orders): see
  sop_pipeline.review.actions.
- decision_overdue: one per decision of the decision_log still open after its due month, at
  that month; value = months overdue, threshold 0; high from 2 months overdue, else medium.
  The sentence names the decision id, title, owner and due month. value_at_risk empty (a
  decision carries no money). See sop_pipeline.review.decisions.

Alerts are sorted by severity (high first), then value_at_risk (largest first, nan last),
kind, entity and month (sort_alerts). alert_counts gives the number of alerts per
"kind/severity" (asset metadata).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sop_pipeline.checks import QTY_TOLERANCE, exceeds
from sop_pipeline.cycle import month_start
from sop_pipeline.review.actions import ACTION_KINDS, action_alerts
from sop_pipeline.review.decisions import decision_overdue_alerts
from sop_pipeline.review.forecast_alerts import biased_forecast_alerts, obsolete_alerts
from sop_pipeline.review.order_alerts import (
    late_purchase_alerts,
    late_receipt_alerts,
    supplier_lead_time_alerts,
)
from sop_pipeline.review.unplannable import unplannable_alerts
from sop_pipeline.review.wording import centre_label, money_text, quantity_text
from sop_pipeline.supply.inputs import SupplySettings
from sop_pipeline.supply.inventory import COVER_MONTHS, EXCESS_COVER_DAYS
from sop_pipeline.tables import OUTPUT_TABLES, SERIES_KEY

ALERT_COLUMNS = OUTPUT_TABLES["alerts"].stage_columns
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
# Every kind of alert, in the order the docstring above describes them.
ALERT_KINDS = (
    "projected_stockout", "unplannable_sku", "below_safety_stock", "excess_stock",
    "capacity_overload", "late_purchase_order", "supplier_lead_time", "biased_forecast",
    "possibly_obsolete", *ACTION_KINDS, "decision_overdue",
)
DEFAULT_CURRENCY = SupplySettings.currency
STOCKOUT_HIGH_MONTHS = 3
BELOW_SAFETY_MEDIUM_MONTHS = 3
OVERLOAD_HIGH_UTILISATION = 1.2
_PRICE_COLUMNS = ["lead_time_days", "unit_cost", "unit_price"]


def build_alerts(
    cycle_month: pd.Timestamp,
    inventory: pd.DataFrame,
    capacity: pd.DataFrame,
    open_orders: pd.DataFrame,
    *,
    received_orders: pd.DataFrame | None = None,
    items: pd.DataFrame | None = None,
    accuracy: pd.DataFrame | None = None,
    plan: pd.DataFrame | None = None,
    decisions: pd.DataFrame | None = None,
    excess_cover_days: float = EXCESS_COVER_DAYS,
    currency: str = DEFAULT_CURRENCY,
) -> pd.DataFrame:
    """All alerts of a cycle, in ALERT_COLUMNS, in sort_alerts' order.

    inventory: project_inventory output (below-safety and excess alerts need its status,
    safety_stock_qty and days_of_cover columns); capacity: capacity_plan output, optionally
    with name, top_skus and required_value; open_orders: open_supply_at_cutoff rows (is_late
    purchase lines raise a late alert; all lines feed the action messages and the supplier's
    open value); received_orders: purchase lines with order_id, line_no, supplier_id, sku,
    location_id, quantity, order_date, due_date, received_date (e.g. all of
    fct_supply_orders: other supply types and lines not received before the cut-off are
    ignored); items: sku, lead_time_days, unit_cost, unit_price and optionally uom,
    min_order_qty, order_multiple (the lots of unplannable_sku); accuracy: forecast_accuracy
    rows (sku, location_id, model, bias, scaled_bias, demand_class, is_selected); plan:
    supply_plan rows (release_now, unplannable_sku); decisions: decision_log rows of the cycle
    (decision_overdue); currency: of the items' prices, for the sentences.
    """
    cutoff = month_start(cycle_month)
    prices = _item_prices(items)
    alerts = [
        *_stockout_alerts(cutoff, inventory, prices, currency),
        *unplannable_alerts(cutoff, plan, items, prices, currency),
        *_below_safety_stock_alerts(cutoff, inventory, prices),
        *_excess_stock_alerts(inventory, excess_cover_days, prices),
        *_overload_alerts(capacity),
        *late_purchase_alerts(cutoff, open_orders, prices),
        *late_receipt_alerts(cutoff, received_orders),
        *supplier_lead_time_alerts(cutoff, received_orders, prices, open_orders),
        *biased_forecast_alerts(cutoff, accuracy, inventory, prices),
        *obsolete_alerts(cutoff, accuracy, inventory, prices),
        *action_alerts(cutoff, plan, inventory, open_orders, prices, currency),
        *decision_overdue_alerts(decisions),
    ]
    if not alerts:
        return _empty_alerts()
    frame = pd.DataFrame(alerts, columns=ALERT_COLUMNS)
    frame["month"] = pd.to_datetime(frame["month"])
    for column in ("value", "threshold", "value_at_risk"):
        frame[column] = frame[column].astype(float)
    return sort_alerts(frame)


def sort_alerts(alerts: pd.DataFrame) -> pd.DataFrame:
    """Severity (high first, unknown last), value_at_risk (largest first, nan last), then kind,
    entity and month: the order of the alerts table and of the pack's top alerts."""
    rank = alerts["severity"].map(SEVERITY_ORDER).fillna(len(SEVERITY_ORDER))
    order = alerts.assign(_rank=rank, _risk=alerts["value_at_risk"].fillna(-np.inf)).sort_values(
        ["_rank", "_risk", "kind", "entity", "month"],
        ascending=[True, False, True, True, True], kind="stable")
    return order.drop(columns=["_rank", "_risk"]).reset_index(drop=True)


def alert_counts(alerts: pd.DataFrame) -> dict[str, int]:
    """Number of alerts per "kind/severity", e.g. {"projected_stockout/high": 3}."""
    if alerts.empty:
        return {}
    counts = alerts.groupby(["kind", "severity"]).size()
    ordered = sorted(counts.items(), key=lambda item: (item[0][0], SEVERITY_ORDER[item[0][1]]))
    return {f"{kind}/{severity}": int(count) for (kind, severity), count in ordered}


def _item_prices(items: pd.DataFrame | None) -> pd.DataFrame:
    """sku, lead_time_days, unit_cost, unit_price of every item (nan where items lack one)."""
    if items is None or items.empty:
        return pd.DataFrame({"sku": pd.Series(dtype=object),
                             **{c: pd.Series(dtype=float) for c in _PRICE_COLUMNS}})
    prices = items.drop_duplicates("sku").reindex(columns=["sku", *_PRICE_COLUMNS])
    return prices.astype(dict.fromkeys(_PRICE_COLUMNS, float)).reset_index(drop=True)


# --- inventory --------------------------------------------------------------------------------


def _stockout_alerts(cutoff: pd.Timestamp, inventory: pd.DataFrame, prices: pd.DataFrame,
                     currency: str) -> list[dict[str, object]]:
    """The first month each sku@location runs short (status 'stockout'), with its shortage
    over the horizon."""
    if inventory.empty:
        return []
    unmet = inventory["unmet_qty"] if "unmet_qty" in inventory else 0.0
    short = inventory.assign(shortage=np.maximum(unmet, -inventory["closing_qty"]),
                             lost=unmet, backlog=(-inventory["closing_qty"]).clip(lower=0))
    # the projection's status allows for float noise; a bare frame counts any shortage
    at_risk = short["status"] == "stockout" if "status" in short else short["shortage"] > 0
    horizon = short[at_risk].groupby(SERIES_KEY).agg(lost=("lost", "sum"),
                                                     backlog=("backlog", "max"))
    first = _first_month(short[at_risk].drop(columns=["lost", "backlog"]), prices).merge(
        (horizon["lost"] + horizon["backlog"]).rename("horizon_shortage").reset_index(),
        on=SERIES_KEY)
    high_until = cutoff + pd.DateOffset(months=STOCKOUT_HIGH_MONTHS)
    return [
        {
            "kind": "projected_stockout",
            "severity": "high" if row.month < high_until else "medium",
            "entity": f"{row.sku}@{row.location_id}",
            "month": row.month,
            "message": (
                f"{row.sku} at {row.location_id} is projected to run out of stock in "
                f"{row.month:%b %Y} with the stock on hand, the open orders and the supply "
                f"plan: short by {quantity_text(row.shortage)} units"
                f"{_horizon_text(row, currency)}."
            ),
            "value": row.shortage,
            "threshold": 0.0,
            "value_at_risk": row.horizon_shortage * row.unit_price,
        }
        for row in first.itertuples(index=False)
    ]


def _horizon_text(row: Any, currency: str) -> str:
    """', 208 units over the horizon (6,240 EUR of sales)' when later months run short too;
    the sales only, where priced, when they do not."""
    lost = row.horizon_shortage * row.unit_price
    sales = "" if pd.isna(lost) else f" ({money_text(lost, currency)} of sales)"
    if row.horizon_shortage <= row.shortage + QTY_TOLERANCE:
        return sales
    return f", {quantity_text(row.horizon_shortage)} units over the horizon{sales}"


def _below_safety_stock_alerts(
    cutoff: pd.Timestamp, inventory: pd.DataFrame, prices: pd.DataFrame
) -> list[dict[str, object]]:
    """The first month each sku@location without a stockout dips below its safety stock."""
    if inventory.empty or not {"status", "safety_stock_qty"} <= set(inventory.columns):
        return []
    stocked_out = inventory.loc[inventory["status"] == "stockout", SERIES_KEY].drop_duplicates()
    below = inventory[inventory["status"] == "below_safety_stock"].merge(
        stocked_out.assign(_stockout=True), on=SERIES_KEY, how="left"
    )
    first = _first_month(below[below["_stockout"].isna()], prices)
    medium_until = cutoff + pd.DateOffset(months=BELOW_SAFETY_MEDIUM_MONTHS)
    return [
        {
            "kind": "below_safety_stock",
            "severity": "medium" if row.month < medium_until else "low",
            "entity": f"{row.sku}@{row.location_id}",
            "month": row.month,
            "message": (
                f"{row.sku} at {row.location_id} is projected to fall below its safety stock "
                f"in {row.month:%b %Y}: closing stock {quantity_text(row.closing_qty)} vs safety "
                f"stock {quantity_text(row.safety_stock_qty)} units "
                f"({quantity_text(row.safety_stock_qty - row.closing_qty)} under)."
            ),
            "value": row.closing_qty,
            "threshold": row.safety_stock_qty,
            "value_at_risk": (row.safety_stock_qty - row.closing_qty) * row.unit_cost,
        }
        for row in first.itertuples(index=False)
    ]


def _excess_stock_alerts(
    inventory: pd.DataFrame, excess_cover_days: float, prices: pd.DataFrame
) -> list[dict[str, object]]:
    """The first month each sku@location holds more stock than its demand ahead needs."""
    if inventory.empty or not {"status", "days_of_cover"} <= set(inventory.columns):
        return []
    first = _first_month(inventory[inventory["status"] == "excess"], prices)
    return [
        {
            "kind": "excess_stock",
            "severity": "low",
            "entity": f"{row.sku}@{row.location_id}",
            "month": row.month,
            "message": _excess_message(row, excess_cover_days),
            "value": row.days_of_cover,
            "threshold": float(excess_cover_days),
            "value_at_risk": _excess_units(row, excess_cover_days) * row.unit_cost,
        }
        for row in first.itertuples(index=False)
    ]


def _excess_message(row: Any, excess_cover_days: float) -> str:
    """'A at DC1 holds excess stock from Dec 2026: 250 days of cover (...) vs at most 180.'"""
    where = f"{row.sku} at {row.location_id} holds excess stock from {row.month:%b %Y}"
    if pd.isna(row.days_of_cover):
        return (
            f"{where}: {quantity_text(row.closing_qty)} units with no demand in the next "
            f"{COVER_MONTHS} months."
        )
    return (
        f"{where}: {row.days_of_cover:,.0f} days of cover ({quantity_text(row.closing_qty)} units) "
        f"vs at most {quantity_text(excess_cover_days)} days."
    )


def _excess_units(row: Any, excess_cover_days: float) -> float:
    """Closing stock beyond what excess_cover_days of cover need (all of it without demand)."""
    if pd.isna(row.days_of_cover):
        return float(row.closing_qty)
    return float(row.closing_qty) * max(0.0, 1.0 - excess_cover_days / row.days_of_cover)


def _first_month(rows: pd.DataFrame, prices: pd.DataFrame) -> pd.DataFrame:
    """The earliest row of each sku@location, with its item's prices."""
    rows = rows.assign(month=pd.to_datetime(rows["month"]))
    first = rows.sort_values("month", kind="stable").drop_duplicates(SERIES_KEY, keep="first")
    return first.merge(prices, on="sku", how="left")


# --- capacity ---------------------------------------------------------------------------------


def _overload_alerts(capacity: pd.DataFrame) -> list[dict[str, object]]:
    """Every work centre x month loaded beyond its available hours."""
    if capacity.empty:
        return []
    # utilisation > 1, or hours required where none are available, beyond float noise
    overloaded = capacity[exceeds(capacity["required_hours"].astype(float),
                                  capacity["available_hours"].astype(float))]
    names = overloaded["name"] if "name" in overloaded.columns else overloaded["work_center_id"]
    # A nan utilisation (no hours at all) fails the <= test and so lands in high.
    return [
        {
            "kind": "capacity_overload",
            "severity": "medium" if row.utilisation <= OVERLOAD_HIGH_UTILISATION else "high",
            "entity": row.work_center_id,
            "month": pd.Timestamp(row.month),
            "message": _overload_message(row, name),
            "value": row.utilisation,
            "threshold": 1.0,
            "value_at_risk": (row.overload_hours / row.required_hours
                              * getattr(row, "required_value", np.nan)),
        }
        for row, name in zip(overloaded.itertuples(index=False), names, strict=True)
    ]


def _overload_message(row: Any, name: object) -> str:
    """'Work centre WC-ASSY is loaded at 130% in Oct 2026: 130 h required vs 100 h ...'."""
    centre = f"Work centre {centre_label(row.work_center_id, name)}"
    month = f"{pd.Timestamp(row.month):%b %Y}"
    required = f"{quantity_text(row.required_hours)} h"
    if row.available_hours == 0:
        message = f"{centre} has no available hours in {month} but {required} are required."
    else:
        message = (
            f"{centre} is loaded at {row.utilisation:.0%} in {month}: {required} required vs "
            f"{quantity_text(row.available_hours)} h available "
            f"({quantity_text(row.overload_hours)} h over)."
        )
    top_skus = getattr(row, "top_skus", None)
    if isinstance(top_skus, str) and top_skus.strip():
        message += f" Most of the load comes from {top_skus.strip()}."
    return message


# --- helpers ----------------------------------------------------------------------------------


def _empty_alerts() -> pd.DataFrame:
    """The alert columns with no rows."""
    dtypes = {"month": "datetime64[ns]", "value": float, "threshold": float,
              "value_at_risk": float}
    return pd.DataFrame({column: pd.Series(dtype=dtypes.get(column, object))
                         for column in ALERT_COLUMNS})
