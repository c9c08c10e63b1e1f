"""Variance stage: last month's forecasts and supply plan against what happened, the value each
demand step added, the plan's drift since last cycle and the gap to budget."""


import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    MetadataValue,
    asset,
    multi_asset,
)

from assets.checks import check_result, check_spec
from assets.dbt import model_keys
from assets.planning import PLANNING, cycle_of, markdown_table, write_cycle_table
from assets.resources import SopSettings
from sop_pipeline.review.checks import VARIANCE_SUMS, variance_problems
from sop_pipeline.review.stage import (
    budget_stage,
    fva_stairstep_stage,
    plan_drift_stage,
    plan_variance_stage,
    variance_stage,
)
from sop_pipeline.tables import OUTPUT_TABLES

# Not blocking: a wrong variance misstates the review, not the plan the cycle publishes.
ADDS_UP = {
    table: check_spec(
        "variance_adds_up", table, blocking=False,
        description="No negative lag or WAPE"
                    + "".join(f"; {column} = {minuend} - {subtrahend}"
                              for column, minuend, subtrahend in sums) + ".")
    for table, sums in VARIANCE_SUMS.items()
}


@multi_asset(
    specs=[
        # Reads demand_forecast rows of earlier cycles; run cycles in order for the waterfall.
        AssetSpec(name, description=OUTPUT_TABLES[name].description, group_name="variance",
                  deps=["demand_forecast", *model_keys("fct_monthly_demand", "dim_items")],
                  kinds=PLANNING["kinds"])
        for name in ("variance_forecast_vs_actual", "variance_forecast_by_family")
    ],
    check_specs=[ADDS_UP["variance_forecast_vs_actual"], ADDS_UP["variance_forecast_by_family"]],
    partitions_def=PLANNING["partitions_def"],
    pool=PLANNING["pool"],
)
def variance_forecast_vs_actual(context: AssetExecutionContext, sop: SopSettings):
    """Forecast vs actual by lag for the month before the cycle, and the family waterfall."""
    with sop.connect() as con:
        detail, waterfall = variance_stage(con, cycle_of(context))
        if detail.empty:
            context.log.info("No earlier cycle forecast this month yet: nothing to compare.")
        total = waterfall[waterfall["family"] == "all"]
        yield write_cycle_table(con, context, "variance_forecast_vs_actual", detail)
        yield write_cycle_table(
            con, context, "variance_forecast_by_family", waterfall,
            **{f"wape_lag_{row.lag}": float(row.wape) for row in total.itertuples()},
            **{f"fva_lag_{row.lag}": float(row.fva) for row in total.itertuples()},
        )
    yield _checked(context, "variance_forecast_vs_actual", detail)
    yield _checked(context, "variance_forecast_by_family", waterfall)


@asset(
    deps=[AssetKey("supply_plan"), *model_keys("fct_supply_orders", "dim_items")],
    group_name="variance", **PLANNING,
    description=OUTPUT_TABLES["variance_plan_vs_actual"].description,
    check_specs=[ADDS_UP["variance_plan_vs_actual"]],
)
def variance_plan_vs_actual(context: AssetExecutionContext, sop: SopSettings):
    with sop.connect() as con:
        rows = plan_variance_stage(con, cycle_of(context))
        yield write_cycle_table(
            con, context, "variance_plan_vs_actual", rows,
            planned_value=float(rows["planned_value"].sum()),
            actual_value=float(rows["actual_value"].sum()),
        )
    yield _checked(context, "variance_plan_vs_actual", rows)


@asset(
    deps=[AssetKey("consensus_demand"), *model_keys("fct_budget", "fct_monthly_demand")],
    group_name="variance", **PLANNING,
    description=OUTPUT_TABLES["variance_budget"].description,
    check_specs=[ADDS_UP["variance_budget"]],
)
def variance_budget(context: AssetExecutionContext, sop: SopSettings):
    with sop.connect() as con:
        rows = budget_stage(con, cycle_of(context), sop.horizon_months)
        if rows.empty:
            context.log.warning("No budget for the fiscal years of this plan.")
        yield write_cycle_table(
            con, context, "variance_budget", rows,
            gap_value_horizon=float(rows.loc[rows["basis"] == "consensus", "gap_value"].sum()),
        )
    yield _checked(context, "variance_budget", rows)


@asset(
    # Reads consensus rows of earlier cycles, like the waterfall: run cycles in order.
    deps=[AssetKey("consensus_demand"), AssetKey("demand_forecast"),
          *model_keys("fct_monthly_demand")],
    group_name="variance", **PLANNING,
    description=OUTPUT_TABLES["variance_fva_stairstep"].description,
    check_specs=[ADDS_UP["variance_fva_stairstep"]],
)
def variance_fva_stairstep(context: AssetExecutionContext, sop: SopSettings):
    with sop.connect() as con:
        rows = fva_stairstep_stage(con, cycle_of(context))
        lag_1 = rows[(rows["family"] == "all") & (rows["lag"] == 1)]
        steps = lag_1[lag_1["author"] == "all"]
        yield write_cycle_table(
            con, context, "variance_fva_stairstep", rows,
            stairstep_lag_1=MetadataValue.md(markdown_table(
                steps[["step", "forecast_qty", "actual_qty", "wape", "bias", "fva"]])),
            overrides_by_author_lag_1=MetadataValue.md(markdown_table(
                lag_1.loc[lag_1["author"] != "all", ["author", "series", "wape", "fva"]])),
        )
    yield _checked(context, "variance_fva_stairstep", rows)


@asset(
    deps=[AssetKey("consensus_demand")], group_name="variance", **PLANNING,
    description=OUTPUT_TABLES["variance_plan_drift"].description,
    check_specs=[ADDS_UP["variance_plan_drift"]],
)
def variance_plan_drift(context: AssetExecutionContext, sop: SopSettings):
    with sop.connect() as con:
        rows = plan_drift_stage(con, cycle_of(context))
        families = rows[rows["family"] != "all"]
        largest = families.loc[families["change_value"].abs().sort_values(
            ascending=False).index[:5]]
        yield write_cycle_table(
            con, context, "variance_plan_drift", rows,
            change_value=float(rows.loc[rows["family"] == "all", "change_value"].sum()),
            largest_drift=MetadataValue.md(markdown_table(
                largest[["family", "month", "previous_qty", "consensus_qty", "change_value"]])),
        )
    yield _checked(context, "variance_plan_drift", rows)


def _checked(context: AssetExecutionContext, table: str, rows: pd.DataFrame
             ) -> AssetCheckResult:
    return check_result(context, ADDS_UP[table], variance_problems(table, rows))
