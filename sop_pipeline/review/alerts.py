"""Planner alerts of a cycle: stock, capacity, purchase orders, suppliers and forecast bias.

Each alert has a kind, a severity (high, medium, low), the entity it is about, the month it
bites, a sentence a planner can act on (naming the sku at its location, the work centre, the
purchase order line or the supplier), and the value that tripped it against its threshold.
"The cycle's first 3 months" means months before cycle_month + 3 months.

- projected_stockout: one per sku@location, at the first month its projected status is
  'stockout' (demand the supply plan cannot meet, or closing stock below zero); value =
  shortage qty (the unmet demand, or minus the closing stock), threshold 0; high within the
  cycle's first 3 months, else medium.
- below_safety_stock: one per sku@location without a stockout alert, at the first month its
  status is 'below_safety_stock' (0 <= closing < safety stock); value = closing qty,
  threshold = safety stock qty; medium within the cycle's first 3 months, else low.
- excess_stock: one per sku@location, at the first month its status is 'excess'; value =
  days of cover (empty when stock has no demand ahead at all), threshold = excess_cover_days
  (default 180, as in the projection); low.
- capacity_overload: one per work centre x month with utilisation > 1; value = utilisation,
  threshold 1.0; high above 1.2, else medium. A centre with no available hours but some load
  (utilisation nan) is a high alert with value nan. The sentence names the centre by its
  `name` column and lists the skus loading it most from a `top_skus` text column, when the
  capacity rows carry these (both optional).
- late_purchase_order and supplier_lead_time: see sop_pipeline.review.order_alerts.
- possibly_obsolete: one per sku@location whose forecast_accuracy flags it possibly_obsolete
  (no demand in the last 12 months after demand before); entity sku@location, month = the
  cycle month, value = stock on hand at the cut-off (the projection's first opening), threshold
  0; medium when stock is on hand (it may never sell), else low.
- biased_forecast: one per series whose selected model has a backtest |bias| > 0.2 of the same
  sign in every backtest window (where the rows say so: bias_consistent) (bias =
  sum(forecast - actual) / sum(actual), positive = over-forecasting); entity sku@location,
  month = the cycle month, value = bias, threshold = +0.2 or -0.2 (the side crossed); high
  above 0.4 in absolute value, else medium.

Alerts are sorted by severity (high first), then kind, entity and month. alert_counts gives
the number of alerts per "kind/severity" (asset metadata).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sop_pipeline.cycle import month_start
from sop_pipeline.review.order_alerts import (
    late_purchase_alerts,
    late_receipt_alerts,
    supplier_lead_time_alerts,
)
from sop_pipeline.review.wording import centre_label, quantity_text
from sop_pipeline.supply.inventory import COVER_MONTHS, EXCESS_COVER_DAYS
from sop_pipeline.tables import OUTPUT_TABLES, SERIES_KEY

ALERT_COLUMNS = OUTPUT_TABLES["alerts"].stage_columns
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
# Every kind of alert, in the order the docstring above describes them.
ALERT_KINDS = (
    "projected_stockout", "below_safety_stock", "excess_stock", "capacity_overload",
    "late_purchase_order", "supplier_lead_time", "biased_forecast", "possibly_obsolete",
)
STOCKOUT_HIGH_MONTHS = 3
BELOW_SAFETY_MEDIUM_MONTHS = 3
OVERLOAD_HIGH_UTILISATION = 1.2
BIAS_THRESHOLD = 0.2
BIAS_HIGH = 0.4


def build_alerts(
    cycle_month: pd.Timestamp,
    inventory: pd.DataFrame,
    capacity: pd.DataFrame,
    late_orders: pd.DataFrame,
    *,
    received_orders: pd.DataFrame | None = None,
    items: pd.DataFrame | None = None,
    accuracy: pd.DataFrame | None = None,
    excess_cover_days: float = EXCESS_COVER_DAYS,
) -> pd.DataFrame:
    """All alerts of a cycle, in ALERT_COLUMNS, sorted by severity then kind.

    inventory: project_inventory output (below-safety and excess alerts need its status,
    safety_stock_qty and days_of_cover columns); capacity: capacity_plan output, optionally
    with name and top_skus; late_orders: open_supply_at_cutoff rows (only is_late purchase
    lines raise an alert); received_orders: purchase lines with order_id, line_no,
    supplier_id, sku, location_id, quantity, order_date, due_date, received_date (e.g. all
    of fct_supply_orders: other supply types and lines not received before the cut-off are
    ignored); items: sku, lead_time_days; accuracy: forecast_accuracy rows (sku,
    location_id, model, bias, is_selected).
    """
    cutoff = month_start(cycle_month)
    alerts = [
        *_stockout_alerts(cutoff, inventory),
        *_below_safety_stock_alerts(cutoff, inventory),
        *_excess_stock_alerts(inventory, excess_cover_days),
        *_overload_alerts(capacity),
        *late_purchase_alerts(cutoff, late_orders),
        *late_receipt_alerts(cutoff, received_orders),
        *supplier_lead_time_alerts(cutoff, received_orders, items),
        *_biased_forecast_alerts(cutoff, accuracy),
        *_obsolete_alerts(cutoff, accuracy, inventory),
    ]
    if not alerts:
        return _empty_alerts()
    frame = pd.DataFrame(alerts, columns=ALERT_COLUMNS)
    frame["month"] = pd.to_datetime(frame["month"])
    frame["value"] = frame["value"].astype(float)
    frame["threshold"] = frame["threshold"].astype(float)
    return frame.sort_values(
        ["severity", "kind", "entity", "month"],
        key=lambda column: column.map(SEVERITY_ORDER) if column.name == "severity" else column,
        ignore_index=True,
    )


def alert_counts(alerts: pd.DataFrame) -> dict[str, int]:
    """Number of alerts per "kind/severity", e.g. {"projected_stockout/high": 3}."""
    if alerts.empty:
        return {}
    counts = alerts.groupby(["kind", "severity"]).size()
    ordered = sorted(counts.items(), key=lambda item: (item[0][0], SEVERITY_ORDER[item[0][1]]))
    return {f"{kind}/{severity}": int(count) for (kind, severity), count in ordered}


# --- inventory --------------------------------------------------------------------------------


def _stockout_alerts(cutoff: pd.Timestamp, inventory: pd.DataFrame) -> list[dict[str, object]]:
    """The first month each sku@location runs short (status 'stockout')."""
    if inventory.empty:
        return []
    unmet = inventory["unmet_qty"] if "unmet_qty" in inventory else 0.0
    short = inventory.assign(shortage=np.maximum(unmet, -inventory["closing_qty"]))
    # the projection's status allows for float noise; a bare frame counts any shortage
    at_risk = short["status"] == "stockout" if "status" in short else short["shortage"] > 0
    first = _first_month(short[at_risk])
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
                f"plan: short by {quantity_text(row.shortage)} units."
            ),
            "value": row.shortage,
            "threshold": 0.0,
        }
        for row in first.itertuples(index=False)
    ]


def _below_safety_stock_alerts(
    cutoff: pd.Timestamp, inventory: pd.DataFrame
) -> list[dict[str, object]]:
    """The first month each sku@location without a stockout dips below its safety stock."""
    if inventory.empty or not {"status", "safety_stock_qty"} <= set(inventory.columns):
        return []
    stocked_out = inventory.loc[inventory["status"] == "stockout", SERIES_KEY].drop_duplicates()
    below = inventory[inventory["status"] == "below_safety_stock"].merge(
        stocked_out.assign(_stockout=True), on=SERIES_KEY, how="left"
    )
    first = _first_month(below[below["_stockout"].isna()])
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
        }
        for row in first.itertuples(index=False)
    ]


def _excess_stock_alerts(
    inventory: pd.DataFrame, excess_cover_days: float
) -> list[dict[str, object]]:
    """The first month each sku@location holds more stock than its demand ahead needs."""
    if inventory.empty or not {"status", "days_of_cover"} <= set(inventory.columns):
        return []
    first = _first_month(inventory[inventory["status"] == "excess"])
    return [
        {
            "kind": "excess_stock",
            "severity": "low",
            "entity": f"{row.sku}@{row.location_id}",
            "month": row.month,
            "message": _excess_message(row, excess_cover_days),
            "value": row.days_of_cover,
            "threshold": float(excess_cover_days),
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


def _first_month(rows: pd.DataFrame) -> pd.DataFrame:
    """The earliest row of each sku@location."""
    rows = rows.assign(month=pd.to_datetime(rows["month"]))
    return rows.sort_values("month", kind="stable").drop_duplicates(SERIES_KEY, keep="first")


# --- capacity ---------------------------------------------------------------------------------


def _overload_alerts(capacity: pd.DataFrame) -> list[dict[str, object]]:
    """Every work centre x month loaded beyond its available hours."""
    if capacity.empty:
        return []
    no_hours = (capacity["available_hours"] == 0) & (capacity["required_hours"] > 0)
    overloaded = capacity[(capacity["utilisation"] > 1) | no_hours]
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


# --- forecast ---------------------------------------------------------------------------------


def _biased_forecast_alerts(
    cutoff: pd.Timestamp, accuracy: pd.DataFrame | None
) -> list[dict[str, object]]:
    """Series whose selected model over- or under-forecast its backtest by more than 20 %."""
    if accuracy is None or accuracy.empty:
        return []
    selected = accuracy
    if "is_selected" in selected.columns:
        selected = selected[selected["is_selected"].astype(bool)]
    biased = selected[selected["bias"].abs() > BIAS_THRESHOLD]
    if "bias_consistent" in biased.columns:  # a lean in every backtest window, not noise
        biased = biased[biased["bias_consistent"].fillna(False).astype(bool)]
    return [
        {
            "kind": "biased_forecast",
            "severity": "high" if abs(row.bias) > BIAS_HIGH else "medium",
            "entity": f"{row.sku}@{row.location_id}",
            "month": cutoff,
            "message": _bias_message(row),
            "value": float(row.bias),
            "threshold": BIAS_THRESHOLD if row.bias > 0 else -BIAS_THRESHOLD,
        }
        for row in biased.itertuples(index=False)
    ]


def _bias_message(row: Any) -> str:
    """'The selected forecast (auto_ets) of A at DC1 is over-forecasting by 25% ...'."""
    direction = "over" if row.bias > 0 else "under"
    model = getattr(row, "model", None)
    model = f" ({model})" if isinstance(model, str) and model else ""
    return (
        f"The selected forecast{model} of {row.sku} at {row.location_id} is "
        f"{direction}-forecasting by {abs(row.bias):.0%} of actual demand in its backtest "
        f"(bias {row.bias:+.2f}, limit ±{BIAS_THRESHOLD:.2f}): review the model or override it."
    )


def _obsolete_alerts(cutoff: pd.Timestamp, accuracy: pd.DataFrame | None,
                     inventory: pd.DataFrame) -> list[dict[str, object]]:
    """Series with no demand for a year after demand before, with the stock they hold."""
    if accuracy is None or accuracy.empty or "possibly_obsolete" not in accuracy.columns:
        return []
    flagged = accuracy[accuracy["is_selected"].astype(bool)
                       & accuracy["possibly_obsolete"].fillna(False).astype(bool)]
    first = inventory.sort_values("month").drop_duplicates(SERIES_KEY)
    on_hand = dict(zip(zip(first["sku"], first["location_id"], strict=True),
                       first["opening_qty"], strict=True))
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
        })
    return alerts


# --- helpers ----------------------------------------------------------------------------------


def _empty_alerts() -> pd.DataFrame:
    """The alert columns with no rows."""
    return pd.DataFrame(
        {
            "kind": pd.Series(dtype=object),
            "severity": pd.Series(dtype=object),
            "entity": pd.Series(dtype=object),
            "month": pd.Series(dtype="datetime64[ns]"),
            "message": pd.Series(dtype=object),
            "value": pd.Series(dtype=float),
            "threshold": pd.Series(dtype=float),
        }
    )
