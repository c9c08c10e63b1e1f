"""The Dagster code location: `dagster dev -w workspace.yaml` loads `defs` from here."""

from dagster import Definitions, in_process_executor

from assets.alerts import alerts
from assets.dbt import sop_dbt_models
from assets.decisions import decision_log, plan_version
from assets.demand import consensus_demand, demand_forecast
from assets.extracts import raw_extracts
from assets.jobs import monthly_cycle_job, planning_job
from assets.report import cycle_summary, published_tables, sop_pack
from assets.resources import build_resources
from assets.scenarios import scenario_kpis
from assets.schedules import monthly_cycle_schedule
from assets.supply import capacity_plan, inventory_projection, plan_financials, supply_plan
from assets.variance import (
    variance_budget,
    variance_forecast_vs_actual,
    variance_fva_stairstep,
    variance_plan_drift,
    variance_plan_vs_actual,
)


def build_defs(extracts_dir: str = "", warehouse_dir: str = "") -> Definitions:
    """The code location; empty folders fall back to SOP_EXTRACTS_DIR / SOP_WAREHOUSE_DIR."""
    return Definitions(
        assets=[raw_extracts, sop_dbt_models, demand_forecast, consensus_demand, supply_plan,
                capacity_plan, inventory_projection, plan_financials, variance_forecast_vs_actual,
                variance_plan_vs_actual, variance_budget, alerts, cycle_summary,
                sop_pack, published_tables, decision_log, plan_version, scenario_kpis,
                variance_fva_stairstep, variance_plan_drift],
        jobs=[monthly_cycle_job, planning_job],
        schedules=[monthly_cycle_schedule],
        resources=build_resources(extracts_dir, warehouse_dir),
        # One process writes the DuckDB file: steps run one after another, also in ad hoc runs.
        executor=in_process_executor,
    )


defs = build_defs()
