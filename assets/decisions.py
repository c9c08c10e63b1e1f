"""Decisions: what the S&OP meetings decided, followed up cycle by cycle, and the plan each
cycle adopted."""


from dagster import AssetExecutionContext, asset

from assets.checks import check_result, check_spec
from assets.dbt import model_keys
from assets.planning import PLANNING, cycle_of, write_cycle_table
from assets.resources import SopSettings
from sop_pipeline.review.checks import (
    decision_log_problems,
    plan_version_problems,
    scenario_names,
)
from sop_pipeline.review.stage import decision_log_stage, plan_version_stage
from sop_pipeline.tables import OUTPUT_TABLES

# In the alerts group: the planning job runs it every cycle, and the alerts read its rows.
DECISIONS = {"deps": model_keys("stg_plan__decisions", "stg_plan__scenarios"),
             "group_name": "alerts", **PLANNING}
# Not blocking: a decision listed twice misleads a reader but plans nothing.
ONE_ROW_PER_DECISION = check_spec(
    "one_row_per_decision", "decision_log", blocking=False,
    description="One row per decision_id, each with a status of open, done or dropped.")
# Blocking: alerts, the summary and the publication read the plan this row names.
NAMES_A_PLANNED_SCENARIO = check_spec(
    "names_a_planned_scenario", "plan_version", blocking=True,
    description="Exactly one row for the cycle, naming the baseline or a scenario of "
                "plan/scenarios, with the decision that adopted it (none for the baseline).")


@asset(description=OUTPUT_TABLES["decision_log"].description,
       check_specs=[ONE_ROW_PER_DECISION], **DECISIONS)
def decision_log(context: AssetExecutionContext, sop: SopSettings):
    with sop.connect() as con:
        rows = decision_log_stage(con, cycle_of(context))
        yield write_cycle_table(
            con, context, "decision_log", rows,
            **{f"status/{status}": int(count)
               for status, count in rows["status"].value_counts().sort_index().items()},
            overdue=int(rows["is_overdue"].sum()),
        )
    yield check_result(context, ONE_ROW_PER_DECISION, decision_log_problems(rows))


@asset(description=OUTPUT_TABLES["plan_version"].description,
       check_specs=[NAMES_A_PLANNED_SCENARIO], **DECISIONS)
def plan_version(context: AssetExecutionContext, sop: SopSettings):
    with sop.connect() as con:
        rows = plan_version_stage(con, cycle_of(context))
        yield write_cycle_table(con, context, "plan_version", rows,
                                adopted_scenario=str(rows["scenario"].iloc[0]))
        scenarios = scenario_names(con)
    yield check_result(context, NAMES_A_PLANNED_SCENARIO,
                       plan_version_problems(rows, scenarios))
