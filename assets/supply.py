"""Supply stage: rough-cut capacity per work centre and projected inventory."""


from dagster import AssetExecutionContext, AssetKey, asset

from assets.dbt import model_keys
from assets.planning import PLANNING, cycle_of, write_cycle_table
from assets.resources import SopSettings
from sop_pipeline.planning import capacity_stage, inventory_stage


@asset(
    deps=[AssetKey("consensus_demand"), *model_keys("dim_routings", "dim_work_centers")],
    group_name="supply", **PLANNING,
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
    deps=[AssetKey("consensus_demand"),
          *model_keys("fct_inventory_snapshots", "fct_supply_orders")],
    group_name="supply", **PLANNING,
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
