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
- late_purchase_order, entity "order_id/line_no", threshold 0, value = days late:
  (i) every open purchase line past due at the cut-off; month = the cycle month (when it is
  now expected); high above 30 days late, else medium.
  (ii) every purchase line received late (received_date > due_date) in the month before the
  cut-off (received on or after cut-off - 1 month, before the cut-off); month = that month;
  high above 30 days late, medium above 7, else low.
- supplier_lead_time: one per supplier x sku whose received purchase lines (received in the
  12 months before the cut-off, at least 3 of them) have a median actual lead time
  (received_date - order_date, days) more than 10 % longer than the item's lead_time_days;
  entity "supplier_id/sku", month = the cycle month, value = median actual days, threshold =
  item lead time days; high above 1.5 x the item lead time, else medium. Items without a
  lead time are skipped.
- biased_forecast: one per series whose selected model has a backtest |bias| > 0.2 (bias =
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
from sop_pipeline.supply.inventory import COVER_MONTHS, EXCESS_COVER_DAYS
from sop_pipeline.tables import OUTPUT_TABLES, SERIES_KEY

ALERT_COLUMNS = OUTPUT_TABLES["alerts"].stage_columns
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
# Every kind of alert, in the order the docstring above describes them.
ALERT_KINDS = (
    "projected_stockout", "below_safety_stock", "excess_stock", "capacity_overload",
    "late_purchase_order", "supplier_lead_time", "biased_forecast",
)
STOCKOUT_HIGH_MONTHS = 3
BELOW_SAFETY_MEDIUM_MONTHS = 3
OVERLOAD_HIGH_UTILISATION = 1.2
LATE_HIGH_DAYS = 30
LATE_RECEIPT_MEDIUM_DAYS = 7
LATE_RECEIPT_WINDOW_MONTHS = 1
LEAD_TIME_WINDOW_MONTHS = 12
LEAD_TIME_MIN_LINES = 3
LEAD_TIME_TOLERANCE = 0.10
LEAD_TIME_HIGH_RATIO = 1.5
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
        *_late_purchase_alerts(cutoff, late_orders),
        *_late_receipt_alerts(cutoff, received_orders),
        *_supplier_lead_time_alerts(cutoff, received_orders, items),
        *_biased_forecast_alerts(cutoff, accuracy),
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
                f"plan: short by {_number(row.shortage)} units."
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
                f"in {row.month:%b %Y}: closing stock {_number(row.closing_qty)} vs safety "
                f"stock {_number(row.safety_stock_qty)} units "
                f"({_number(row.safety_stock_qty - row.closing_qty)} under)."
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
            f"{where}: {_number(row.closing_qty)} units with no demand in the next "
            f"{COVER_MONTHS} months."
        )
    return (
        f"{where}: {row.days_of_cover:,.0f} days of cover ({_number(row.closing_qty)} units) "
        f"vs at most {_number(excess_cover_days)} days."
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
    centre = f"Work centre {_label(row.work_center_id, name)}"
    month = f"{pd.Timestamp(row.month):%b %Y}"
    required = f"{_number(row.required_hours)} h"
    if row.available_hours == 0:
        message = f"{centre} has no available hours in {month} but {required} are required."
    else:
        message = (
            f"{centre} is loaded at {row.utilisation:.0%} in {month}: {required} required vs "
            f"{_number(row.available_hours)} h available ({_number(row.overload_hours)} h over)."
        )
    top_skus = getattr(row, "top_skus", None)
    if isinstance(top_skus, str) and top_skus.strip():
        message += f" Most of the load comes from {top_skus.strip()}."
    return message


# --- purchase orders and suppliers ------------------------------------------------------------


def _late_purchase_alerts(
    cutoff: pd.Timestamp, late_orders: pd.DataFrame
) -> list[dict[str, object]]:
    """Every open purchase line already past its due date at the cut-off."""
    if late_orders.empty:
        return []
    late = late_orders
    if "supply_type" in late.columns:
        late = late[late["supply_type"] == "purchase"]
    if "is_late" in late.columns:
        late = late[late["is_late"].astype(bool)]
    alerts = []
    for row in late.itertuples(index=False):
        due_date = pd.Timestamp(row.due_date)
        days_late = (cutoff - due_date).days
        alerts.append(
            {
                "kind": "late_purchase_order",
                "severity": "high" if days_late > LATE_HIGH_DAYS else "medium",
                "entity": f"{row.order_id}/{row.line_no}",
                "month": cutoff,
                "message": (
                    f"Purchase order {row.order_id} line {row.line_no} from supplier "
                    f"{row.supplier_id} ({_number(row.quantity)} units of {row.sku} for "
                    f"{row.location_id}) was due {due_date:%Y-%m-%d} and is {days_late} days "
                    f"late at the {cutoff:%Y-%m-%d} cut-off."
                ),
                "value": float(days_late),
                "threshold": 0.0,
            }
        )
    return alerts


def _late_receipt_alerts(
    cutoff: pd.Timestamp, received_orders: pd.DataFrame | None
) -> list[dict[str, object]]:
    """Every purchase line received after its due date in the month before the cut-off."""
    since = cutoff - pd.DateOffset(months=LATE_RECEIPT_WINDOW_MONTHS)
    lines = _received_purchase_lines(received_orders, since, cutoff)
    late = lines[lines["received_date"] > lines["due_date"]]
    alerts = []
    for row in late.itertuples(index=False):
        days_late = (row.received_date - row.due_date).days
        alerts.append(
            {
                "kind": "late_purchase_order",
                "severity": _late_receipt_severity(days_late),
                "entity": f"{row.order_id}/{row.line_no}",
                "month": month_start(row.received_date),
                "message": (
                    f"Purchase order {row.order_id} line {row.line_no} from supplier "
                    f"{row.supplier_id} ({_number(row.quantity)} units of {row.sku} for "
                    f"{row.location_id}) was due {row.due_date:%Y-%m-%d} and received "
                    f"{row.received_date:%Y-%m-%d}, {days_late} days late."
                ),
                "value": float(days_late),
                "threshold": 0.0,
            }
        )
    return alerts


def _late_receipt_severity(days_late: int) -> str:
    if days_late > LATE_HIGH_DAYS:
        return "high"
    return "medium" if days_late > LATE_RECEIPT_MEDIUM_DAYS else "low"


def _supplier_lead_time_alerts(
    cutoff: pd.Timestamp, received_orders: pd.DataFrame | None, items: pd.DataFrame | None
) -> list[dict[str, object]]:
    """Supplier x sku pairs whose median actual lead time overruns the item's lead time."""
    if items is None or items.empty:
        return []
    since = cutoff - pd.DateOffset(months=LEAD_TIME_WINDOW_MONTHS)
    lines = _received_purchase_lines(received_orders, since, cutoff)
    lines = lines.assign(actual_days=(lines["received_date"] - lines["order_date"]).dt.days)
    lines = lines[lines["actual_days"].notna()]
    pairs = (
        lines.groupby(["supplier_id", "sku"], as_index=False)
        .agg(median_days=("actual_days", "median"), lines=("actual_days", "size"))
        .merge(_lead_times(items), on="sku")
    )
    slow = pairs[
        (pairs["lines"] >= LEAD_TIME_MIN_LINES)
        & (pairs["median_days"] > pairs["lead_time_days"] * (1 + LEAD_TIME_TOLERANCE))
    ]
    return [
        {
            "kind": "supplier_lead_time",
            "severity": (
                "high"
                if row.median_days > row.lead_time_days * LEAD_TIME_HIGH_RATIO
                else "medium"
            ),
            "entity": f"{row.supplier_id}/{row.sku}",
            "month": cutoff,
            "message": _lead_time_message(row),
            "value": float(row.median_days),
            "threshold": float(row.lead_time_days),
        }
        for row in slow.itertuples(index=False)
    ]


def _lead_time_message(row: Any) -> str:
    """'Supplier SUP-7 takes 45 days to deliver A (median of 4 lines ...) vs 30 days ...'."""
    longer = (
        f", {row.median_days / row.lead_time_days - 1:.0%} longer than"
        if row.lead_time_days > 0
        else " vs"
    )
    return (
        f"Supplier {row.supplier_id} takes {_number(row.median_days)} days to deliver "
        f"{row.sku} (median of {row.lines} lines received in the {LEAD_TIME_WINDOW_MONTHS} "
        f"months before the cut-off){longer} the {_number(row.lead_time_days)}-day lead time "
        f"planning uses: update the item lead time or talk to the supplier."
    )


def _lead_times(items: pd.DataFrame) -> pd.DataFrame:
    """sku, lead_time_days of the items that have one."""
    lead_times = items[["sku", "lead_time_days"]].assign(
        lead_time_days=items["lead_time_days"].astype(float)
    )
    return lead_times.dropna().drop_duplicates("sku")


def _received_purchase_lines(
    orders: pd.DataFrame | None, since: pd.Timestamp, until: pd.Timestamp
) -> pd.DataFrame:
    """Purchase lines received on or after `since` and before `until`, dates as days."""
    columns = ["order_id", "line_no", "supplier_id", "sku", "location_id", "quantity",
               "order_date", "due_date", "received_date"]
    if orders is None or orders.empty:
        return pd.DataFrame(
            {c: pd.Series(dtype="datetime64[ns]" if c.endswith("_date") else object)
             for c in columns}
        )
    lines = orders
    if "supply_type" in lines.columns:
        lines = lines[lines["supply_type"].astype(str).str.lower() == "purchase"]
    lines = lines.assign(
        **{c: pd.to_datetime(lines[c]).dt.normalize() for c in columns if c.endswith("_date")}
    )
    received = lines["received_date"]
    return lines[(received >= since) & (received < until)]


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


# --- helpers ----------------------------------------------------------------------------------


def _number(value: float) -> str:
    """A quantity for a sentence: thousands separators, one decimal only when there is one."""
    rounded = round(float(value), 1) + 0.0  # + 0.0 turns -0.0 into 0.0
    return f"{rounded:,.0f}" if rounded.is_integer() else f"{rounded:,.1f}"


def _label(work_center_id: str, name: object) -> str:
    """'WC-ASSY (Final assembly)' when the centre has a distinct name, else its id."""
    if pd.isna(name) or name == work_center_id:
        return str(work_center_id)
    return f"{work_center_id} ({name})"


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
