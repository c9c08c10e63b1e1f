"""The review stage of a cycle: variance of earlier forecasts and plans against what happened,
the gap to budget, alerts and the headline figures, read from the warehouse."""

from __future__ import annotations

import duckdb
import pandas as pd

from sop_pipeline.cycle import horizon_months, previous_month
from sop_pipeline.review.alerts import DEFAULT_CURRENCY, build_alerts
from sop_pipeline.review.summary import cycle_summary
from sop_pipeline.review.variance import (
    budget_gap,
    forecast_vs_actual,
    plan_vs_actual,
    waterfall_by_family,
)
from sop_pipeline.supply.stage import open_supply, work_centers_of
from sop_pipeline.warehouse import cycle_rows, output_relation, query


def variance_stage(
    con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Forecasts earlier cycles made for the month that just closed, against its actual:
    (rows per sku x location x lag, the waterfall by family and lag)."""
    target_month = previous_month(cycle_month)
    forecasts = query(
        con,
        f"""SELECT cycle_month, sku, location_id, month,
                   max(forecast_qty) FILTER (WHERE is_selected) AS qty,
                   max(forecast_qty) FILTER (WHERE model = 'seasonal_naive') AS naive_qty
            FROM {output_relation(con, "demand_forecast")}
            WHERE month = ? AND cycle_month <= ?
            GROUP BY ALL HAVING qty IS NOT NULL""",
        [target_month.date(), target_month.date()],
    )
    actuals = query(
        con,
        """SELECT sku, location_id, month, order_qty AS qty
           FROM marts.fct_monthly_demand WHERE month = ?""",
        [target_month.date()],
    )
    items = query(con, "SELECT sku, family FROM marts.dim_items")
    detail = forecast_vs_actual(forecasts, actuals, target_month, items)
    return detail, waterfall_by_family(detail)


def plan_variance_stage(con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp
                        ) -> pd.DataFrame:
    """The supply plan of the month that just closed (its own cycle's) vs what came in."""
    target_month = previous_month(cycle_month)
    plan = cycle_rows(con, "supply_plan", target_month)
    orders = query(con, "SELECT * FROM marts.fct_supply_orders")
    items = query(con, "SELECT sku, family, unit_cost FROM marts.dim_items")
    return plan_vs_actual(plan, orders, items, target_month)


def budget_stage(con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp, horizon: int
                 ) -> pd.DataFrame:
    """Consensus (and actuals of closed months) vs budget by family and month."""
    budget = query(con, "SELECT month, family, volume, revenue FROM marts.fct_budget")
    consensus = query(
        con,
        f"""SELECT family, month, sum(consensus_qty) AS qty, sum(consensus_value) AS value
            FROM {output_relation(con, "consensus_demand")} WHERE cycle_month = ?
            GROUP BY ALL""",
        [cycle_month.date()],
    )
    actuals = query(
        con,
        """SELECT family, month, sum(order_qty) AS qty, sum(net_amount) AS value
           FROM marts.fct_monthly_demand WHERE month < ? GROUP BY ALL""",
        [cycle_month.date()],
    )
    return budget_gap(budget, consensus, actuals, cycle_month,
                      horizon_months(cycle_month, horizon)[-1])


def alerts_stage(con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp,
                 currency: str = DEFAULT_CURRENCY) -> pd.DataFrame:
    """Every alert kind of the cycle, as planner sentences (sop_pipeline.review.alerts)."""
    inventory = cycle_rows(con, "inventory_projection", cycle_month)
    centres, _ = work_centers_of(con)
    capacity = (cycle_rows(con, "capacity_plan", cycle_month)
                .merge(centres[["work_center_id", "name"]], on="work_center_id", how="left")
                .merge(_required_value(con, cycle_month), on=["work_center_id", "month"],
                       how="left"))
    received = query(
        con,
        """SELECT * FROM marts.fct_supply_orders
           WHERE supply_type = 'purchase' AND received_date < ?""",
        [cycle_month.date()],
    )
    items = query(
        con, "SELECT sku, lead_time_days, unit_cost, unit_price FROM marts.dim_items")
    return build_alerts(
        cycle_month, inventory, capacity, open_supply(con, cycle_month),
        received_orders=received, items=items,
        accuracy=cycle_rows(con, "forecast_accuracy", cycle_month),
        plan=cycle_rows(con, "supply_plan", cycle_month), currency=currency)


def _required_value(con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp
                    ) -> pd.DataFrame:
    """Sales value of the consensus demand routed through each work centre and month."""
    return query(
        con,
        f"""SELECT r.work_center_id, c.month, sum(c.consensus_qty * i.unit_price)
                   AS required_value
            FROM {output_relation(con, "consensus_demand")} AS c
            JOIN marts.dim_routings AS r USING (sku)
            JOIN marts.dim_items AS i USING (sku)
            WHERE c.cycle_month = ? AND r.hours_per_unit > 0
            GROUP BY ALL""",
        [cycle_month.date()],
    )


def summary_stage(con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp) -> pd.DataFrame:
    """The cycle's headline figures from its rows of the other output tables."""
    return cycle_summary(
        cycle_month,
        **{name: cycle_rows(con, table, cycle_month) for name, table in (
            ("waterfall", "variance_forecast_by_family"), ("budget", "variance_budget"),
            ("capacity", "capacity_plan"), ("inventory", "inventory_projection"),
            ("supply", "supply_plan"), ("alerts", "alerts"))},
        items=query(con, "SELECT sku, unit_cost FROM marts.dim_items"),
    )
