"""Alerts: what needs a planner's attention this cycle, and the orders to act on."""


from dagster import AssetExecutionContext, AssetKey, MetadataValue, asset

from assets.checks import check_result, check_spec
from assets.dbt import model_keys
from assets.planning import PLANNING, cycle_of, markdown_table, write_cycle_table
from assets.resources import SopSettings
from sop_pipeline.review.alerts import alert_counts
from sop_pipeline.review.checks import alerts_problems
from sop_pipeline.review.stage import alerts_stage

# Not blocking: alerts out of order mislead the pack's top list, the plan itself is sound.
ALERTS_ORDERED = check_spec(
    "ordered_by_severity", "alerts", blocking=False,
    description="Severity is high, medium or low; alerts are ordered by severity, then value "
                "at risk (largest first), kind, entity and month.")


@asset(
    deps=[AssetKey("inventory_projection"), AssetKey("capacity_plan"),
          AssetKey("supply_plan"), AssetKey("consensus_demand"), AssetKey("forecast_accuracy"),
          AssetKey("decision_log"), AssetKey("plan_version"), AssetKey("scenario_kpis"),
          *model_keys("fct_supply_orders", "dim_items", "dim_routings")],
    group_name="alerts", **PLANNING,
    description="Stockouts, stock below safety or in excess, overloaded work centres, late "
                "purchase orders, slow suppliers, biased forecasts, the orders to release, "
                "expedite, push out or cancel and the decisions past their due month, one "
                "sentence each, ordered by severity then value at risk.",
    check_specs=[ALERTS_ORDERED],
)
def alerts(context: AssetExecutionContext, sop: SopSettings):
    with sop.connect() as con:
        rows = alerts_stage(con, cycle_of(context), currency=sop.supply_settings().currency)
        counts = rows.groupby(["kind", "severity"]).size().rename("alerts").reset_index()
        yield write_cycle_table(
            con, context, "alerts", rows,
            alerts_by_kind=MetadataValue.md(markdown_table(counts)),
            **{f"alerts/{key}": count for key, count in alert_counts(rows).items()},
        )
    yield check_result(context, ALERTS_ORDERED, alerts_problems(rows))
