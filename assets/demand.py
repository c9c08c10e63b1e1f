"""Demand stage: the statistical forecast and the backtest accuracy it was chosen on."""


from dagster import AssetExecutionContext, AssetSpec, multi_asset

from assets.dbt import model_keys
from assets.planning import PLANNING, cycle_of, write_cycle_table
from assets.resources import SopSettings
from sop_pipeline.planning import demand_stage
from sop_pipeline.tables import OUTPUT_TABLES


@multi_asset(
    specs=[
        AssetSpec(name, description=OUTPUT_TABLES[name].description, group_name="demand",
                  deps=model_keys("fct_monthly_demand"), kinds=PLANNING["kinds"])
        for name in ("demand_forecast", "forecast_accuracy")
    ],
    partitions_def=PLANNING["partitions_def"],
    pool=PLANNING["pool"],
)
def demand_forecast(context: AssetExecutionContext, sop: SopSettings):
    """Candidate models per series, judged by rolling-origin backtest; the best is selected."""
    cycle_month = cycle_of(context)

    def progress(done: int, total: int) -> None:
        context.log.info(f"forecast: {done:,} of {total:,} series done")

    with sop.connect() as con:
        forecast, accuracy = demand_stage(
            con, cycle_month, sop.forecast_settings(), on_progress=progress
        )
        chosen = accuracy[accuracy["is_selected"]]
        models = chosen["model"].value_counts().to_dict()
        yield write_cycle_table(
            con, context, "demand_forecast", forecast,
            series=int(chosen.shape[0]), selected_models=str(models),
            selected_forecast_qty=float(
                forecast.loc[forecast["is_selected"], "forecast_qty"].sum()
            ),
        )
        yield write_cycle_table(
            con, context, "forecast_accuracy", accuracy,
            median_selected_wape=float(chosen["wape"].median()),
            median_selected_fva=float(chosen["fva"].median()),
        )
