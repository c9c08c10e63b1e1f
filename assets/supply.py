"""Supply stage: the constrained supply plan, rough-cut capacity, projected inventory and the
plan in money."""


from dagster import AssetExecutionContext, AssetKey, MetadataValue, asset

from assets.checks import check_result, check_spec
from assets.dbt import model_keys
from assets.planning import PLANNING, cycle_of, markdown_table, monthly_chart, write_cycle_table
from assets.resources import SopSettings
from sop_pipeline.supply.checks import (
    capacity_problems,
    financials_problems,
    inventory_problems,
)
from sop_pipeline.supply.stage import (
    capacity_stage,
    financials_stage,
    inventory_stage,
    supply_stage,
)

SUPPLY_INPUTS = model_keys("dim_items", "dim_routings", "dim_work_centers",
                           "fct_work_center_calendar", "fct_inventory_snapshots",
                           "fct_supply_orders", "fct_monthly_demand")

PLAN_IS_SIGNABLE = check_spec(
    "plan_is_signable", "supply_plan", blocking=True,
    description="Balances close, no sale is lost while stock is kept, planned hours within "
                "available + overtime, nothing inside the lead time, orders in their lots.")
HOURS_WITHIN_CAPACITY = check_spec(
    "hours_within_capacity", "capacity_plan", blocking=True,
    description="Planned hours within available hours + the allowed overtime share; "
                "overload_hours = max(required - available, 0).")
PROJECTION_CHAINS = check_spec(
    "projection_chains", "inventory_projection", blocking=True,
    description="closing = opening + receipts - (demand - unmet), receipts = scheduled + "
                "planned, and each month opens with the previous month's closing.")
MONEY_ADDS_UP = check_spec(
    "money_adds_up", "plan_financials", blocking=True,
    description="gross_margin = revenue - cost_of_goods, supply_cost = production + "
                "purchase + overtime + holding cost, fill_rate in [0, 1].")


@asset(
    deps=[AssetKey("consensus_demand"), AssetKey("forecast_accuracy"), *SUPPLY_INPUTS],
    group_name="supply", **PLANNING,
    description="Production and purchases per sku, location and month from a linear program "
                "within capacity and lead times, in lots, and the demand it cannot meet.",
    check_specs=[PLAN_IS_SIGNABLE],
)
def supply_plan(context: AssetExecutionContext, sop: SopSettings):
    with sop.connect() as con:
        result = supply_stage(con, cycle_of(context), sop.horizon_months,
                              sop.supply_settings(), sop.service_level)
        plan, stats = result.plan, result.stats
        context.log.info(
            f"supply plan: {stats.get('variables', 0):,} variables, "
            f"{stats.get('constraints', 0):,} constraints, solved in "
            f"{stats.get('solve_seconds', 0.0):.1f} s ({stats.get('status', 'no model')}) "
            f"on {stats.get('engine', 'local')}")
        unmet = plan.groupby("month", as_index=False)["unmet_qty"].sum()
        yield write_cycle_table(
            con, context, "supply_plan", plan,
            planned_production_units=float(plan["planned_production_qty"].sum()),
            planned_purchase_units=float(plan["planned_purchase_qty"].sum()),
            unmet_units=float(plan["unmet_qty"].sum()),
            unmet_by_month=MetadataValue.md(markdown_table(unmet[unmet["unmet_qty"] > 0])),
            chart=monthly_chart(plan.assign(planned_qty=plan["planned_production_qty"]
                                            + plan["planned_purchase_qty"]), "planned_qty"),
            **{f"lp_{key}": value for key, value in stats.items()
               if isinstance(value, (int, float, str))},
        )
    yield check_result(context, PLAN_IS_SIGNABLE, result.problems)


@asset(
    deps=[AssetKey("consensus_demand"), AssetKey("supply_plan"), *SUPPLY_INPUTS],
    group_name="supply", **PLANNING,
    description="Required (consensus) and planned (supply plan) vs available hours per work "
                "centre and month.",
    check_specs=[HOURS_WITHIN_CAPACITY],
)
def capacity_plan(context: AssetExecutionContext, sop: SopSettings):
    with sop.connect() as con:
        plan = capacity_stage(con, cycle_of(context))
        if plan.empty:
            context.log.warning("No work centres in the extracts: the capacity plan is empty.")
        overloaded = plan[plan["overload_hours"] > 0]
        yield write_cycle_table(
            con, context, "capacity_plan", plan,
            peak_utilisation=float(plan["utilisation"].max()) if len(plan) else 0.0,
            peak_planned_utilisation=(float(plan["planned_utilisation"].max())
                                      if len(plan) else 0.0),
            overloaded_centre_months=len(overloaded),
            chart=monthly_chart(plan, "utilisation", "max"),
        )
    yield check_result(context, HOURS_WITHIN_CAPACITY,
                       capacity_problems(plan, sop.overtime_share))


@asset(
    deps=[AssetKey("consensus_demand"), AssetKey("supply_plan"), *SUPPLY_INPUTS],
    group_name="supply", **PLANNING,
    description="Opening + receipts - demand = closing stock per sku, location and month, "
                "against safety stock.",
    check_specs=[PROJECTION_CHAINS],
)
def inventory_projection(context: AssetExecutionContext, sop: SopSettings):
    with sop.connect() as con:
        projection = inventory_stage(con, cycle_of(context), sop.horizon_months)
        by_status = (projection.drop_duplicates(["sku", "location_id", "status"])
                     .groupby("status").size().to_dict())
        yield write_cycle_table(
            con, context, "inventory_projection", projection,
            sku_locations=int(projection[["sku", "location_id"]].drop_duplicates().shape[0]),
            **{f"sku_locations_with_{status}": int(count) for status, count in by_status.items()},
            chart=monthly_chart(projection, "closing_qty"),
        )
    yield check_result(context, PROJECTION_CHAINS, inventory_problems(projection))


@asset(
    deps=[AssetKey("supply_plan"), AssetKey("capacity_plan"),
          *model_keys("dim_items", "dim_routings")],
    group_name="supply", **PLANNING,
    description="The supply plan in money per family and month: revenue, cost of goods, "
                "margin, supply cost, lost sales and the value of the stock it holds.",
    check_specs=[MONEY_ADDS_UP],
)
def plan_financials(context: AssetExecutionContext, sop: SopSettings):
    with sop.connect() as con:
        money = financials_stage(con, cycle_of(context), sop.supply_settings())
        stock = money.groupby("month")["inventory_value"].sum()
        revenue, margin = float(money["revenue"].sum()), float(money["gross_margin"].sum())
        by_family = money.groupby("family", as_index=False)[
            ["revenue", "gross_margin", "supply_cost", "lost_sales_value"]].sum()
        yield write_cycle_table(
            con, context, "plan_financials", money,
            currency=sop.currency, revenue=revenue, gross_margin=margin,
            gross_margin_pct=margin / revenue if revenue else 0.0,
            supply_cost=float(money["supply_cost"].sum()),
            lost_sales_value=float(money["lost_sales_value"].sum()),
            peak_inventory_value=float(stock.max()) if len(stock) else 0.0,
            horizon_end_inventory_value=float(stock.iloc[-1]) if len(stock) else 0.0,
            by_family=MetadataValue.md(markdown_table(by_family)),
            chart=monthly_chart(money, "revenue"),
            inventory_value_chart=monthly_chart(money, "inventory_value"),
        )
    yield check_result(context, MONEY_ADDS_UP, financials_problems(money))
