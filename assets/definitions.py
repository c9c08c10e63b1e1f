"""The Dagster code location: `dagster dev -w workspace.yaml` loads `defs` from here."""

from datetime import timedelta

from dagster import (
    AssetKey,
    AssetSpec,
    Definitions,
    FreshnessPolicy,
    in_process_executor,
    map_asset_specs,
)

from assets.alerts import alerts
from assets.crm import build_pipedrive_assets
from assets.dbt import sop_dbt_models
from assets.decisions import decision_log, plan_version
from assets.demand import consensus_demand, demand_forecast
from assets.extracts import build_raw_extracts
from assets.jobs import monthly_cycle_job, planning_job
from assets.planning import column_schema
from assets.report import cycle_summary, published_tables, sop_pack
from assets.resources import build_resources
from assets.scenarios import scenario_kpis
from assets.schedules import CYCLE_DUE_CRON, monthly_cycle_schedule
from assets.sensors import extracts_landed
from assets.supply import capacity_plan, inventory_projection, plan_financials, supply_plan
from assets.variance import (
    variance_budget,
    variance_forecast_vs_actual,
    variance_fva_stairstep,
    variance_plan_drift,
    variance_plan_vs_actual,
)
from sop_pipeline.ingest.pipedrive import PipedriveSettings
from sop_pipeline.tables import OUTPUT_TABLES

# Who answers for an asset: the data team for the landed extracts and the dbt models, the
# planning team for everything the cycle computes.
DATA_OWNER, PLANNING_OWNER = "team:data-engineering", "team:sop-planning"
DATA_GROUPS = ("extracts", "staging", "marts", "default")
# The cycle is late when its pack and publication are not in by the due day (schedules.py).
CYCLE_OUTPUTS = (AssetKey("sop_pack"), AssetKey("published_tables"))
CYCLE_DUE = FreshnessPolicy.cron(deadline_cron=CYCLE_DUE_CRON, lower_bound_delta=timedelta(days=28))


def owned(spec: AssetSpec) -> AssetSpec:
    """The asset with its owner, a `stage` tag (its group), a planning table's name and
    column schema (tables/) and, for the cycle's outputs, the freshness policy of the cycle's
    due day."""
    group = spec.group_name or "default"
    owner = DATA_OWNER if group in DATA_GROUPS else PLANNING_OWNER
    due = {"freshness_policy": CYCLE_DUE} if spec.key in CYCLE_OUTPUTS else {}
    table = OUTPUT_TABLES.get(spec.key.to_user_string())
    schema = {} if table is None else {
        "dagster/table_name": f"main.{table.name}",
        "dagster/column_schema": column_schema(table.columns)}
    return spec.replace_attributes(owners=[owner], tags={**spec.tags, "stage": group},
                                   metadata={**spec.metadata, **schema}, **due)


def build_defs(extracts_dir: str = "", warehouse_dir: str = "", engine: str = "",
               engine_address: str = "") -> Definitions:
    """The code location; empty folders fall back to SOP_EXTRACTS_DIR / SOP_WAREHOUSE_DIR,
    an empty engine to SOP_ENGINE (sop_pipeline.engine). With the Pipedrive pull configured
    (PIPEDRIVE_* settings), the CRM comes from its dlt assets (assets/crm.py) instead of the
    folder's crm files."""
    resources = build_resources(extracts_dir, warehouse_dir, engine, engine_address)
    crm = ([build_pipedrive_assets(resources["sop"].warehouse_path())]
           if PipedriveSettings.from_env() else [])
    raw_extracts = build_raw_extracts([key for assets in crm for key in assets.keys])
    return Definitions(
        assets=map_asset_specs(owned, [
            *crm, raw_extracts, sop_dbt_models, demand_forecast, consensus_demand, supply_plan,
            capacity_plan, inventory_projection, plan_financials, variance_forecast_vs_actual,
            variance_plan_vs_actual, variance_budget, alerts, cycle_summary,
            sop_pack, published_tables, decision_log, plan_version, scenario_kpis,
            variance_fva_stairstep, variance_plan_drift]),
        jobs=[monthly_cycle_job, planning_job],
        schedules=[monthly_cycle_schedule],
        sensors=[extracts_landed],
        resources=resources,
        # One process writes the DuckDB file: steps run one after another, also in ad hoc runs.
        executor=in_process_executor,
    )


defs = build_defs()
