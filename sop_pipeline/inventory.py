"""Open supply at the cycle cut-off and the month-by-month projected inventory.

Open supply at the cut-off (the first day of cycle_month), rebuilt from dates so a backfilled
cycle sees what the planner saw then:

- purchase lines: ordered before the cut-off, not cancelled, and not yet received at the
  cut-off (received_date empty or on/after the cut-off);
- production orders: not cancelled and due on/after the cut-off, or still planned/released
  with a due date before the cut-off (late).

Each open line is received in the month of its due date; a line already past due at the
cut-off (is_late) is expected in cycle_month itself.

Limitations: statuses are as of the extract, not the cut-off. Production orders carry no
creation date, so an order created after the cut-off but due later counts as open, and a
late order completed after the cut-off (now 'completed') is missed. A purchase line cancelled
after the cut-off is missed as well (there is no cancellation date).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

KEY = ["sku", "location_id"]
PROJECTION_COLUMNS = [
    "sku",
    "location_id",
    "month",
    "opening_qty",
    "receipts_qty",
    "demand_qty",
    "closing_qty",
    "status",
]


def open_supply_at_cutoff(supply_orders: pd.DataFrame, cycle_month: pd.Timestamp) -> pd.DataFrame:
    """Purchase lines and production orders open at the cut-off, with receipt_month and is_late.

    supply_orders: supply_type ('purchase' | 'production'), order_id, line_no, supplier_id,
    sku, location_id, quantity, order_date, due_date, received_date, status.
    """
    cutoff = _month_start(cycle_month)
    orders = supply_orders.copy()
    for column in ("order_date", "due_date", "received_date"):
        orders[column] = pd.to_datetime(orders[column])
    status = orders["status"].astype(str).str.lower()
    supply_type = orders["supply_type"].astype(str).str.lower()
    due_before_cutoff = orders["due_date"] < cutoff

    open_purchase = (
        (supply_type == "purchase")
        & (orders["order_date"] < cutoff)
        & (status != "cancelled")
        & (orders["received_date"].isna() | (orders["received_date"] >= cutoff))
    )
    open_production = (supply_type == "production") & (
        ((status != "cancelled") & (orders["due_date"] >= cutoff))
        | (status.isin(["planned", "released"]) & due_before_cutoff)
    )
    open_orders = orders[open_purchase | open_production].copy()
    is_late = open_orders["due_date"] < cutoff
    open_orders["receipt_month"] = open_orders["due_date"].dt.to_period("M").dt.to_timestamp()
    open_orders.loc[is_late, "receipt_month"] = cutoff
    open_orders["is_late"] = is_late.astype(bool)
    return open_orders.sort_values(
        ["receipt_month", "supply_type", "order_id", "line_no"], ignore_index=True
    )


def project_inventory(
    demand: pd.DataFrame,
    opening: pd.DataFrame,
    receipts: pd.DataFrame,
    months: Iterable[pd.Timestamp],
) -> pd.DataFrame:
    """Roll stock forward month by month: closing = opening + receipts - demand.

    One row per sku x location (union of the inputs) x horizon month. Closing may go negative
    (a projected shortage, status 'stockout'); receipts and demand outside `months` are ignored.
    demand and receipts: sku, location_id, month, qty; opening: sku, location_id, on_hand_qty.
    """
    horizon = sorted({_month_start(month) for month in months})
    keys = pd.concat([demand[KEY], opening[KEY], receipts[KEY]]).drop_duplicates()
    if not horizon or keys.empty:
        return _empty_projection()

    grid = keys.merge(pd.DataFrame({"month": horizon}), how="cross")
    projection = (
        # left merges onto the horizon grid: rows outside the horizon months drop out here
        grid.merge(_monthly(receipts, "receipts_qty"), on=[*KEY, "month"], how="left")
        .merge(_monthly(demand, "demand_qty"), on=[*KEY, "month"], how="left")
        .merge(_on_hand(opening), on=KEY, how="left")
        .fillna({"receipts_qty": 0.0, "demand_qty": 0.0, "on_hand_qty": 0.0})
        .sort_values([*KEY, "month"], ignore_index=True)
    )
    net_change = projection["receipts_qty"] - projection["demand_qty"]
    projection["closing_qty"] = (
        projection["on_hand_qty"] + net_change.groupby([projection[c] for c in KEY]).cumsum()
    )
    # Next month's opening is exactly this month's closing (a shift, no float re-derivation).
    projection["opening_qty"] = (
        projection.groupby(KEY)["closing_qty"].shift(1).fillna(projection["on_hand_qty"])
    )
    projection["status"] = np.where(projection["closing_qty"] < 0, "stockout", "ok")
    return projection[PROJECTION_COLUMNS]


def _month_start(month: pd.Timestamp | str) -> pd.Timestamp:
    """The first day of the month `month` falls in."""
    return pd.Timestamp(month).to_period("M").to_timestamp()


def _monthly(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """qty summed per sku, location and month, renamed to `name`."""
    monthly = frame.assign(
        month=pd.to_datetime(frame["month"]).dt.to_period("M").dt.to_timestamp(),
        qty=frame["qty"].astype(float),
    )
    return monthly.groupby([*KEY, "month"], as_index=False)["qty"].sum().rename(
        columns={"qty": name}
    )


def _on_hand(opening: pd.DataFrame) -> pd.DataFrame:
    """Opening stock summed per sku and location."""
    on_hand = opening.assign(on_hand_qty=opening["on_hand_qty"].astype(float))
    return on_hand.groupby(KEY, as_index=False)["on_hand_qty"].sum()


def _empty_projection() -> pd.DataFrame:
    """The projection's columns with no rows."""
    return pd.DataFrame(
        {
            "sku": pd.Series(dtype=object),
            "location_id": pd.Series(dtype=object),
            "month": pd.Series(dtype="datetime64[ns]"),
            **{column: pd.Series(dtype=float) for column in PROJECTION_COLUMNS[3:7]},
            "status": pd.Series(dtype=object),
        }
    )
