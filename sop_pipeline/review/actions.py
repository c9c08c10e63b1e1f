"""Action messages of a cycle: the orders a buyer or scheduler must act on this month.

Quantities are compared with the projection's tolerance (QTY_TOLERANCE): solver rounding never
raises a message. Each message names the order line (or the sku at its location), the quantity,
the dates and the value in the items' currency (value_at_risk).

- release_now, entity sku@location, month = the receipt month: a planned purchase (buy sku) or
  production (make sku) of the supply plan whose release date, the first day of its receipt
  month (its need date) minus the item's lead_time_days, falls before the first day of the
  month after the cycle month. The plan never receives an order before cut-off + lead time
  (sop_pipeline.cycle.first_receipt_months), so no release date is before the cut-off: a
  past-due order is an open one (expedite here, late_purchase_order in order_alerts). High
  when the release date is within RELEASE_HIGH_DAYS of the cut-off, else medium. value =
  days from the cut-off to the release date, threshold = days in the cycle month;
  value_at_risk = planned qty x unit_cost.
- expedite, entity "order_id/line_no" (a production order: its id), month = the first month
  it is needed: an open order line whose sku-location loses demand (projected shortage: unmet
  demand, or minus a negative closing stock) in a month before the line's receipt month. The
  lines of a sku-location are taken earliest receipt first; each claims the lost units before
  its receipt month that the lines before it have not, up to its quantity. High when needed
  within the cycle's first 3 months, else medium. value = units lost without expediting,
  threshold 0; value_at_risk = those units x unit_price (the revenue lost).
- push_out and cancel, entity and value_at_risk as expedite but = line qty x unit_cost (the
  money tied up in stock that is not needed): an open line, not expedited, whose sku-location
  without it stays at or above safety stock from its receipt month on. push_out (low) when
  the stock without it falls below safety stock in a later horizon month: the month to push
  it to, value = months it can move, threshold 1. cancel (medium) when the stock stays at or
  above safety stock to the horizon's end: value = those months, threshold = the same.
  Lines of one sku-location are taken latest receipt first, and the stock each one is judged
  on already leaves out the lines cancelled or pushed before it.

Stock is the inventory projection's closing stock (open orders and the supply plan's planned
receipts); the supply plan is not re-solved for the moves proposed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sop_pipeline.checks import QTY_TOLERANCE
from sop_pipeline.cycle import horizon_months, release_dates
from sop_pipeline.review.wording import (
    money_text,
    order_entity,
    order_label,
    quantity_text,
    units_text,
)
from sop_pipeline.tables import SERIES_KEY

ACTION_KINDS = ("release_now", "expedite", "push_out", "cancel")
EXPEDITE_HIGH_MONTHS = 3
RELEASE_HIGH_DAYS = 7  # a planned order to release within the cut-off's first week
_LINE_COLUMNS = {"supply_type", "order_id", "line_no", "sku", "location_id", "quantity",
                 "due_date", "receipt_month"}


def action_alerts(
    cutoff: pd.Timestamp,
    plan: pd.DataFrame | None,
    inventory: pd.DataFrame,
    open_orders: pd.DataFrame,
    prices: pd.DataFrame,
    currency: str,
) -> list[dict[str, object]]:
    """release_now from the plan, expedite / push_out / cancel from the open order lines.

    plan: supply_plan rows (sku, location_id, month, make_or_buy, planned_production_qty,
    planned_purchase_qty); inventory: inventory_projection rows (closing_qty, unmet_qty,
    safety_stock_qty); open_orders: open_supply_at_cutoff rows; prices: one row per item with
    sku, lead_time_days, unit_cost, unit_price.
    """
    return [*release_now_alerts(cutoff, plan, prices, currency),
            *reschedule_alerts(cutoff, inventory, open_orders, prices, currency)]


# --- release now ------------------------------------------------------------------------------


def release_now_alerts(
    cutoff: pd.Timestamp, plan: pd.DataFrame | None, prices: pd.DataFrame, currency: str
) -> list[dict[str, object]]:
    """Planned receipts whose release date (need date - lead time) is before next month."""
    if plan is None or plan.empty:
        return []
    rows = plan.merge(prices, on="sku", how="left")
    rows = rows.assign(
        month=pd.to_datetime(rows["month"]),
        qty=rows["planned_production_qty"].astype(float) + rows["planned_purchase_qty"],
        lead_time_days=rows["lead_time_days"].astype(float).fillna(0.0),
    )
    rows = rows.assign(release_date=release_dates(rows["month"], rows["lead_time_days"]))
    urgent = cutoff + pd.Timedelta(days=RELEASE_HIGH_DAYS)
    next_month = horizon_months(cutoff, 2)[1]
    due = rows[(rows["qty"] > QTY_TOLERANCE) & (rows["release_date"] < next_month)]
    return [
        {
            "kind": "release_now",
            "severity": "high" if row.release_date < urgent else "medium",
            "entity": f"{row.sku}@{row.location_id}",
            "month": row.month,
            "message": _release_message(row, currency),
            "value": float((row.release_date - cutoff).days),
            "threshold": float((next_month - cutoff).days),
            "value_at_risk": row.qty * row.unit_cost,
        }
        for row in due.itertuples(index=False)
    ]


def _release_message(row: Any, currency: str) -> str:
    """'Release the planned purchase of 120 units of A for DC1, needed in Dec 2026: ...'."""
    what = "production" if row.make_or_buy == "make" else "purchase"
    when = (f"release it by {row.release_date:%Y-%m-%d} (need date {row.month:%Y-%m-%d} minus "
            f"the {quantity_text(row.lead_time_days)}-day lead time)")
    return (f"Release the planned {what} of {units_text(row.qty)} of {row.sku} for "
            f"{row.location_id}, needed in {row.month:%b %Y}: {when}; order value "
            f"{money_text(row.qty * row.unit_cost, currency)}.")


# --- expedite, push out, cancel ---------------------------------------------------------------


def reschedule_alerts(
    cutoff: pd.Timestamp, inventory: pd.DataFrame, open_orders: pd.DataFrame,
    prices: pd.DataFrame, currency: str,
) -> list[dict[str, object]]:
    """Open lines to pull in (a stockout comes first), push out or cancel (stock without them
    stays at or above safety stock), per sku-location."""
    if (open_orders is None or open_orders.empty or inventory.empty
            or not _LINE_COLUMNS <= set(open_orders.columns)):
        return []
    lines = open_orders.merge(prices, on="sku", how="left").assign(
        receipt_month=lambda frame: pd.to_datetime(frame["receipt_month"]),
        due_date=lambda frame: pd.to_datetime(frame["due_date"]),
        quantity=lambda frame: frame["quantity"].astype(float),
    ).sort_values([*SERIES_KEY, "receipt_month", "due_date"], kind="stable")
    by_series: dict[tuple, list[Any]] = {}
    for line in lines.itertuples(index=False):  # one pass; the loop below stays in numpy
        by_series.setdefault((line.sku, line.location_id), []).append(line)
    stock = (inventory.assign(month=pd.to_datetime(inventory["month"]))
             .merge(lines[SERIES_KEY].drop_duplicates(), on=SERIES_KEY)  # series with lines
             .sort_values([*SERIES_KEY, "month"], ignore_index=True))
    columns = {name: (stock[name].to_numpy(dtype=float) if name in stock.columns
                      else np.zeros(len(stock)))
               for name in ("closing_qty", "unmet_qty", "safety_stock_qty")}
    months = stock["month"].to_numpy()
    high_until = horizon_months(cutoff, EXPEDITE_HIGH_MONTHS + 1)[-1]
    alerts: list[dict[str, object]] = []
    for key, rows in sorted(stock.groupby(SERIES_KEY, sort=False).indices.items()):
        series = {name: values[rows] for name, values in columns.items()}
        series_lines = by_series[key]
        expedited = _expedite(months[rows], series, series_lines, high_until, currency)
        alerts += expedited
        moved = {alert["entity"] for alert in expedited}
        rest = [line for line in series_lines if _entity(line) not in moved]
        alerts += _push_out_or_cancel(months[rows], series, rest, currency)
    return alerts


def _expedite(months: np.ndarray, series: dict[str, np.ndarray], lines: list[Any],
              high_until: pd.Timestamp, currency: str) -> list[dict[str, object]]:
    """Lines (earliest receipt first) arriving after a month that loses demand."""
    lost = np.maximum(series["unmet_qty"], -series["closing_qty"])
    lost = np.where(lost > QTY_TOLERANCE, lost, 0.0)
    alerts = []
    for line in lines:
        before = np.flatnonzero((months < np.datetime64(line.receipt_month)) & (lost > 0))
        if before.size == 0:
            continue
        saved = min(line.quantity, float(lost[before].sum()))
        need = pd.Timestamp(months[before[0]])
        _claim(lost, before, saved)
        alerts.append({
            "kind": "expedite",
            "severity": "high" if need < high_until else "medium",
            "entity": _entity(line),
            "month": need,
            "message": (
                f"Expedite {_line_text(line)} to arrive by {need:%Y-%m-%d}: without it "
                f"the plan loses {units_text(saved)} of demand from {need:%b %Y} "
                f"({money_text(saved * line.unit_price, currency)} of sales)."),
            "value": saved,
            "threshold": 0.0,
            "value_at_risk": saved * line.unit_price,
        })
    return alerts


def _claim(lost: np.ndarray, months: np.ndarray, units: float) -> None:
    """Take `units` off the lost units of `months`, earliest first (in place)."""
    for month in months:
        taken = min(lost[month], units)
        lost[month] -= taken
        units -= taken


def _push_out_or_cancel(months: np.ndarray, series: dict[str, np.ndarray], lines: list[Any],
                        currency: str) -> list[dict[str, object]]:
    """Lines (earliest receipt first) the stock does without from their receipt month on,
    judged latest receipt first."""
    closing, safety = series["closing_qty"].copy(), series["safety_stock_qty"]
    alerts = []
    for line in reversed(lines):
        at = np.flatnonzero(months == np.datetime64(line.receipt_month))
        if at.size == 0:
            continue
        start = int(at[0])
        short = closing[start:] - line.quantity < safety[start:] - QTY_TOLERANCE
        if short[0]:
            continue  # needed in the month it arrives
        until = start + int(np.argmax(short)) if short.any() else len(months)
        closing[start:until] -= line.quantity
        alerts.append(_move_alert(line, months, start, until, currency))
    return alerts


def _move_alert(line: Any, months: np.ndarray, start: int, until: int,
                currency: str) -> dict[str, object]:
    """push_out to months[until], or cancel when not needed to the horizon's end."""
    value = line.quantity * line.unit_cost
    moved = float(until - start)
    if until < len(months):
        target = pd.Timestamp(months[until])
        kind, severity, threshold = "push_out", "low", 1.0
        message = (
            f"Push out {_line_text(line)} to {target:%Y-%m-%d}: stock stays at or above safety "
            f"stock without it until {target:%b %Y}, the first month it is needed; "
            f"{money_text(value, currency)} tied up {units_text(until - start, 'month')} "
            "early.")
    else:
        kind, severity, threshold = "cancel", "medium", moved
        message = (
            f"Cancel {_line_text(line)}: stock stays at or above safety stock without it to "
            f"the horizon's end ({pd.Timestamp(months[-1]):%b %Y}); "
            f"{money_text(value, currency)} of stock not needed.")
    return {
        "kind": kind, "severity": severity,
        "entity": _entity(line),
        "month": line.receipt_month, "message": message, "value": moved,
        "threshold": threshold, "value_at_risk": value,
    }


def _line_text(line: Any) -> str:
    """'purchase order PO-1 line 1 (40 units of A for DC1, due 2026-12-15)'."""
    return (f"{order_label(line.supply_type, line.order_id, line.line_no)} "
            f"({units_text(line.quantity)} of {line.sku} for {line.location_id}, due "
            f"{line.due_date:%Y-%m-%d})")


def _entity(line: Any) -> str:
    return order_entity(line.supply_type, line.order_id, line.line_no)
