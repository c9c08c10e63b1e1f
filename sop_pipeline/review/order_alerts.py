"""Purchase-order and supplier alerts of a cycle (kinds late_purchase_order, supplier_lead_time).

- late_purchase_order, entity "order_id/line_no", threshold 0, value = days late:
  (i) every open purchase line past due at the cut-off; month = the cycle month (when it is
  now expected); high above 30 days late, else medium.
  (ii) every purchase line received late (received_date > due_date) in the month before the
  cut-off (received on or after cut-off - 1 month, before the cut-off); month = that month;
  high above 30 days late, medium above 7, else low.
  value_at_risk = the open quantity x unit_cost: the line's value for (i), 0 for (ii) (it has
  come in).
- supplier_lead_time: one per supplier x sku whose received purchase lines (received in the
  12 months before the cut-off, at least 3 of them) have a median actual lead time
  (received_date - order_date, days) more than 10 % longer than the item's lead_time_days;
  entity "supplier_id/sku", month = the cycle month, value = median actual days, threshold =
  item lead time days; high above 1.5 x the item lead time, else medium. Items without a
  lead time are skipped. value_at_risk = the value (quantity x unit_cost) of the supplier's
  purchase lines for the sku still open at the cut-off, 0 when none is.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from sop_pipeline.cycle import month_start
from sop_pipeline.review.wording import quantity_text

LATE_HIGH_DAYS = 30
LATE_RECEIPT_MEDIUM_DAYS = 7
LATE_RECEIPT_WINDOW_MONTHS = 1
LEAD_TIME_WINDOW_MONTHS = 12
LEAD_TIME_MIN_LINES = 3
LEAD_TIME_TOLERANCE = 0.10
LEAD_TIME_HIGH_RATIO = 1.5


def late_purchase_alerts(
    cutoff: pd.Timestamp, open_orders: pd.DataFrame, prices: pd.DataFrame
) -> list[dict[str, object]]:
    """Every open purchase line already past its due date at the cut-off."""
    if open_orders.empty:
        return []
    late = open_orders
    if "supply_type" in late.columns:
        late = late[late["supply_type"] == "purchase"]
    if "is_late" in late.columns:
        late = late[late["is_late"].astype(bool)]
    late = late.merge(prices[["sku", "unit_cost"]], on="sku", how="left")
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
                    f"{row.supplier_id} ({quantity_text(row.quantity)} units of {row.sku} for "
                    f"{row.location_id}) was due {due_date:%Y-%m-%d} and is {days_late} days "
                    f"late at the {cutoff:%Y-%m-%d} cut-off; the plan expects it in "
                    f"{cutoff:%b %Y}: confirm the date with the supplier."
                ),
                "value": float(days_late),
                "threshold": 0.0,
                "value_at_risk": row.quantity * row.unit_cost,
            }
        )
    return alerts


def late_receipt_alerts(
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
                    f"{row.supplier_id} ({quantity_text(row.quantity)} units of {row.sku} for "
                    f"{row.location_id}) was due {row.due_date:%Y-%m-%d} and received "
                    f"{row.received_date:%Y-%m-%d}, {days_late} days late."
                ),
                "value": float(days_late),
                "threshold": 0.0,
                "value_at_risk": 0.0,
            }
        )
    return alerts


def _late_receipt_severity(days_late: int) -> str:
    if days_late > LATE_HIGH_DAYS:
        return "high"
    return "medium" if days_late > LATE_RECEIPT_MEDIUM_DAYS else "low"


def supplier_lead_time_alerts(
    cutoff: pd.Timestamp, received_orders: pd.DataFrame | None, items: pd.DataFrame | None,
    open_orders: pd.DataFrame | None = None,
) -> list[dict[str, object]]:
    """Supplier x sku pairs whose median actual lead time overruns the item's lead time.

    items: sku, lead_time_days and (for value_at_risk) unit_cost; open_orders: the lines
    open at the cut-off (supply_type, supplier_id, sku, quantity).
    """
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
    pairs = pairs.merge(_open_value(open_orders, items), on=["supplier_id", "sku"], how="left")
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
            "value_at_risk": 0.0 if pd.isna(row.open_value) else float(row.open_value),
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
        f"Supplier {row.supplier_id} takes {quantity_text(row.median_days)} days to deliver "
        f"{row.sku} (median of {row.lines} lines received in the {LEAD_TIME_WINDOW_MONTHS} "
        f"months before the cut-off){longer} the {quantity_text(row.lead_time_days)}-day lead time "
        f"planning uses: update the item lead time or talk to the supplier."
    )


def _lead_times(items: pd.DataFrame) -> pd.DataFrame:
    """sku, lead_time_days of the items that have one."""
    lead_times = items[["sku", "lead_time_days"]].assign(
        lead_time_days=items["lead_time_days"].astype(float)
    )
    return lead_times.dropna().drop_duplicates("sku")


def _open_value(open_orders: pd.DataFrame | None, items: pd.DataFrame) -> pd.DataFrame:
    """supplier_id, sku, open_value: quantity x unit_cost of the open purchase lines."""
    columns = ["supplier_id", "sku", "quantity", "supply_type"]
    if open_orders is None or not set(columns) <= set(open_orders.columns):
        return pd.DataFrame(columns=["supplier_id", "sku", "open_value"])
    lines = open_orders[open_orders["supply_type"] == "purchase"].merge(
        items.reindex(columns=["sku", "unit_cost"]), on="sku", how="left")
    lines = lines.assign(open_value=lines["quantity"].astype(float) * lines["unit_cost"])
    return lines.groupby(["supplier_id", "sku"], as_index=False)["open_value"].sum()


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
