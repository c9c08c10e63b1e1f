"""Planner alerts of a cycle: projected stockouts, overloaded work centres, late purchase orders.

Each alert has a kind, a severity, the entity it is about, the month it bites, a sentence a
planner can act on, and the value that tripped it against its threshold:

- projected_stockout: one per sku@location, at the first month closing stock goes negative;
  value = shortage qty, threshold 0; high when within the cycle's first 3 months, else medium.
- capacity_overload: one per work centre x month with utilisation > 1; value = utilisation,
  threshold 1.0; high above 1.2, else medium. A centre with no available hours but some load
  (utilisation nan) is a high alert with value nan.
- late_purchase_order: one per open purchase line past due at the cut-off; month = the cycle
  month (when it is now expected), entity = "order_id/line_no", value = days late, threshold
  0; high above 30 days, else medium.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

ALERT_COLUMNS = ["kind", "severity", "entity", "month", "message", "value", "threshold"]
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
STOCKOUT_HIGH_MONTHS = 3
OVERLOAD_HIGH_UTILISATION = 1.2
LATE_HIGH_DAYS = 30


def build_alerts(
    cycle_month: pd.Timestamp,
    inventory: pd.DataFrame,
    capacity: pd.DataFrame,
    late_orders: pd.DataFrame,
) -> pd.DataFrame:
    """All alerts of a cycle, sorted by severity then kind.

    inventory: project_inventory output; capacity: capacity_plan output; late_orders:
    open_supply_at_cutoff rows (only is_late purchase lines raise an alert).
    """
    cutoff = pd.Timestamp(cycle_month).to_period("M").to_timestamp()
    alerts = [
        *_stockout_alerts(cutoff, inventory),
        *_overload_alerts(capacity),
        *_late_purchase_alerts(cutoff, late_orders),
    ]
    if not alerts:
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
    frame = pd.DataFrame(alerts, columns=ALERT_COLUMNS)
    frame["month"] = pd.to_datetime(frame["month"])
    frame["value"] = frame["value"].astype(float)
    frame["threshold"] = frame["threshold"].astype(float)
    frame = frame.sort_values(
        ["severity", "kind", "entity", "month"],
        key=lambda column: column.map(SEVERITY_ORDER) if column.name == "severity" else column,
        ignore_index=True,
    )
    return frame


def _stockout_alerts(cutoff: pd.Timestamp, inventory: pd.DataFrame) -> list[dict[str, object]]:
    """The first month each sku@location closes below zero."""
    if inventory.empty:
        return []
    short = inventory[inventory["closing_qty"] < 0].assign(
        month=lambda frame: pd.to_datetime(frame["month"])
    )
    first = short.sort_values("month").drop_duplicates(["sku", "location_id"], keep="first")
    high_until = cutoff + pd.DateOffset(months=STOCKOUT_HIGH_MONTHS)
    return [
        {
            "kind": "projected_stockout",
            "severity": "high" if row.month < high_until else "medium",
            "entity": f"{row.sku}@{row.location_id}",
            "month": row.month,
            "message": (
                f"{row.sku} at {row.location_id} is projected to run out of stock in "
                f"{row.month:%b %Y} with the stock on hand and the open orders: closing stock "
                f"{_number(row.closing_qty)}, short by {_number(-row.closing_qty)} units."
            ),
            "value": -row.closing_qty,
            "threshold": 0.0,
        }
        for row in first.itertuples(index=False)
    ]


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
        return f"{centre} has no available hours in {month} but {required} are required."
    return (
        f"{centre} is loaded at {row.utilisation:.0%} in {month}: {required} required vs "
        f"{_number(row.available_hours)} h available ({_number(row.overload_hours)} h over)."
    )


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


def _number(value: float) -> str:
    """A quantity for a sentence: thousands separators, decimals only when there are any."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _label(work_center_id: str, name: object) -> str:
    """'WC-ASSY (Final assembly)' when the centre has a distinct name, else its id."""
    if pd.isna(name) or name == work_center_id:
        return str(work_center_id)
    return f"{work_center_id} ({name})"
