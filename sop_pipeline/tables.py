"""The published planning tables: names, grains, column types and descriptions.

One declaration creates the DuckDB tables (with table and column comments that BI tools show)
and renders the README's data dictionary.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OutputTable:
    name: str
    description: str
    grain: tuple[str, ...]
    columns: tuple[tuple[str, str, str], ...]  # name, DuckDB type, description

    @property
    def column_names(self) -> list[str]:
        return [c[0] for c in self.columns]


_CYCLE = ("cycle_month", "DATE",
          "Planning cycle (first day of month); it sees actuals up to the month before.")
_SKU = ("sku", "VARCHAR", "Stock-keeping unit (dim_items.sku).")
_LOCATION = ("location_id", "VARCHAR", "Location (dim_locations.location_id).")
_MONTH = ("month", "DATE", "Planned month (first day of month).")

OUTPUT_TABLES: dict[str, OutputTable] = {
    t.name: t
    for t in (
        OutputTable(
            "demand_forecast",
            "Statistical demand forecast of each candidate model per series and month; "
            "is_selected marks the model chosen by backtest.",
            ("cycle_month", "sku", "location_id", "month", "model"),
            (
                _CYCLE, _SKU, _LOCATION, _MONTH,
                ("model", "VARCHAR", "Forecast model: seasonal_naive, auto_ets, auto_theta, "
                 "croston_sba, prophet, ensemble_median, or mean for histories under a year."),
                ("forecast_qty", "DOUBLE", "Forecast quantity (units, never negative)."),
                ("lower_80", "DOUBLE", "Lower bound of the 80 % prediction interval."),
                ("upper_80", "DOUBLE", "Upper bound of the 80 % prediction interval."),
                ("lower_95", "DOUBLE", "Lower bound of the 95 % prediction interval."),
                ("upper_95", "DOUBLE", "Upper bound of the 95 % prediction interval."),
                ("is_selected", "BOOLEAN", "True for the model chosen for this series."),
            ),
        ),
        OutputTable(
            "forecast_accuracy",
            "Rolling-origin backtest accuracy of each candidate model per series, its value "
            "added over seasonal naive, and which one was chosen.",
            ("cycle_month", "sku", "location_id", "model"),
            (
                _CYCLE, _SKU, _LOCATION,
                ("model", "VARCHAR", "Forecast model."),
                ("wape", "DOUBLE", "Weighted absolute percentage error over the backtest "
                 "windows (sum |error| / sum actual)."),
                ("mase", "DOUBLE", "Mean absolute scaled error (seasonal naive scale)."),
                ("bias", "DOUBLE", "sum(forecast - actual) / sum(actual) over the backtest; "
                 "positive = over-forecast."),
                ("fva", "DOUBLE", "Forecast value added: seasonal naive's WAPE minus this "
                 "model's (positive = better than naive)."),
                ("n_obs", "BIGINT", "Months of history of the series."),
                ("is_selected", "BOOLEAN", "True for the model chosen for this series."),
            ),
        ),
        OutputTable(
            "consensus_demand",
            "The demand plan: selected statistical forecast + stated event uplifts + weighted "
            "open CRM pipeline, then planner overrides, in units and money.",
            ("cycle_month", "sku", "location_id", "month"),
            (
                _CYCLE, _SKU,
                ("location_id", "VARCHAR", "Location; empty for the pipeline of a sku that has "
                 "no forecast series (deals carry no location)."),
                ("family", "VARCHAR", "Product family of the sku."),
                _MONTH,
                ("statistical_qty", "DOUBLE", "Selected statistical forecast."),
                ("event_qty", "DOUBLE", "statistical_qty x the stated uplift of known events "
                 "(plan/events) the selected model did not learn from past occurrences."),
                ("crm_pipeline_qty", "DOUBLE", "Open deals x win probability, in their expected "
                 "close month, split over locations by forecast share."),
                ("override_qty", "DOUBLE", "What planner overrides added (negative: removed)."),
                ("consensus_qty", "DOUBLE",
                 "statistical + event + pipeline + override (>= 0)."),
                ("unit_price", "DOUBLE", "Item list price."),
                ("consensus_value", "DOUBLE", "consensus_qty x unit_price."),
                ("override_reason", "VARCHAR", "Why the planner overrode (plan/overrides)."),
                ("override_author", "VARCHAR", "Who overrode."),
                ("event_names", "VARCHAR", "Events behind event_qty, '; '-separated."),
            ),
        ),
        OutputTable(
            "demand_hierarchy",
            "Statistical and consensus demand rolled up bottom-up: sku, family and total, per "
            "location and over all locations (location_id 'all'). Coherent by construction.",
            ("cycle_month", "level", "key", "location_id", "month"),
            (
                _CYCLE,
                ("level", "VARCHAR", "sku, family or total."),
                ("key", "VARCHAR", "The sku, the family, or 'total'."),
                ("family", "VARCHAR", "Family of the sku or the family itself; empty for total."),
                ("location_id", "VARCHAR", "Location, or 'all' for the sum over locations."),
                _MONTH,
                ("statistical_qty", "DOUBLE", "Sum of the selected statistical forecasts."),
                ("consensus_qty", "DOUBLE", "Sum of the consensus quantities."),
            ),
        ),
        OutputTable(
            "capacity_plan",
            "Rough-cut capacity: hours the consensus demand needs per work centre and month "
            "against the hours available.",
            ("cycle_month", "work_center_id", "month"),
            (
                _CYCLE,
                ("work_center_id", "VARCHAR", "Work centre (dim_work_centers.work_center_id)."),
                _MONTH,
                ("required_hours", "DOUBLE", "Consensus units x routing hours per unit."),
                ("available_hours", "DOUBLE", "Hours the work centre has in the month."),
                ("utilisation", "DOUBLE", "required_hours / available_hours (1.0 = full)."),
                ("overload_hours", "DOUBLE", "Hours required beyond those available (>= 0)."),
            ),
        ),
        OutputTable(
            "inventory_projection",
            "Projected stock per sku, location and month: opening + receipts - demand = closing.",
            ("cycle_month", "sku", "location_id", "month"),
            (
                _CYCLE, _SKU, _LOCATION, _MONTH,
                ("opening_qty", "DOUBLE", "Stock at the start of the month (first month: the "
                 "last snapshot before the cut-off)."),
                ("receipts_qty", "DOUBLE", "Open purchase and production orders due in the "
                 "month (late ones in the first month)."),
                ("demand_qty", "DOUBLE", "Consensus demand for the month."),
                ("closing_qty", "DOUBLE", "opening + receipts - demand; negative = shortage."),
                ("status", "VARCHAR", "stockout when closing_qty < 0, else ok."),
            ),
        ),
        OutputTable(
            "variance_forecast_vs_actual",
            "Forecasts stored by earlier cycles against the actual of the month that just "
            "closed, by lag: the forecast waterfall.",
            ("cycle_month", "target_month", "sku", "location_id", "lag"),
            (
                _CYCLE,
                ("target_month", "DATE", "Month whose actual is compared (the month before "
                 "cycle_month)."),
                _SKU, _LOCATION,
                ("lag", "BIGINT", "Months between the forecasting cycle and target_month "
                 "(0 = forecast made in that month's own cycle)."),
                ("forecast_cycle", "DATE", "Cycle that made the forecast."),
                ("forecast_qty", "DOUBLE", "Selected forecast of that cycle for target_month."),
                ("actual_qty", "DOUBLE", "Units ordered in target_month (0 when none)."),
                ("error", "DOUBLE", "forecast_qty - actual_qty."),
                ("abs_error", "DOUBLE", "Absolute error."),
            ),
        ),
        OutputTable(
            "alerts",
            "What needs a planner's attention this cycle, one sentence each.",
            ("cycle_month", "kind", "entity", "month"),
            (
                _CYCLE,
                ("kind", "VARCHAR", "projected_stockout, capacity_overload or "
                 "late_purchase_order."),
                ("severity", "VARCHAR", "high, medium or low."),
                ("entity", "VARCHAR", "sku@location, work centre or purchase order line."),
                ("month", "DATE", "Month the alert is about."),
                ("message", "VARCHAR", "The alert in a sentence a planner understands."),
                ("value", "DOUBLE", "The measured value (shortage units, utilisation, days)."),
                ("threshold", "DOUBLE", "The threshold the value crossed."),
            ),
        ),
    )
}
