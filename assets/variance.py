"""Variance stage: last month's forecasts and supply plan against what happened, and the gap
to budget."""


from dagster import AssetExecutionContext, AssetKey, AssetSpec, asset, multi_asset

from assets.dbt import model_keys
from assets.planning import PLANNING, cycle_of, write_cycle_table
from assets.resources import SopSettings
from sop_pipeline.review.stage import budget_stage, plan_variance_stage, variance_stage
from sop_pipeline.tables import OUTPUT_TABLES


@multi_asset(
    specs=[
        # Reads demand_forecast rows of earlier cycles; run cycles in order for the waterfall.
        AssetSpec(name, description=OUTPUT_TABLES[name].description, group_name="variance",
                  deps=["demand_forecast", *model_keys("fct_monthly_demand", "dim_items")],
                  kinds=PLANNING["kinds"])
        for name in ("variance_forecast_vs_actual", "variance_forecast_by_family")
    ],
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


@asset(
    deps=[AssetKey("supply_plan"), *model_keys("fct_supply_orders", "dim_items")],
    group_name="variance", **PLANNING,
    description=OUTPUT_TABLES["variance_plan_vs_actual"].description,
)
def variance_plan_vs_actual(context: AssetExecutionContext, sop: SopSettings):
    with sop.connect() as con:
        rows = plan_variance_stage(con, cycle_of(context))
        return write_cycle_table(
            con, context, "variance_plan_vs_actual", rows,
            planned_value=float(rows["planned_value"].sum()),
            actual_value=float(rows["actual_value"].sum()),
        )


@asset(
    deps=[AssetKey("consensus_demand"), *model_keys("fct_budget", "fct_monthly_demand")],
    group_name="variance", **PLANNING,
    description=OUTPUT_TABLES["variance_budget"].description,
)
def variance_budget(context: AssetExecutionContext, sop: SopSettings):
    with sop.connect() as con:
        rows = budget_stage(con, cycle_of(context), sop.horizon_months)
        if rows.empty:
            context.log.warning("No budget for the fiscal years of this plan.")
        return write_cycle_table(
            con, context, "variance_budget", rows,
            gap_value_horizon=float(rows.loc[rows["basis"] == "consensus", "gap_value"].sum()),
        )
