"""One function per planning stage of a cycle: read its inputs, compute, return the rows.

Every read stops at the cycle's cut-off (the first day of `cycle_month`): orders, snapshots
and purchase orders dated later are invisible, so a backfilled cycle sees what the planner
saw then. Writing the rows is the caller's job (`warehouse.replace_cycle_rows`).
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pandas as pd

from sop_pipeline.alerts import build_alerts
from sop_pipeline.capacity import available_hours, capacity_plan
from sop_pipeline.consensus import consensus_demand, crm_pipeline, validate_overrides
from sop_pipeline.cycle import horizon_months
from sop_pipeline.events import event_calendar, learned_skus, series_regressor
from sop_pipeline.forecast import ForecastSettings, forecast_demand, split_series_id
from sop_pipeline.hierarchy import roll_up
from sop_pipeline.inventory import open_supply_at_cutoff, project_inventory, safety_stock
from sop_pipeline.summary import cycle_summary
from sop_pipeline.supply_plan import SupplyPlan, SupplySettings, plan_supply
from sop_pipeline.tables import OUTPUT_TABLES
from sop_pipeline.variance import (
    budget_gap,
    forecast_vs_actual,
    plan_vs_actual,
    waterfall_by_family,
)
from sop_pipeline.warehouse import ensure_output_table


def demand_history(con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp) -> pd.DataFrame:
    """Monthly order quantity per series before the cut-off, long format unique_id, ds, y."""
    return con.execute(
        """SELECT sku || '|' || location_id AS unique_id, month AS ds, order_qty AS y
           FROM marts.fct_monthly_demand WHERE month < ? ORDER BY unique_id, ds""",
        [cycle_month.date()],
    ).df().assign(ds=lambda f: pd.to_datetime(f["ds"]))


def demand_stage(
    con: duckdb.DuckDBPyConnection,
    cycle_month: pd.Timestamp,
    settings: ForecastSettings,
    on_progress: Callable[[int, int], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Forecast every series; return (demand_forecast rows, forecast_accuracy rows)."""
    history = demand_history(con, cycle_month)
    regressor = series_regressor(event_calendar_of(con), history["unique_id"])
    forecast, accuracy = forecast_demand(history, settings, on_progress=on_progress,
                                         events=regressor)
    forecast = _with_sku_location(forecast).rename(columns={"ds": "month", "qty": "forecast_qty"})
    return forecast, _with_sku_location(accuracy)


