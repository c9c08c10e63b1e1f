"""Demand stage: the statistical forecast and the backtest accuracy it was chosen on."""


from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetSpec,
    MetadataValue,
    multi_asset,
)

from assets.checks import check_result, check_spec
from assets.dbt import model_keys
from assets.planning import (
    PLANNING,
    cycle_of,
    markdown_table,
    monthly_chart,
    write_cycle_table,
)
from assets.resources import SopSettings
from sop_pipeline.cycle import horizon_months
from sop_pipeline.demand.checks import accuracy_problems, consensus_problems, forecast_problems
from sop_pipeline.demand.hierarchy import coherence_gap
from sop_pipeline.demand.stage import consensus_stage, demand_stage, family_bias
from sop_pipeline.tables import OUTPUT_TABLES

FORECAST_COVERS_HORIZON = check_spec(
    "forecast_covers_horizon", "demand_forecast", blocking=True,
    description="No forecast is negative or empty; every series has exactly one selected "
                "model, which forecasts every horizon month once.")
ONE_MODEL_PER_SERIES = check_spec(
    "one_model_per_series", "forecast_accuracy", blocking=True,
    description="Every series has exactly one selected model; no WAPE, MASE, RMSSE or RMSE "
                "is negative.")
CONSENSUS_ADDS_UP = check_spec(
    "consensus_adds_up", "consensus_demand", blocking=True,
    description="consensus_qty = statistical + event + crm_pipeline + override (clipped at "
                "0), consensus_value = consensus_qty x unit_price, one row per sku, "
                "location and month.")


@multi_asset(
    specs=[
        AssetSpec(name, description=OUTPUT_TABLES[name].description, group_name="demand",
                  deps=model_keys("fct_monthly_demand", "dim_items", "stg_plan__events"),
                  kinds=PLANNING["kinds"])
        for name in ("demand_forecast", "forecast_accuracy")
    ],
    check_specs=[FORECAST_COVERS_HORIZON, ONE_MODEL_PER_SERIES],
    partitions_def=PLANNING["partitions_def"],
    pool=PLANNING["pool"],
)
def demand_forecast(context: AssetExecutionContext, sop: SopSettings):
    """Candidate models per series, judged by rolling-origin backtest; the best is selected."""
    cycle_month = cycle_of(context)

    def progress(done: int, total: int) -> None:
        context.log.info(f"forecast: {done:,} of {total:,} series done")

    settings = sop.forecast_settings()
    context.log.info(f"forecast engine: {settings.engine.describe()}")
    with sop.connect() as con:
        forecast, accuracy = demand_stage(con, cycle_month, settings, on_progress=progress)
        chosen = accuracy[accuracy["is_selected"]]
        models = chosen["model"].value_counts().to_dict()
        yield write_cycle_table(
            con, context, "demand_forecast", forecast,
            series=int(chosen.shape[0]), selected_models=models,
            engine=settings.engine.name, engine_address=settings.engine.where(),
            selected_forecast_qty=float(
                forecast.loc[forecast["is_selected"], "forecast_qty"].sum()
            ),
            chart=monthly_chart(forecast[forecast["is_selected"]], "forecast_qty"),
        )
        yield write_cycle_table(
            con, context, "forecast_accuracy", accuracy,
            median_selected_wape=float(chosen["wape"].median()),
            median_selected_fva=float(chosen["fva"].median()),
            demand_classes=chosen["demand_class"].value_counts().to_dict(),
            selection_rules=chosen["selection_rule"].value_counts().to_dict(),
            possibly_obsolete=int(chosen["possibly_obsolete"].fillna(False).sum()),
            bias_by_family=MetadataValue.md(markdown_table(family_bias(con, chosen))),
        )
    months = horizon_months(cycle_month, sop.horizon_months)
    yield check_result(context, FORECAST_COVERS_HORIZON,
                       forecast_problems(forecast, months, series=accuracy))
    yield check_result(context, ONE_MODEL_PER_SERIES, accuracy_problems(accuracy))


@multi_asset(
    specs=[
        AssetSpec(name, description=OUTPUT_TABLES[name].description, group_name="demand",
                  deps=["demand_forecast", *model_keys("dim_items", "dim_locations", "fct_deals",
                                                       "stg_plan__overrides",
                                                       "stg_plan__events")],
                  kinds=PLANNING["kinds"])
        for name in ("consensus_demand", "demand_hierarchy")
    ],
    check_specs=[CONSENSUS_ADDS_UP,
                 AssetCheckSpec("hierarchy_is_coherent", asset="demand_hierarchy",
                                description="Every family and total equals the sum of its "
                                            "parts, per location and overall.")],
    partitions_def=PLANNING["partitions_def"],
    pool=PLANNING["pool"],
)
def consensus_demand(context: AssetExecutionContext, sop: SopSettings):
    """Statistical + weighted CRM pipeline + planner overrides, and its bottom-up roll-up."""
    with sop.connect() as con:
        consensus, hierarchy, ignored = consensus_stage(con, cycle_of(context), sop.horizon_months)
        if ignored:
            context.log.info(f"{ignored} override(s) outside this cycle's horizon left out")
        overridden = consensus[consensus["override_qty"] != 0]
        yield write_cycle_table(
            con, context, "consensus_demand", consensus,
            consensus_qty=float(consensus["consensus_qty"].sum()),
            consensus_value=float(consensus["consensus_value"].sum()),
            crm_pipeline_qty=float(consensus["crm_pipeline_qty"].sum()),
            overridden_cells=len(overridden), overrides_outside_horizon=ignored,
            chart=monthly_chart(consensus, "consensus_qty"),
        )
        yield write_cycle_table(con, context, "demand_hierarchy", hierarchy)
    yield check_result(context, CONSENSUS_ADDS_UP, consensus_problems(consensus))
    gap = coherence_gap(hierarchy.rename(columns={"consensus_qty": "qty"}))
    yield AssetCheckResult(check_name="hierarchy_is_coherent", asset_key="demand_hierarchy",
                           passed=bool(gap < 1e-6), metadata={"largest_gap": gap})
