"""Supply stage: rough-cut capacity per work centre and projected inventory."""


from dagster import AssetExecutionContext, AssetKey, asset
from dagster_dbt import get_asset_key_for_model

from assets.dbt import sop_dbt_models
from assets.partitions import cycle_partitions
from assets.planning import cycle_of, write_cycle_table
from assets.resources import SopSettings
from sop_pipeline.planning import capacity_stage, inventory_stage


def _models(*names: str) -> list[AssetKey]:
    return [get_asset_key_for_model([sop_dbt_models], n) for n in names]


@asset(
    deps=[AssetKey("demand_forecast"), *_models("dim_routings", "dim_work_centers")],
    partitions_def=cycle_partitions, group_name="supply", kinds={"duckdb", "python"},
    description="Required vs available hours per work centre and month.",
)
def capacity_plan(context: AssetExecutionContext, sop: SopSettings):
    with sop.connect() as con:
        plan = capacity_stage(con, cycle_of(context))
        if plan.empty:
            context.log.warning("No work centres in the extracts: the capacity plan is empty.")
        overloaded = plan[plan["overload_hours"] > 0]
        return write_cycle_table(
            con, context, "capacity_plan", plan,
            peak_utilisation=float(plan["utilisation"].max()) if len(plan) else 0.0,
            overloaded_centre_months=len(overloaded),
        )


@asset(
    deps=[AssetKey("demand_forecast"), *_models("fct_inventory_snapshots", "fct_supply_orders")],
    partitions_def=cycle_partitions, group_name="supply", kinds={"duckdb", "python"},
    description="Opening + receipts - demand = closing stock per sku, location and month.",
)
def inventory_projection(context: AssetExecutionContext, sop: SopSettings):
    with sop.connect() as con:
        projection = inventory_stage(con, cycle_of(context), sop.horizon_months)
        stockouts = projection[projection["status"] == "stockout"]
        return write_cycle_table(
            con, context, "inventory_projection", projection,
            sku_locations=int(projection[["sku", "location_id"]].drop_duplicates().shape[0]),
            sku_locations_with_stockout=int(
                stockouts[["sku", "location_id"]].drop_duplicates().shape[0]
            ),
        )
