"""The review stage of a cycle: variance of earlier forecasts and plans against what happened,
the gap to budget, alerts and the headline figures, read from the warehouse."""

from __future__ import annotations

import duckdb
import pandas as pd

from sop_pipeline.cycle import horizon_months, previous_month
from sop_pipeline.review.alerts import DEFAULT_CURRENCY, build_alerts
from sop_pipeline.review.decisions import decision_log, plan_version
from sop_pipeline.review.scenario_inputs import (
    all_scenarios,
    check_decisions,
    check_scenarios,
)
from sop_pipeline.review.stairstep import fva_stairstep, plan_drift
from sop_pipeline.review.summary import cycle_summary
from sop_pipeline.review.variance import (
    budget_gap,
    forecast_vs_actual,
    plan_vs_actual,
    waterfall_by_family,
)
from sop_pipeline.supply.stage import open_supply, work_centers_of
from sop_pipeline.warehouse import adopted_scenario, cycle_rows, output_relation, query


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
    """The supply plan of the month that just closed (its own cycle's adopted plan) vs what
    came in."""
    target_month = previous_month(cycle_month)
    plan = cycle_rows(con, "supply_plan", target_month, adopted_scenario(con, target_month))
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
    """Every alert kind of the cycle's adopted plan, as planner sentences
    (sop_pipeline.review.alerts)."""
    scenario = adopted_scenario(con, cycle_month)
    inventory = cycle_rows(con, "inventory_projection", cycle_month, scenario)
    centres, _ = work_centers_of(con)
    capacity = (cycle_rows(con, "capacity_plan", cycle_month, scenario)
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
        con, """SELECT sku, lead_time_days, unit_cost, unit_price, uom, min_order_qty,
                       order_multiple FROM marts.dim_items""")
    return build_alerts(
        cycle_month, inventory, capacity, open_supply(con, cycle_month),
        received_orders=received, items=items,
        accuracy=cycle_rows(con, "forecast_accuracy", cycle_month),
        plan=cycle_rows(con, "supply_plan", cycle_month, scenario),
        decisions=cycle_rows(con, "decision_log", cycle_month), currency=currency)


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
    """The cycle's headline figures from its rows of the other output tables (of the plan
    tables, the adopted plan's)."""
    scenario = adopted_scenario(con, cycle_month)
    return cycle_summary(
        cycle_month,
        **{name: cycle_rows(con, table, cycle_month, scenario) for name, table in (
            ("waterfall", "variance_forecast_by_family"), ("budget", "variance_budget"),
            ("capacity", "capacity_plan"), ("inventory", "inventory_projection"),
            ("supply", "supply_plan"), ("alerts", "alerts"))},
        items=query(con, "SELECT sku, unit_cost FROM marts.dim_items"),
    )


def fva_stairstep_stage(con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp
                        ) -> pd.DataFrame:
    """Earlier cycles' consensus of the month that just closed, step by step, against its
    actual (sop_pipeline.review.stairstep)."""
    target_month = previous_month(cycle_month)
    window = [target_month.date(), target_month.date()]
    consensus = query(
        con,
        f"""SELECT cycle_month, sku, location_id, family, month, statistical_qty, event_qty,
                   crm_pipeline_qty, override_qty, consensus_qty, override_author
            FROM {output_relation(con, "consensus_demand")}
            WHERE month = ? AND cycle_month <= ?""",
        window,
    )
    naive = query(
        con,
        f"""SELECT cycle_month, sku, location_id, month, forecast_qty AS qty
            FROM {output_relation(con, "demand_forecast")}
            WHERE model = 'seasonal_naive' AND month = ? AND cycle_month <= ?""",
        window,
    )
    actuals = query(
        con, "SELECT sku, location_id, month, order_qty AS qty FROM marts.fct_monthly_demand "
             "WHERE month = ?", [target_month.date()])
    return fva_stairstep(consensus, naive, actuals, target_month)


def plan_drift_stage(con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp
                     ) -> pd.DataFrame:
    """This cycle's consensus against the previous cycle's, by family and month."""
    return plan_drift(cycle_rows(con, "consensus_demand", cycle_month),
                      cycle_rows(con, "consensus_demand", previous_month(cycle_month)))


def scenario_levers(con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp, horizon: int
                    ) -> pd.DataFrame:
    """The validated levers of plan/scenarios, months filled from the cycle's horizon
    (sop_pipeline.review.scenario_inputs); ScenarioError names the rows that are not."""
    levers = query(con, "SELECT * EXCLUDE (source_file) FROM staging.stg_plan__scenarios")
    return check_scenarios(
        levers, query(con, "SELECT sku, family FROM marts.dim_items"),
        query(con, "SELECT work_center_id FROM marts.dim_work_centers"),
        query(con, """SELECT DISTINCT supplier_id FROM marts.fct_supply_orders
                      WHERE supply_type = 'purchase' AND supplier_id IS NOT NULL""")
        ["supplier_id"],
        horizon_months(cycle_month, horizon))


def decisions_of(con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp) -> pd.DataFrame:
    """The plan/decisions rows of the cycle's meeting and earlier ones, checked against the
    scenarios of plan/scenarios; ScenarioError names the rows that do not hold."""
    decisions = query(
        con, "SELECT * EXCLUDE (source_file) FROM staging.stg_plan__decisions "
             "WHERE cycle_month <= ?", [pd.Timestamp(cycle_month).date()])
    names = all_scenarios(query(con, "SELECT DISTINCT scenario FROM staging.stg_plan__scenarios"))
    return check_decisions(decisions, names)


def decision_log_stage(con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp
                       ) -> pd.DataFrame:
    """Every decision taken by the cycle, as it stands then (sop_pipeline.review.decisions)."""
    return decision_log(decisions_of(con, cycle_month), cycle_month)


def plan_version_stage(con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp
                       ) -> pd.DataFrame:
    """The cycle's adopted plan: the scenario its meeting adopted, else the baseline."""
    return plan_version(decisions_of(con, cycle_month), cycle_month)
