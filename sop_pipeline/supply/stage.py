"""The supply stage of a cycle: read its inputs from the warehouse, plan supply, capacity and
inventory against the consensus demand, and put the plan in money.

Every read stops at the cycle's cut-off: snapshots and orders placed later are invisible.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from sop_pipeline.cycle import horizon_months
from sop_pipeline.supply.capacity import capacity_plan, committed_hours
from sop_pipeline.supply.financials import plan_financials
from sop_pipeline.supply.inventory import (
    open_supply_at_cutoff,
    project_inventory,
    projection_receipts,
)
from sop_pipeline.supply.plan import ITEM_COLUMNS, SupplyPlan, SupplySettings
from sop_pipeline.supply.scenarios import CycleInputs, scheduled_receipts, supply_for
from sop_pipeline.warehouse import cycle_rows, output_relation, query


def supply_stage(
    con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp, horizon: int,
    settings: SupplySettings, service_level: float,
) -> SupplyPlan:
    """The constrained supply plan for the consensus demand (sop_pipeline.supply.plan)."""
    return supply_for(plan_inputs(con, cycle_month, horizon), settings, service_level)


def plan_inputs(con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp, horizon: int
                ) -> CycleInputs:
    """Everything the cycle's plan (and each scenario's) is made from, as of the cut-off."""
    items = query(con, f"SELECT family, {', '.join(ITEM_COLUMNS)} FROM marts.dim_items")
    centres, calendar = work_centers_of(con)
    return CycleInputs(
        cycle_month=cycle_month, months=horizon_months(cycle_month, horizon),
        consensus=consensus_plan(con, cycle_month), items=items,
        opening=opening_stock(con, cycle_month), open_orders=open_supply(con, cycle_month),
        routings=routings_of(con), work_centers=centres, calendar=calendar,
        safety_series=safety_series_of(con, cycle_month),
        suppliers=query(con, """SELECT DISTINCT supplier_id, sku FROM marts.fct_supply_orders
                                WHERE supply_type = 'purchase' AND supplier_id IS NOT NULL"""),
    )


def capacity_stage(con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp) -> pd.DataFrame:
    """Hours the consensus demand needs and the supply plan schedules, per centre and month."""
    planned, routings = cycle_rows(con, "supply_plan", cycle_month), routings_of(con)
    return capacity_plan(
        consensus_plan(con, cycle_month), routings, *work_centers_of(con),
        planned=planned.rename(columns={"planned_production_qty": "qty"}),
        committed=committed_hours(open_supply(con, cycle_month), routings),
    )


def inventory_stage(
    con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp, horizon: int
) -> pd.DataFrame:
    """Project stock from the last snapshot, open orders and the supply plan's receipts, for
    the demand the plan works to (the consensus in the units' steps)."""
    plan = cycle_rows(con, "supply_plan", cycle_month)
    safety = plan[["sku", "location_id", "safety_stock_qty"]].drop_duplicates(
        ["sku", "location_id"])
    return project_inventory(
        plan[["sku", "location_id", "month", "demand_qty"]].rename(columns={"demand_qty": "qty"}),
        opening_stock(con, cycle_month),
        projection_receipts(scheduled_receipts(open_supply(con, cycle_month)), plan),
        horizon_months(cycle_month, horizon), safety=safety,
        unmet=plan[["sku", "location_id", "month", "unmet_qty"]].rename(
            columns={"unmet_qty": "qty"}),
    )


def safety_series_of(con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp
                     ) -> pd.DataFrame:
    """Per series what its safety stock rests on: the selected model's backtest rmse and the
    spread of its monthly demand (sku, location_id, rmse, demand_std)."""
    errors = query(
        con,
        f"""SELECT sku, location_id, rmse FROM {output_relation(con, "forecast_accuracy")}
            WHERE cycle_month = ? AND is_selected""",
        [cycle_month.date()],
    )
    spread = query(
        con,
        """SELECT sku, location_id, stddev_samp(order_qty) AS demand_std
           FROM marts.fct_monthly_demand WHERE month < ? GROUP BY ALL""",
        [cycle_month.date()],
    )
    return errors.merge(spread, on=["sku", "location_id"], how="outer")


def consensus_plan(con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp) -> pd.DataFrame:
    """The demand supply plans against: consensus_qty as sku, location_id, month, qty."""
    return query(
        con,
        f"""SELECT sku, location_id, month, consensus_qty AS qty
            FROM {output_relation(con, "consensus_demand")} WHERE cycle_month = ?""",
        [cycle_month.date()],
    )


def opening_stock(con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp) -> pd.DataFrame:
    """Stock on hand per sku and location at the last snapshot before the cut-off."""
    return query(
        con,
        """SELECT sku, location_id, arg_max(on_hand_qty, snapshot_date) AS on_hand_qty
           FROM marts.fct_inventory_snapshots WHERE snapshot_date < ? GROUP BY ALL""",
        [cycle_month.date()],
    )


def open_supply(con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp) -> pd.DataFrame:
    """Purchase and production orders open at the cycle's cut-off."""
    return open_supply_at_cutoff(query(con, "SELECT * FROM marts.fct_supply_orders"), cycle_month)


def routings_of(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return query(con, "SELECT sku, work_center_id, hours_per_unit FROM marts.dim_routings")


def work_centers_of(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(work centres with their normal hours, the calendar of months that differ)."""
    centres = query(
        con, "SELECT work_center_id, name, available_hours_per_month FROM marts.dim_work_centers")
    calendar = query(
        con, "SELECT work_center_id, month, available_hours FROM marts.fct_work_center_calendar")
    return centres, calendar


def financials_stage(
    con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp, settings: SupplySettings
) -> pd.DataFrame:
    """The cycle's supply plan in money per family and month (sop_pipeline.supply.financials)."""
    return plan_financials(
        cycle_rows(con, "supply_plan", cycle_month), cycle_rows(con, "capacity_plan", cycle_month),
        routings_of(con),
        query(con, "SELECT sku, family, unit_cost, unit_price FROM marts.dim_items"),
        settings,
    )
