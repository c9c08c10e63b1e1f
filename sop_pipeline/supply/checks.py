"""What a supply plan a planner signs must hold, checked on its output tables alone (the
supply_plan asset's check, and the tests on the demo company):

- balances close: closing = opening + scheduled + planned - (demand - unmet), and each month
  opens with the previous month's closing;
- demand is served in time order: no month loses a sale (unmet above QTY_TOLERANCE) while
  the same sku-location closes it with stock (above QTY_TOLERANCE), safety stock included;
- committed (open production orders) + planned hours stay within available hours + the
  allowed overtime share;
- nothing planned arrives before the month holding cut-off + the item's lead time;
- planned orders are lots: whole steps of the unit, multiples of order_multiple, at least
  min_order_qty (sop_pipeline.supply.lots).

And what the tables made from it must hold (the capacity_plan, inventory_projection and
plan_financials assets' checks):

- capacity_plan: committed + planned hours within available hours + the allowed overtime
  share, and
  overload_hours = max(required - available, 0);
- inventory_projection: closing = opening + receipts - (demand - unmet), receipts = scheduled
  + planned, and each month opens with the previous month's closing;
- plan_financials: gross_margin = revenue - cost_of_goods, supply_cost = production +
  purchase + overtime + holding cost, fill_rate in [0, 1].

Every comparison allows sop_pipeline.checks.tolerance of the quantities of its row: a
millionth plus float noise relative to the largest of them (QTY_TOLERANCE instead of the
millionth where a status is judged), so a balance of 30,000 units holds to float noise and a
gap of a unit at a million units is still found.
"""

from __future__ import annotations

import pandas as pd

from sop_pipeline.checks import QTY_TOLERANCE, differs, exceeds, problems_of, tolerance
from sop_pipeline.cycle import first_receipt_months
from sop_pipeline.supply.inputs import SAMPLE_ROWS, item_units
from sop_pipeline.supply.lots import item_lots
from sop_pipeline.tables import SERIES_KEY


def plan_problems(
    plan: pd.DataFrame, load: pd.DataFrame, items: pd.DataFrame, cycle_month: pd.Timestamp,
    overtime_share: float,
) -> list[str]:
    """Every invariant the plan breaks, as 'what: N row(s), e.g. ...' (empty: it holds).

    plan: supply_plan rows; load: planned_hours, available_hours and committed_hours (optional)
    per work centre x month;
    items: sku, lead_time_days and optionally uom, min_order_qty, order_multiple."""
    if plan.empty:
        return []
    rows = plan.sort_values([*SERIES_KEY, "month"], ignore_index=True)
    rows = rows.merge(_item_rules(items), on="sku", how="left", validate="many_to_one")
    planned = rows["planned_production_qty"] + rows["planned_purchase_qty"]
    parts = [rows[column] for column in ("opening_qty", "scheduled_receipts_qty",
                                         "planned_production_qty", "planned_purchase_qty",
                                         "demand_qty", "unmet_qty")]
    expected = (rows["opening_qty"] + rows["scheduled_receipts_qty"] + planned
                - (rows["demand_qty"] - rows["unmet_qty"]))
    next_opening = rows.groupby(SERIES_KEY)["opening_qty"].shift(-1)
    arrival = first_receipt_months(cycle_month, rows["lead_time_days"])
    lots = planned / rows["multiple"]
    status = tolerance(*parts, absolute=QTY_TOLERANCE)  # a sale lost, stock held
    broken = {
        "closing != opening + receipts + planned - served":
            differs(rows["closing_qty"], expected, *parts),
        "opening != the previous month's closing":
            next_opening.notna() & differs(next_opening, rows["closing_qty"]),
        "a sale lost while the month closes with stock":
            (rows["unmet_qty"] > status) & (rows["closing_qty"] > status),
        "planned inside the lead time (released before the cut-off)":
            (planned > 0) & (pd.to_datetime(rows["month"]) < arrival),
        "planned off its lot (multiple or minimum)": (planned > 0) & (
            differs(lots, lots.round()) | exceeds(rows["minimum"], planned)),
    }
    problems = [_problem(rows, what, mask) for what, mask in broken.items() if mask.any()]
    if len(load):
        over = _over_booked(load, overtime_share)
        if over.any():
            problems.append(_problem(load, "committed + planned hours above available + "
                                     "overtime", over))
    return problems


