"""What-if scenarios: the cycle re-planned with levers applied to its inputs, from the same
statistical forecast (no refit): consensus -> supply plan -> capacity -> inventory -> money.

The levers (validated rows of plan/scenarios, sop_pipeline.review.scenario_inputs), each
acting on the rows its family / sku (both empty: every item), work centre, supplier and
months (start_month..end_month; empty: the whole horizon) select:

- demand_pct: consensus_qty x (1 + value) in the months.
- price_pct / cost_pct: unit_price / unit_cost x (1 + value) (the whole horizon: the plan
  has one price and cost per item).
- capacity_pct / capacity_hours: the work centre's available hours in the months x (1 +
  value), or + value hours (never below 0).
- supplier_delay_days: the open purchase lines of the supplier (or of the sku) arrive value
  days later than due, and the lead time of the skus the supplier delivers (or of the sku)
  grows by value days, so new orders take longer too. Receipts only move later.
- service_level: the safety stock's cycle service level.

Several levers of one scenario compose (percentages multiply). plan_scenario with no levers
is the baseline: the same functions the baseline's assets run, on the same inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from sop_pipeline.cycle import month_start, month_starts
from sop_pipeline.supply.capacity import available_hours, capacity_plan, committed_hours
from sop_pipeline.supply.financials import plan_financials
from sop_pipeline.supply.inventory import project_inventory, projection_receipts, safety_stock
from sop_pipeline.supply.plan import PlanInputs, SupplyPlan, SupplySettings, plan_supply

LEVERS = ("demand_pct", "price_pct", "cost_pct", "capacity_pct", "capacity_hours",
          "supplier_delay_days", "service_level")


@dataclass(frozen=True)
class CycleInputs:
    """What a cycle's plan is made from, read once for every scenario (supply.stage): the
    warehouse's frames, from which each scenario makes its supply plan's PlanInputs."""

    cycle_month: pd.Timestamp
    months: pd.DatetimeIndex
    consensus: pd.DataFrame  # sku, location_id (empty: CRM pipeline of a sku), month, qty
    items: pd.DataFrame  # sku, family, make_or_buy, unit_cost, unit_price, lead_time_days, ...
    opening: pd.DataFrame  # sku, location_id, on_hand_qty
    open_orders: pd.DataFrame  # open_supply_at_cutoff rows
    routings: pd.DataFrame
    work_centers: pd.DataFrame
    calendar: pd.DataFrame
    safety_series: pd.DataFrame  # sku, location_id, rmse, demand_std
    suppliers: pd.DataFrame  # supplier_id, sku: who delivers what (purchase lines)


@dataclass(frozen=True)
class ScenarioPlan:
    """One scenario's plan tables, in their stage columns."""

    plan: pd.DataFrame
    capacity: pd.DataFrame
    inventory: pd.DataFrame
    financials: pd.DataFrame
    items: pd.DataFrame  # the items as the scenario priced them
    open_orders: pd.DataFrame  # the open orders as the scenario expects them
    supply: SupplyPlan  # the plan with its LP figures and checks


def supply_for(inputs: CycleInputs, settings: SupplySettings, service_level: float
               ) -> SupplyPlan:
    """The constrained supply plan of the inputs (sop_pipeline.supply.plan)."""
    demand = inputs.consensus
    series = inputs.safety_series.merge(inputs.items[["sku", "lead_time_days"]], on="sku")
    return plan_supply(PlanInputs(
        cycle_month=inputs.cycle_month, months=inputs.months,
        demand=demand[demand["location_id"].notna()], items=inputs.items, opening=inputs.opening,
        scheduled_receipts=scheduled_receipts(inputs.open_orders), routings=inputs.routings,
        capacity=available_hours(inputs.work_centers, pd.Series(inputs.months), inputs.calendar),
        safety_stock=safety_stock(series, service_level),
        committed=committed_hours(inputs.open_orders, inputs.routings)), settings)


def plan_scenario(
    inputs: CycleInputs, levers: pd.DataFrame, settings: SupplySettings, service_level: float,
) -> ScenarioPlan:
    """The cycle re-planned with `levers` (rows of one scenario; none: the baseline)."""
    inputs = apply_levers(inputs, levers)
    result = supply_for(inputs, settings, _last_value(levers, "service_level", service_level))
    plan, receipts = result.plan, scheduled_receipts(inputs.open_orders)
    capacity = capacity_plan(inputs.consensus, inputs.routings, inputs.work_centers,
                             inputs.calendar,
                             planned=plan.rename(columns={"planned_production_qty": "qty"}),
                             committed=committed_hours(inputs.open_orders, inputs.routings))
    safety = plan[["sku", "location_id", "safety_stock_qty"]].drop_duplicates(
        ["sku", "location_id"])
    inventory = project_inventory(
        plan[["sku", "location_id", "month", "demand_qty"]].rename(columns={"demand_qty": "qty"}),
        inputs.opening, projection_receipts(receipts, plan), inputs.months, safety=safety,
        unmet=plan[["sku", "location_id", "month", "unmet_qty"]].rename(
            columns={"unmet_qty": "qty"}))
    financials = plan_financials(plan, capacity, inputs.routings, inputs.items, settings)
    return ScenarioPlan(plan, capacity, inventory, financials, inputs.items, inputs.open_orders,
                        result)


