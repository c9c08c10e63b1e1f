"""Variance stage: earlier cycles' forecasts against the month that just closed."""


from dagster import AssetExecutionContext, AssetKey, asset

from assets.planning import PLANNING, cycle_of, write_cycle_table
from assets.resources import SopSettings
from sop_pipeline.metrics import wape
from sop_pipeline.planning import variance_stage


@asset(
    # Reads demand_forecast rows of earlier cycles; run cycles in order to build the waterfall.
    deps=[AssetKey("demand_forecast")],
    group_name="variance", **PLANNING,
    description="Forecast vs actual by lag for the month before the cycle.",
)
def variance_forecast_vs_actual(context: AssetExecutionContext, sop: SopSettings):
    with sop.connect() as con:
        variance = variance_stage(con, cycle_of(context))
        by_lag = {
            f"wape_lag_{lag}": float(wape(group["actual_qty"], group["forecast_qty"]))
            for lag, group in variance.groupby("lag")
        }
        if variance.empty:
            context.log.info("No earlier cycle forecast this month yet: nothing to compare.")
        return write_cycle_table(con, context, "variance_forecast_vs_actual", variance, **by_lag)
