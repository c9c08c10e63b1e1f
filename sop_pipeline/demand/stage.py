"""The demand stage of a cycle: read its inputs from the warehouse, forecast, build consensus.

Every read stops at the cycle's cut-off (the first day of `cycle_month`): orders dated later
are invisible, so a backfilled cycle sees what the planner saw then. Writing the rows is the
caller's job (`warehouse.replace_cycle_rows`).
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pandas as pd

from sop_pipeline.cycle import horizon_months
from sop_pipeline.demand.consensus import consensus_demand, crm_pipeline
from sop_pipeline.demand.events import event_calendar, series_regressor, stated_uplifts
from sop_pipeline.demand.forecast import ForecastSettings, forecast_demand, with_sku_location
from sop_pipeline.demand.hierarchy import demand_hierarchy
from sop_pipeline.demand.overrides import overrides_in_horizon, validate_overrides
from sop_pipeline.demand.selection import BIAS_LIMIT
from sop_pipeline.warehouse import output_relation, query


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
    forecast = with_sku_location(forecast).rename(columns={"ds": "month", "qty": "forecast_qty"})
    return forecast, with_sku_location(accuracy)


def consensus_stage(
    con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp, horizon: int
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """(consensus_demand rows, demand_hierarchy rows, overrides outside the horizon).

    Invalid or conflicting overrides raise OverrideError.
    """
    months = horizon_months(cycle_month, horizon)
    statistical = selected_forecast(con, cycle_month)
    items = query(con, "SELECT sku, family, unit_price FROM marts.dim_items")
    locations = query(con, "SELECT location_id FROM marts.dim_locations")["location_id"]
    deals = query(con, "SELECT * FROM marts.fct_deals")
    overrides, outside = overrides_in_horizon(query(
        con,
        """SELECT source_row_number, month, sku, family, location_id, quantity, pct_change,
                  reason, author FROM staging.stg_plan__overrides"""), months)
    validate_overrides(overrides, items, months, locations)
    crm = crm_pipeline(deals, cycle_month, months, statistical)
    events = stated_uplifts(event_calendar_of(con), prophet_selected(con, cycle_month),
                            statistical, cycle_month)
    consensus = consensus_demand(statistical, crm, overrides, items, events)
    return consensus, demand_hierarchy(consensus, items), outside


def demand_history(con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp) -> pd.DataFrame:
    """Monthly order quantity per series before the cut-off, long format unique_id, ds, y."""
    return query(
        con,
        """SELECT sku || '|' || location_id AS unique_id, month AS ds, order_qty AS y
           FROM marts.fct_monthly_demand WHERE month < ? ORDER BY unique_id, ds""",
        [cycle_month.date()],
    )


def event_calendar_of(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """plan/events expanded to sku x month (sop_pipeline.demand.events.event_calendar)."""
    events = query(con, "SELECT * FROM staging.stg_plan__events")
    items = query(con, "SELECT sku, family FROM marts.dim_items")
    return event_calendar(events, items)


def selected_forecast(con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp) -> pd.DataFrame:
    """The chosen model's forecast of a cycle: sku, location_id, month, qty."""
    return query(
        con,
        f"""SELECT sku, location_id, month, forecast_qty AS qty
            FROM {output_relation(con, "demand_forecast")}
            WHERE is_selected AND cycle_month = ?""",
        [cycle_month.date()],
    )


def prophet_selected(con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp
                     ) -> pd.DataFrame:
    """Series of the cycle whose selected model is Prophet: sku, location_id."""
    return query(
        con,
        f"""SELECT sku, location_id FROM {output_relation(con, "forecast_accuracy")}
            WHERE cycle_month = ? AND is_selected AND model = 'prophet'""",
        [cycle_month.date()],
    )


def family_bias(con: duckdb.DuckDBPyConnection, selected: pd.DataFrame) -> pd.DataFrame:
    """Backtest bias of the selected models by family: series scored, median bias, and the
    share of series beyond the fallback limit (a family-wide lean shows here first)."""
    families = query(con, "SELECT sku, family FROM marts.dim_items")
    scored = selected.dropna(subset=["bias"]).merge(families, on="sku", how="left")
    return (scored.groupby("family", as_index=False)
            .agg(series=("bias", "size"), median_bias=("bias", "median"),
                 share_beyond_limit=("bias", lambda b: float((b.abs() > BIAS_LIMIT).mean()))))