def _over_booked(load: pd.DataFrame, overtime_share: float) -> pd.Series:
    """Rows whose committed + planned hours exceed available + overtime by the plan's doing:
    planned hours above the room the open orders leave, max(available x (1 + overtime_share)
    - committed, 0). committed_hours (0 where the rows lack them) are those open production
    orders hold; orders alone beyond the hours, with nothing planned, are not the plan's."""
    committed = (load["committed_hours"].astype(float).fillna(0.0)
                 if "committed_hours" in load.columns else pd.Series(0.0, index=load.index))
    available = load["available_hours"].astype(float)
    room = (available * (1 + overtime_share) - committed).clip(lower=0.0)
    return exceeds(load["planned_hours"].astype(float), room, available, committed)


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


def capacity_problems(capacity: pd.DataFrame, overtime_share: float) -> list[str]:
    """capacity_plan rows: committed + planned hours within available + overtime, overload
    as stated."""
    available = capacity["available_hours"].astype(float)
    return problems_of("capacity_plan", capacity, {
        "committed + planned hours above available + overtime":
            _over_booked(capacity, overtime_share),
        "overload_hours != max(required - available, 0)":
            differs(capacity["overload_hours"],
                    (capacity["required_hours"].astype(float) - available).clip(lower=0.0)),
    }, ["work_center_id", "month", "required_hours", "committed_hours", "planned_hours",
        "available_hours", "overload_hours"])


def inventory_problems(projection: pd.DataFrame) -> list[str]:
    """inventory_projection rows of one scenario: each month's balance closes and the months
    chain (opening = the previous month's closing)."""
    rows = projection.sort_values([*SERIES_KEY, "month"], ignore_index=True)
    served = rows["demand_qty"] - rows["unmet_qty"]
    previous_closing = rows.groupby(SERIES_KEY)["closing_qty"].shift(1)
    return problems_of("inventory_projection", rows, {
        "closing != opening + receipts - served":
            differs(rows["closing_qty"], rows["opening_qty"] + rows["receipts_qty"] - served,
                    rows["opening_qty"], rows["receipts_qty"], rows["demand_qty"],
                    rows["unmet_qty"]),
        "receipts != scheduled + planned receipts":
            differs(rows["receipts_qty"],
                    rows["scheduled_receipts_qty"] + rows["planned_receipts_qty"],
                    rows["scheduled_receipts_qty"], rows["planned_receipts_qty"]),
        "opening != the previous month's closing":
            previous_closing.notna() & differs(rows["opening_qty"], previous_closing),
        "sku, location and month more than once":
            rows.duplicated([*SERIES_KEY, "month"], keep=False),
    }, [*SERIES_KEY, "month", "opening_qty", "receipts_qty", "demand_qty", "unmet_qty",
        "closing_qty"])


def financials_problems(money: pd.DataFrame) -> list[str]:
    """plan_financials rows: margin and supply cost add up, fill rate is a share."""
    fill_rate = money["fill_rate"].astype(float)
    costs = [money[column] for column in ("production_cost", "purchase_cost", "overtime_cost",
                                          "holding_cost")]
    return problems_of("plan_financials", money, {
        "gross_margin != revenue - cost_of_goods":
            differs(money["gross_margin"], money["revenue"] - money["cost_of_goods"],
                    money["revenue"], money["cost_of_goods"]),
        "supply_cost != production + purchase + overtime + holding cost":
            differs(money["supply_cost"], sum(costs), *costs),
        "fill_rate outside [0, 1]": exceeds(0.0, fill_rate) | exceeds(fill_rate, 1.0),
    }, ["family", "month", "revenue", "cost_of_goods", "gross_margin", "supply_cost",
        "fill_rate"])
