"""Constrained supply plan: a linear program per cycle, solved with HiGHS (highspy).

The model, per node n = (sku, location_id) and horizon month t (quantities in units):

- variables: x[n,t] >= 0 planned production (make skus) or planned purchase receipt (buy
  skus) arriving in month t; I[n,t] >= 0 closing stock; 0 <= u[n,t] <= d[n,t] lost demand;
  s[n,t] >= 0 shortfall below safety stock (only nodes with safety stock > 0); o[w,t] >= 0
  overtime hours of work centre w, at most overtime_share x available[w,t].
- balance: I[n,t] = I[n,t-1] + scheduled_receipts[n,t] + x[n,t] - (d[n,t] - u[n,t]), with
  I[n,-1] = opening stock. Safety stock: s[n,t] >= safety_stock[n] - I[n,t].
- capacity: sum over make nodes of x[n,t] x hours_per_unit[sku,w] <= available[w,t] + o[w,t].
  All locations of a sku share its work centres; a make sku without routing uses none;
  routings of buy skus are ignored.
- lead time: a receipt is needed on its month's first day, so x[n,t] = 0 in months whose
  first day is before cutoff + lead_time_days (cutoff = first day of cycle_month;
  sop_pipeline.cycle.first_receipt_months): no planned order is released before the cut-off.
  Cut-off 2026-10-01 with 45 days arrives 2026-11-15: nothing in October or November,
  December on (released 2026-10-17). Demand before then can only be met from stock and
  scheduled receipts.
- objective, minimised, per unit and month: holding_cost_rate x unit_cost per unit of closing
  stock; per unit lost in month t, lost_sales_penalty x unit_price + unit_cost x (1 +
  (holding_cost_rate + safety_shortfall_rate) x (horizon months + months left from t)) +
  planned_unit_cost x months left, so a lost sale always costs more than holding a unit or
  missing it from safety stock for the whole horizon (the plan builds ahead of a capacity
  shortfall before it loses a sale), and an earlier lost sale costs more than a later one by
  more than a unit costs to keep for the month between: demand is served in time order and
  safety stock is used before a sale is lost (no month loses a sale and closes with stock);
  overtime_cost_per_hour per overtime hour; safety_shortfall_rate x unit_cost per unit below
  safety stock; planned_unit_cost per planned unit (a tie-breaker: nothing is planned that no
  demand or safety stock needs, even for items with unit_cost 0).

Defaults (SupplySettings): holding_cost_rate 0.02, lost_sales_penalty 1.0, overtime_share 0.1,
overtime_cost_per_hour 60.0, safety_shortfall_rate 0.25, planned_unit_cost 1e-4, no time limit,
currency EUR.

Solving: nodes that share no work centre cannot affect each other, so each group of nodes
linked through shared centres is one LP and nodes that load no centre (buy skus, make skus
without routing) are solved CHUNK_NODES at a time; the optimum is that of the whole model.
Within an LP, stock at nodes with safety stock is split I = a + b, 0 <= a <= safety stock,
with shortfall s = safety stock - a: the same optimum as the rows s >= SS - I, as bounds.

Inputs are summed per key (demand, opening, scheduled receipts); demand outside the horizon
is ignored; scheduled receipts due before the first horizon month (late) count in the first
month, those after the horizon are ignored. Demand is rounded cumulatively to the unit's step
and safety stock up to it (sop_pipeline.supply.units). The LP's planned quantities become lots
(min_order_qty, order_multiple): rounded in one pass (sop_pipeline.supply.lots), and a group
of linked nodes that the rounding makes lose sales the LP served re-planned month by month
(sop_pipeline.supply.lot_plan); then each month serves what its stock and receipts allow, in
time order as the LP does, and loses the rest: stock balances close on every row, and
sop_pipeline.supply.checks verifies the plan's invariants.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sop_pipeline.cycle import month_starts
from sop_pipeline.supply.checks import plan_problems
from sop_pipeline.supply.inputs import (
    Network,
    PlanInputs,
    SupplyPlanError,
    SupplySettings,
    build_network,
    capacity_grid,
    check_inputs,
    check_settings,
    plan_horizon,
)
from sop_pipeline.supply.lot_plan import centre_hours, plan_in_lots, served_in_time_order
from sop_pipeline.supply.lp import check_penalties
from sop_pipeline.supply.solve import solve_groups
from sop_pipeline.supply.units import DECIMALS, round_to_step
from sop_pipeline.tables import OUTPUT_TABLES, SERIES_KEY

__all__ = ["ITEM_COLUMNS", "LOAD_COLUMNS", "PLAN_COLUMNS", "PlanInputs", "SupplyPlan",
           "SupplyPlanError", "SupplySettings", "plan_supply"]

PLAN_COLUMNS = OUTPUT_TABLES["supply_plan"].stage_columns
# What the plan reads of each item (dim_items); uom, min_order_qty and order_multiple may be empty.
ITEM_COLUMNS = ["sku", "make_or_buy", "unit_cost", "unit_price", "lead_time_days", "uom",
                "min_order_qty", "order_multiple"]
LOAD_COLUMNS = [
    "work_center_id",
    "month",
    "committed_hours",
    "planned_hours",
    "available_hours",
    "overtime_hours",
    "utilisation",
]


@dataclass(frozen=True)
class SupplyPlan:
    """The plan per sku x location x month, the load per work centre x month, and stats:
    variables, constraints, nonzeros (summed over the LPs), build_seconds, solve_seconds,
    objective (the model's, offset included), status, lps, largest_lp_nodes,
    lot_sizing_seconds, lot_nodes_replanned; problems: the invariants the tables break
    (sop_pipeline.supply.checks; none, unless something is wrong)."""

    plan: pd.DataFrame
    load: pd.DataFrame
    stats: dict[str, Any]
    problems: tuple[str, ...] = ()


def plan_supply(inputs: PlanInputs, settings: SupplySettings | None = None) -> SupplyPlan:
    """Plan production and purchases against capacity, lead times and costs (see module doc),
    from the inputs' frames (sop_pipeline.supply.inputs.PlanInputs). Raises SupplyPlanError.
    """
    settings = settings or SupplySettings()
    started = time.perf_counter()
    check_settings(settings)
    horizon = plan_horizon(inputs.months)
    check_inputs(inputs)
    network = build_network(inputs)
    capacity_hours = capacity_grid(inputs.capacity, horizon)
    if network.nodes.empty:
        return SupplyPlan(_empty_plan(), _load_table(network, np.zeros((0, len(horizon))),
                                                     capacity_hours, inputs.committed),
                          _empty_stats())
    check_penalties(network, settings)
    prepared_seconds = time.perf_counter() - started
    planned, unmet, stats = solve_groups(network, settings)
    stats["build_seconds"] += prepared_seconds
    started = time.perf_counter()
    planned, lot_stats = plan_in_lots(network, planned, unmet, settings)
    stats.update(lot_stats, lot_sizing_seconds=time.perf_counter() - started)
    plan = _plan_table(network, planned)
    load = _load_table(network, planned, capacity_hours, inputs.committed)
    problems = plan_problems(plan, load, inputs.items, inputs.cycle_month,
                             settings.overtime_share)
    return SupplyPlan(plan, load, stats, tuple(problems))


# --- results ------------------------------------------------------------------------------


def _plan_table(network: Network, planned: np.ndarray) -> pd.DataFrame:
    """One row per node x month; closing = opening + receipts + planned - (demand - unmet).
    Planned quantities are in their unit's steps, the rest to a millionth, each closing made
    from the rounded parts (served_in_time_order): rounding the columns one by one would
    open gaps of a millionth in the balance the check then refuses."""
    nodes, months = network.demand.shape
    planned = round_to_step(planned, network.nodes["step"].to_numpy())
    opening, closing, unmet = served_in_time_order(network, planned)
    is_make = network.nodes["is_make"].to_numpy()[:, None]
    columns = {
        "demand_qty": network.demand,
        "scheduled_receipts_qty": network.receipts,
        "planned_production_qty": np.where(is_make, planned, 0.0),
        "planned_purchase_qty": np.where(is_make, 0.0, planned),
        "opening_qty": opening,
        "closing_qty": closing,
        "unmet_qty": unmet,
        "safety_stock_qty": np.repeat(network.safety[:, None], months, axis=1),
    }
    node_of = np.repeat(np.arange(nodes), months)
    plan = network.nodes[[*SERIES_KEY, "make_or_buy"]].iloc[node_of].reset_index(drop=True)
    plan.insert(2, "month", np.tile(network.months.to_numpy(), nodes))
    return plan.assign(**{name: values.ravel() for name, values in columns.items()})[PLAN_COLUMNS]


def _load_table(
    network: Network, planned: np.ndarray, capacity_hours: pd.Series, committed: pd.DataFrame
) -> pd.DataFrame:
    """Committed (open production orders) and planned hours per work centre x month against
    available hours; overtime and utilisation count both."""
    hours = centre_hours(network, planned)
    planned_hours = pd.Series(hours.ravel(), name="planned_hours",
                              index=pd.MultiIndex.from_product([network.centres, network.months],
                                                               names=["work_center_id", "month"]))
    held = committed.assign(month=month_starts(committed["month"]),
                            committed_hours=pd.to_numeric(committed["committed_hours"]))
    held = held.groupby(["work_center_id", "month"])["committed_hours"].sum().astype(float)
    load = pd.concat([capacity_hours.rename("available_hours"), planned_hours,
                      held.reindex(capacity_hours.index)], axis=1)
    load = load.rename_axis(["work_center_id", "month"]).reset_index().fillna(
        {"planned_hours": 0.0, "committed_hours": 0.0})
    load["planned_hours"] = load["planned_hours"].round(DECIMALS)
    used = load["committed_hours"] + load["planned_hours"]
    load["overtime_hours"] = (used - load["available_hours"]).clip(lower=0.0)
    load["utilisation"] = used / load["available_hours"].replace(0.0, np.nan)
    return load.sort_values(["work_center_id", "month"], ignore_index=True)[LOAD_COLUMNS]


def _empty_plan() -> pd.DataFrame:
    """The plan's columns with no rows, typed like a full plan."""
    text = {"sku", "location_id", "make_or_buy"}
    return pd.DataFrame({
        column: pd.Series(dtype=object if column in text else
                          "datetime64[ns]" if column == "month" else float)
        for column in PLAN_COLUMNS
    })


def _empty_stats() -> dict[str, Any]:
    """Stats of a plan with nothing to plan (no demand, stock, receipts or safety stock)."""
    return {"variables": 0, "constraints": 0, "nonzeros": 0, "build_seconds": 0.0,
            "solve_seconds": 0.0, "objective": 0.0, "status": "empty: nothing to plan",
            "lps": 0, "largest_lp_nodes": 0}
