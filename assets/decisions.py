"""Decisions: what the S&OP meetings decided, followed up cycle by cycle, and the plan each
cycle adopted."""


from dagster import AssetExecutionContext, asset

from assets.dbt import model_keys
from assets.planning import PLANNING, cycle_of, write_cycle_table
from assets.resources import SopSettings
from sop_pipeline.review.stage import decision_log_stage, plan_version_stage
from sop_pipeline.tables import OUTPUT_TABLES

# In the alerts group: the planning job runs it every cycle, and the alerts read its rows.
DECISIONS = {"deps": model_keys("stg_plan__decisions", "stg_plan__scenarios"),
             "group_name": "alerts", **PLANNING}


@asset(description=OUTPUT_TABLES["decision_log"].description, **DECISIONS)
def decision_log(context: AssetExecutionContext, sop: SopSettings):
    with sop.connect() as con:
        rows = decision_log_stage(con, cycle_of(context))
        return write_cycle_table(
            con, context, "decision_log", rows,
            **{f"status/{status}": int(count)
               for status, count in rows["status"].value_counts().sort_index().items()},
            overdue=int(rows["is_overdue"].sum()),
        )


@asset(description=OUTPUT_TABLES["plan_version"].description, **DECISIONS)
def plan_version(context: AssetExecutionContext, sop: SopSettings):
    with sop.connect() as con:
        rows = plan_version_stage(con, cycle_of(context))
        return write_cycle_table(con, context, "plan_version", rows,
                                 adopted_scenario=str(rows["scenario"].iloc[0]))