def scheduled_receipts(open_orders: pd.DataFrame) -> pd.DataFrame:
    """Open orders by sku, location and receipt month: sku, location_id, month, qty."""
    return (open_orders.groupby(["sku", "location_id", "receipt_month"], as_index=False)
            ["quantity"].sum().rename(columns={"receipt_month": "month", "quantity": "qty"}))


def apply_levers(inputs: CycleInputs, levers: pd.DataFrame) -> CycleInputs:
    """The inputs as the scenario's levers change them (module docstring)."""
    if levers.empty:
        return inputs
    consensus, items = inputs.consensus.reset_index(drop=True), inputs.items.copy()
    calendar, orders = _full_calendar(inputs), inputs.open_orders.copy()
    for lever in levers.itertuples(index=False):
        if lever.lever == "demand_pct":
            rows = _selects(consensus.merge(items[["sku", "family"]], on="sku", how="left"),
                            lever) & _in_months(consensus["month"], lever)
            consensus.loc[rows.to_numpy(), "qty"] *= 1 + lever.value
        elif lever.lever in ("price_pct", "cost_pct"):
            column = "unit_price" if lever.lever == "price_pct" else "unit_cost"
            items.loc[_selects(items, lever).to_numpy(), column] *= 1 + lever.value
        elif lever.lever in ("capacity_pct", "capacity_hours"):
            rows = ((calendar["work_center_id"] == lever.work_center_id)
                    & _in_months(calendar["month"], lever))
            hours = calendar.loc[rows, "available_hours"]
            changed = hours * (1 + lever.value) if lever.lever == "capacity_pct" else (
                hours + lever.value)
            calendar.loc[rows, "available_hours"] = changed.clip(lower=0.0)
        elif lever.lever == "supplier_delay_days":
            orders, items = _delayed(inputs, orders, items, lever)
    return replace(inputs, consensus=consensus, items=items, calendar=calendar,
                   open_orders=orders)


def _full_calendar(inputs: CycleInputs) -> pd.DataFrame:
    """Every centre's hours in every horizon month, as calendar rows (they replace the
    normal month), so a capacity lever can change any of them."""
    return available_hours(inputs.work_centers, pd.Series(inputs.months), inputs.calendar)


def _delayed(inputs: CycleInputs, orders: pd.DataFrame, items: pd.DataFrame, lever
             ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Open purchase lines of the supplier (or sku) due `value` days later; its skus' lead
    times longer by as much."""
    days = pd.to_timedelta(lever.value, unit="D")
    if isinstance(lever.supplier_id, str) and lever.supplier_id:
        lines = orders["supplier_id"] == lever.supplier_id
        skus = set(inputs.suppliers.loc[inputs.suppliers["supplier_id"] == lever.supplier_id,
                                        "sku"])
    else:
        lines, skus = pd.Series(True, index=orders.index), set(items["sku"])
    if isinstance(lever.sku, str) and lever.sku:
        lines &= orders["sku"] == lever.sku
        skus &= {lever.sku}
    lines &= orders["supply_type"] == "purchase"
    orders = orders.copy()
    due = pd.to_datetime(orders.loc[lines, "due_date"]) + days
    orders.loc[lines, "due_date"] = due
    cutoff = month_start(inputs.cycle_month)
    orders.loc[lines, "receipt_month"] = month_starts(due).clip(lower=cutoff)
    items = items.copy()
    items.loc[items["sku"].isin(skus), "lead_time_days"] += lever.value
    return orders, items


def _selects(rows: pd.DataFrame, lever) -> pd.Series:
    """Rows of the lever's family and sku (an empty target selects every row)."""
    selected = pd.Series(True, index=rows.index)
    for column in ("family", "sku"):
        target = getattr(lever, column)
        if isinstance(target, str) and target:
            selected &= rows[column] == target
    return selected


def _in_months(months: pd.Series, lever) -> pd.Series:
    """Months within the lever's start..end (an empty bound is open)."""
    months = pd.to_datetime(months)
    inside = pd.Series(True, index=months.index)
    if pd.notna(lever.start_month):
        inside &= months >= month_start(lever.start_month)
    if pd.notna(lever.end_month):
        inside &= months <= month_start(lever.end_month)
    return inside


def _last_value(levers: pd.DataFrame, lever: str, default: float) -> float:
    """The value of the scenario's last `lever` row, else the default."""
    values = levers.loc[levers["lever"] == lever, "value"] if len(levers) else []
    return float(values.iloc[-1]) if len(values) else default
