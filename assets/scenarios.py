"""Scenarios: every what-if of plan/scenarios re-planned from the cycle's forecast and put side
by side with the baseline in money and service.

One asset plans every scenario of the cycle (consensus -> supply plan -> capacity -> inventory
-> money), rather than a second partition dimension: scenarios are rows of a monthly extract
that come and go, the plan's inputs are read once for all of them, and a dynamic dimension
would multiply every planning asset's partitions by scenarios the cycle may not have. The
scenario is visible in the asset's metadata (one row per scenario) and in the `scenario`
column of the plan tables, whose what-if rows this asset writes (the baseline's are written by
the supply assets).
"""


from dagster import AssetExecutionContext, AssetKey, MetadataValue, asset

from assets.checks import check_result, check_spec
from assets.dbt import model_keys
from assets.planning import PLANNING, cycle_of, markdown_table, write_cycle_table
from assets.resources import SopSettings
from sop_pipeline.review.checks import scenario_kpis_problems, what_if_problems
from sop_pipeline.review.scenario_stage import SCENARIO_TABLES, scenario_stage
from sop_pipeline.review.stage import scenario_levers
from sop_pipeline.tables import OUTPUT_TABLES
from sop_pipeline.warehouse import replace_cycle_rows

SHOWN = ["scenario", "revenue", "gross_margin", "supply_cost", "lost_sales_value", "fill_rate",
         "inventory_value", "peak_utilisation", "margin_vs_baseline"]
BASELINE_IS_ZERO = check_spec(
    "baseline_is_zero", "scenario_kpis", blocking=True,
    description="One row per scenario, exactly one of them the baseline, whose "
                "*_vs_baseline columns are 0.")
WHAT_IFS_HOLD = check_spec(
    "what_ifs_hold", "scenario_kpis", blocking=True,
    description="Each what-if's capacity plan, inventory projection and plan financials "
                "hold the baseline's rules: hours within available + overtime, stock chained "
                "month to month, money adding up.")


@asset(
    deps=[*(AssetKey(name) for name in SCENARIO_TABLES),
          *model_keys("stg_plan__scenarios", "fct_supply_orders", "dim_items")],
    group_name="scenarios", **PLANNING,
    description=OUTPUT_TABLES["scenario_kpis"].description,
    check_specs=[BASELINE_IS_ZERO, WHAT_IFS_HOLD],
)
def scenario_kpis(context: AssetExecutionContext, sop: SopSettings):
    cycle_month = cycle_of(context)
    with sop.connect() as con:
        levers = scenario_levers(con, cycle_month, sop.horizon_months)
        kpis, what_ifs = scenario_stage(con, cycle_month, sop.horizon_months,
                                        sop.supply_settings(), sop.service_level, levers,
                                        workers=sop.forecast_workers)
        for name, rows in what_ifs.items():
            count = replace_cycle_rows(con, name, cycle_month, rows, what_ifs=True,
                                       run_id=context.run_id)
            context.log.info(f"{name}: {count:,} what-if rows for {context.partition_key}")
        context.log.info(f"scenarios planned: {', '.join(kpis['scenario'])}")
        yield write_cycle_table(
            con, context, "scenario_kpis", kpis,
            scenarios=len(kpis), currency=sop.currency,
            side_by_side=MetadataValue.md(markdown_table(kpis[SHOWN])),
            best_scenario=str(kpis.loc[kpis["margin_vs_baseline"].idxmax(), "scenario"]),
        )
    yield check_result(context, BASELINE_IS_ZERO, scenario_kpis_problems(kpis))
    yield check_result(context, WHAT_IFS_HOLD, what_if_problems(what_ifs, sop.overtime_share))