def consensus_stage(
    con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp, horizon: int
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """(consensus_demand rows, demand_hierarchy rows, overrides outside the horizon).

    Overrides for months outside this cycle's horizon are not errors (the file serves many
    cycles): they are left out and counted. Invalid or conflicting ones raise OverrideError.
    """
    months = horizon_months(cycle_month, horizon)
    statistical = selected_forecast(con, cycle_month)
    items = con.execute("SELECT sku, family, unit_price FROM marts.dim_items").df()
    locations = con.execute("SELECT location_id FROM marts.dim_locations").df()["location_id"]
    deals = con.execute("SELECT * FROM marts.fct_deals").df()
    overrides = con.execute(
        """SELECT source_row_number, month, sku, family, location_id, quantity, pct_change,
                  reason, author FROM staging.stg_plan__overrides"""
    ).df()
    in_horizon = pd.to_datetime(overrides["month"]).isin(months)
    overrides = overrides[in_horizon]
    validate_overrides(overrides, items, months, locations)
    crm = crm_pipeline(deals, cycle_month, months, statistical)
    events = stated_event_uplifts(con, cycle_month, statistical)
    consensus = consensus_demand(statistical, crm, overrides, items, events)
    planned = consensus[consensus["location_id"].notna()]
    hierarchy = roll_up(planned.rename(columns={"statistical_qty": "qty"}), items).merge(
        roll_up(planned.rename(columns={"consensus_qty": "qty"}), items),
        on=["level", "key", "family", "location_id", "month"], suffixes=("_statistical", ""),
    ).rename(columns={"qty_statistical": "statistical_qty", "qty": "consensus_qty"})
    return consensus, hierarchy, int((~in_horizon).sum())


def event_calendar_of(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """plan/events expanded to sku x month (sop_pipeline.events.event_calendar)."""
    events = con.execute("SELECT * FROM staging.stg_plan__events").df()
    items = con.execute("SELECT sku, family FROM marts.dim_items").df()
    return event_calendar(events, items)


def stated_event_uplifts(
    con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp, statistical: pd.DataFrame
) -> pd.DataFrame:
    """Event uplifts the consensus adds: every forecast cell in an event month, except series
    whose selected model is Prophet with past occurrences of an event to learn from."""
    calendar = event_calendar_of(con)
    ensure_output_table(con, OUTPUT_TABLES["forecast_accuracy"])
    learned = con.execute(
        """SELECT sku, location_id FROM main.forecast_accuracy
           WHERE cycle_month = ? AND is_selected AND model = 'prophet'""",
        [cycle_month.date()],
    ).df()
    learned = learned[learned["sku"].isin(learned_skus(calendar, cycle_month))]
    cells = statistical[["sku", "location_id", "month"]].merge(calendar, on=["sku", "month"])
    cells = cells.merge(learned.assign(_learned=True), on=["sku", "location_id"], how="left")
    return cells[cells["_learned"].isna()].drop(columns="_learned")


def supply_stage(
    con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp, horizon: int,
    settings: SupplySettings, service_level: float,
) -> SupplyPlan:
    """The constrained supply plan for the consensus demand (sop_pipeline.supply_plan)."""
    months = horizon_months(cycle_month, horizon)
    demand = consensus_plan(con, cycle_month)
    items = con.execute(
        "SELECT sku, make_or_buy, unit_cost, unit_price, lead_time_days FROM marts.dim_items"
    ).df()
    centres, calendar = work_centers_of(con)
    return plan_supply(
        demand[demand["location_id"].notna()], items, opening_stock(con, cycle_month),
        scheduled_receipts(con, cycle_month), routings_of(con),
        available_hours(centres, pd.Series(months), calendar),
        cycle_month=cycle_month, months=months,
        safety_stock=safety_stock_of(con, cycle_month, items, service_level),
        settings=settings,
    )


def safety_stock_of(
    con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp, items: pd.DataFrame,
    service_level: float,
) -> pd.DataFrame:
    """Safety stock per series from the selected model's backtest error and the lead time."""
    ensure_output_table(con, OUTPUT_TABLES["forecast_accuracy"])
    errors = con.execute(
        """SELECT sku, location_id, rmse FROM main.forecast_accuracy
           WHERE cycle_month = ? AND is_selected""",
        [cycle_month.date()],
    ).df()
    spread = con.execute(
        """SELECT sku, location_id, stddev_samp(order_qty) AS demand_std
           FROM marts.fct_monthly_demand WHERE month < ? GROUP BY ALL""",
        [cycle_month.date()],
    ).df()
    series = errors.merge(spread, on=["sku", "location_id"], how="outer").merge(
        items[["sku", "lead_time_days"]], on="sku")
    return safety_stock(series, service_level)


def capacity_stage(con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp) -> pd.DataFrame:
    """Hours the consensus demand needs and the supply plan schedules, per centre and month."""
    planned = _cycle_rows(con, "supply_plan", cycle_month)
    return capacity_plan(
        consensus_plan(con, cycle_month), routings_of(con), *work_centers_of(con),
        planned=planned.rename(columns={"planned_production_qty": "qty"}),
    )


def inventory_stage(
    con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp, horizon: int
) -> pd.DataFrame:
    """Project stock from the last snapshot, open orders and the supply plan's receipts."""
    plan = _cycle_rows(con, "supply_plan", cycle_month)
    planned = plan.assign(
        qty=plan["planned_production_qty"] + plan["planned_purchase_qty"], kind="planned")
    parts = [scheduled_receipts(con, cycle_month).assign(kind="scheduled"),
             planned[["sku", "location_id", "month", "qty", "kind"]]]
    receipts = pd.concat([p for p in parts if len(p)] or parts, ignore_index=True)
    demand = consensus_plan(con, cycle_month)
    safety = plan[["sku", "location_id", "safety_stock_qty"]].drop_duplicates(
        ["sku", "location_id"])
    return project_inventory(
        demand[demand["location_id"].notna()], opening_stock(con, cycle_month), receipts,
        horizon_months(cycle_month, horizon), safety=safety,
        unmet=plan[["sku", "location_id", "month", "unmet_qty"]].rename(
            columns={"unmet_qty": "qty"}),
    )


def opening_stock(con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp) -> pd.DataFrame:
    """Stock on hand per sku and location at the last snapshot before the cut-off."""
    return con.execute(
        """SELECT sku, location_id, arg_max(on_hand_qty, snapshot_date) AS on_hand_qty
           FROM marts.fct_inventory_snapshots WHERE snapshot_date < ? GROUP BY ALL""",
        [cycle_month.date()],
    ).df()


def scheduled_receipts(
    con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp
) -> pd.DataFrame:
    """Open orders at the cut-off by sku, location and receipt month: sku, location_id,
    month, qty."""
    return (
        open_supply(con, cycle_month)
        .groupby(["sku", "location_id", "receipt_month"], as_index=False)["quantity"].sum()
        .rename(columns={"receipt_month": "month", "quantity": "qty"})
    )


def routings_of(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(
        "SELECT sku, work_center_id, hours_per_unit FROM marts.dim_routings"
    ).df()


def work_centers_of(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(work centres with their normal hours, the calendar of months that differ)."""
    centres = con.execute(
        "SELECT work_center_id, name, available_hours_per_month FROM marts.dim_work_centers"
    ).df()
    calendar = _as_months(con.execute(
        "SELECT work_center_id, month, available_hours FROM marts.fct_work_center_calendar"
    ).df())
    return centres, calendar


def variance_stage(
    con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Forecasts earlier cycles made for the month that just closed, against its actual:
    (rows per sku x location x lag, the waterfall by family and lag)."""
    target_month = _previous_month(cycle_month)
    ensure_output_table(con, OUTPUT_TABLES["demand_forecast"])
    forecasts = con.execute(
        """SELECT cycle_month, sku, location_id, month,
                  max(forecast_qty) FILTER (WHERE is_selected) AS qty,
                  max(forecast_qty) FILTER (WHERE model = 'seasonal_naive') AS naive_qty
           FROM main.demand_forecast
           WHERE month = ? AND cycle_month <= ?
           GROUP BY ALL HAVING qty IS NOT NULL""",
        [target_month.date(), target_month.date()],
    ).df()
    actuals = con.execute(
        """SELECT sku, location_id, month, order_qty AS qty
           FROM marts.fct_monthly_demand WHERE month = ?""",
        [target_month.date()],
    ).df()
    items = con.execute("SELECT sku, family FROM marts.dim_items").df()
    detail = forecast_vs_actual(_as_months(forecasts), _as_months(actuals), target_month, items)
    return detail, waterfall_by_family(detail)


def plan_variance_stage(con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp
                        ) -> pd.DataFrame:
    """The supply plan of the month that just closed (its own cycle's) vs what came in."""
    target_month = _previous_month(cycle_month)
    plan = _cycle_rows(con, "supply_plan", target_month)
    orders = _as_months(con.execute("SELECT * FROM marts.fct_supply_orders").df())
    for column in ("due_date", "received_date"):
        orders[column] = pd.to_datetime(orders[column])
    items = con.execute("SELECT sku, family, unit_cost FROM marts.dim_items").df()
    return plan_vs_actual(plan, orders, items, target_month)


def budget_stage(con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp, horizon: int
                 ) -> pd.DataFrame:
    """Consensus (and actuals of closed months) vs budget by family and month."""
    budget = _as_months(con.execute(
        "SELECT month, family, volume, revenue FROM marts.fct_budget").df())
    consensus = _as_months(con.execute(
        """SELECT family, month, sum(consensus_qty) AS qty, sum(consensus_value) AS value
           FROM main.consensus_demand WHERE cycle_month = ? GROUP BY ALL""",
        [cycle_month.date()],
    ).df())
    actuals = _as_months(con.execute(
        """SELECT family, month, sum(order_qty) AS qty, sum(net_amount) AS value
           FROM marts.fct_monthly_demand WHERE month < ? GROUP BY ALL""",
        [cycle_month.date()],
    ).df())
    return budget_gap(budget, consensus, actuals, cycle_month,
                      horizon_months(cycle_month, horizon)[-1])


def summary_stage(con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp) -> pd.DataFrame:
    """The cycle's headline figures from its rows of the other output tables."""
    return cycle_summary(
        cycle_month,
        **{name: _cycle_rows(con, table, cycle_month) for name, table in (
            ("waterfall", "variance_forecast_by_family"), ("budget", "variance_budget"),
            ("capacity", "capacity_plan"), ("inventory", "inventory_projection"),
            ("supply", "supply_plan"), ("alerts", "alerts"))},
        items=con.execute("SELECT sku, unit_cost FROM marts.dim_items").df(),
    )


def alerts_stage(con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp) -> pd.DataFrame:
    """Every alert kind of the cycle, as planner sentences (sop_pipeline.alerts)."""
    inventory = _cycle_rows(con, "inventory_projection", cycle_month)
    capacity = _cycle_rows(con, "capacity_plan", cycle_month).merge(
        work_centers_of(con)[0][["work_center_id", "name"]], on="work_center_id", how="left")
    supply = open_supply(con, cycle_month)
    late = supply[supply["is_late"] & (supply["supply_type"] == "purchase")]
    received = con.execute(
        """SELECT * FROM marts.fct_supply_orders
           WHERE supply_type = 'purchase' AND received_date < ?""",
        [cycle_month.date()],
    ).df()
    items = con.execute("SELECT sku, lead_time_days FROM marts.dim_items").df()
    accuracy = _cycle_rows(con, "forecast_accuracy", cycle_month)
    return build_alerts(cycle_month, inventory, capacity, late, received_orders=received,
                        items=items, accuracy=accuracy)


def selected_forecast(con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp) -> pd.DataFrame:
    """The chosen model's forecast of a cycle: sku, location_id, month, qty."""
    ensure_output_table(con, OUTPUT_TABLES["demand_forecast"])
    return _as_months(con.execute(
        """SELECT sku, location_id, month, forecast_qty AS qty FROM main.demand_forecast
           WHERE is_selected AND cycle_month = ?""",
        [cycle_month.date()],
    ).df())


def consensus_plan(con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp) -> pd.DataFrame:
    """The demand supply plans against: consensus_qty as sku, location_id, month, qty."""
    ensure_output_table(con, OUTPUT_TABLES["consensus_demand"])
    return _as_months(con.execute(
        """SELECT sku, location_id, month, consensus_qty AS qty FROM main.consensus_demand
           WHERE cycle_month = ?""",
        [cycle_month.date()],
    ).df())


def open_supply(con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp) -> pd.DataFrame:
    """Purchase and production orders open at the cycle's cut-off."""
    orders = con.execute("SELECT * FROM marts.fct_supply_orders").df()
    for column in ("order_date", "due_date", "received_date"):
        orders[column] = pd.to_datetime(orders[column])
    return open_supply_at_cutoff(orders, cycle_month)


def _cycle_rows(
    con: duckdb.DuckDBPyConnection, name: str, cycle_month: pd.Timestamp
) -> pd.DataFrame:
    ensure_output_table(con, OUTPUT_TABLES[name])
    frame = con.execute(
        f"SELECT * EXCLUDE (cycle_month) FROM main.{name} WHERE cycle_month = ?",
        [cycle_month.date()],
    ).df()
    return _as_months(frame)


def _previous_month(cycle_month: pd.Timestamp) -> pd.Timestamp:
    return pd.Timestamp(cycle_month) - pd.offsets.MonthBegin(1)


def _as_months(frame: pd.DataFrame) -> pd.DataFrame:
    """DuckDB DATE columns arrive as datetime64 or objects; make month columns Timestamps."""
    for column in ("month", "cycle_month"):
        if column in frame:
            frame[column] = pd.to_datetime(frame[column])
    return frame


def _with_sku_location(frame: pd.DataFrame) -> pd.DataFrame:
    ids = frame["unique_id"].drop_duplicates()
    parts = pd.DataFrame([split_series_id(u) for u in ids], columns=["sku", "location_id"],
                         index=ids.to_numpy())
    return frame.join(parts, on="unique_id").drop(columns="unique_id")
