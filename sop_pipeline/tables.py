"""The published planning tables: names, grains, column types and descriptions.

One declaration creates the DuckDB tables (with table and column comments that BI tools show)
and renders the README's data dictionary.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

# The grains the planning stages join on: one series, and one series in one month.
SERIES_KEY = ["sku", "location_id"]
SERIES_MONTH_KEY = [*SERIES_KEY, "month"]


def nullable_text(values: pd.Series) -> pd.Series:
    """A text column with None where a value is missing (not NaN), as the tables store it."""
    return values.astype(object).where(values.notna(), None)


@dataclass(frozen=True)
class OutputTable:
    name: str
    description: str
    grain: tuple[str, ...]
    columns: tuple[tuple[str, str, str], ...]  # name, DuckDB type, description

    @property
    def column_names(self) -> list[str]:
        return [c[0] for c in self.columns]

    @property
    def stage_columns(self) -> list[str]:
        """The columns a stage returns: all but cycle_month, which the writer adds."""
        return [name for name in self.column_names if name != "cycle_month"]


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
                 "dynamic_theta, auto_ces, prophet, ensemble_median (regular demand); "
                 "croston_sba, adida, imapa, tsb, window_average, intermittent_mean "
                 "(intermittent demand); mean for histories under a year."),
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
                ("mase", "DOUBLE", "Mean absolute scaled error: the backtest MAE over the "
                 "in-sample MAE of seasonal naive (y[t] - y[t-12]) on the months before the "
                 "first backtest origin; lag-1 differences when there are fewer than 13 such "
                 "months; null when that scale is 0 or there are fewer than 2 months "
                 "(sop_pipeline.demand.metrics)."),
                ("rmsse", "DOUBLE", "Root mean squared scaled error (M5): sqrt(backtest MSE / "
                 "in-sample seasonal-naive MSE), same scale rule as mase; what intermittent "
                 "series are judged by."),
                ("bias", "DOUBLE", "sum(forecast - actual) / sum(actual) over the backtest; "
                 "positive = over-forecast."),
                ("scaled_bias", "DOUBLE", "Mean backtest error over the series' mean demand "
                 "before the first origin (positive = over-forecast): the bias of "
                 "intermittent and lumpy series, whose backtest actuals may sum to little."),
                ("bias_consistent", "BOOLEAN", "The bias has the same sign in every backtest "
                 "window: a lean, not noise (the biased-forecast alert needs it)."),
                ("rmse", "DOUBLE", "Root mean squared backtest error, in units a month: the "
                 "forecast error behind the safety stock."),
                ("fva", "DOUBLE", "Forecast value added: seasonal naive's WAPE minus this "
                 "model's (positive = better than naive)."),
                ("n_obs", "BIGINT", "Months of history of the series."),
                ("demand_class", "VARCHAR", "Syntetos-Boylan class of the series from its "
                 "first demand: smooth, erratic, intermittent, lumpy (ADI 1.32, CV2 0.49), or "
                 "no_demand."),
                ("possibly_obsolete", "BOOLEAN", "No demand in the last 12 months after "
                 "demand before: forecast at its recent rate (the 12-month window average)."),
                ("selection_rule", "VARCHAR", "Why the series' model was chosen: "
                 "combination, best_score (no combination fitted), few_demands, "
                 "possibly_obsolete, "
                 "too_short_to_backtest, short_history, unscored."),
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
            "supply_plan",
            "Constrained supply plan (a linear program solved with HiGHS): production of make "
            "skus and purchases of buy skus per location and month within work-centre capacity "
            "and lead times, and the demand it cannot meet.",
            ("cycle_month", "sku", "location_id", "month"),
            (
                _CYCLE, _SKU, _LOCATION, _MONTH,
                ("make_or_buy", "VARCHAR", "make (produced) or buy (purchased)."),
                ("demand_qty", "DOUBLE", "Consensus demand for the month."),
                ("scheduled_receipts_qty", "DOUBLE", "Open purchase and production orders due "
                 "in the month (late ones in the first month)."),
                ("planned_production_qty", "DOUBLE", "Units the plan makes in the month "
                 "(make skus)."),
                ("planned_purchase_qty", "DOUBLE", "Units the plan has arrive in the month "
                 "(buy skus; ordered a lead time earlier)."),
                ("opening_qty", "DOUBLE", "Stock at the start of the month."),
                ("closing_qty", "DOUBLE", "opening + scheduled + planned - (demand - unmet)."),
                ("unmet_qty", "DOUBLE", "Demand the plan cannot meet in the month (capacity or "
                 "lead time), counted as lost."),
                ("safety_stock_qty", "DOUBLE", "Safety stock the plan aims to hold."),
            ),
        ),
        OutputTable(
            "plan_financials",
            "The supply plan in money per family and month: revenue, cost of goods and margin "
            "of the demand it serves, what its supply costs, the sales it loses and the value "
            "of the stock it holds (working capital).",
            ("cycle_month", "month", "family"),
            (
                _CYCLE, _MONTH,
                ("family", "VARCHAR", "Product family (dim_items.family)."),
                ("currency", "VARCHAR", "Currency of every money column (that of the items' "
                 "unit_cost and unit_price)."),
                ("demand_qty", "DOUBLE", "Demand the plan works to (units)."),
                ("served_qty", "DOUBLE", "Demand served: demand_qty - lost_sales_qty (units)."),
                ("revenue", "DOUBLE", "served_qty x unit_price."),
                ("cost_of_goods", "DOUBLE", "served_qty x unit_cost."),
                ("gross_margin", "DOUBLE", "revenue - cost_of_goods."),
                ("gross_margin_pct", "DOUBLE", "gross_margin / revenue; empty without revenue."),
                ("production_cost", "DOUBLE", "Production received in the month (open and "
                 "planned orders) x unit_cost."),
                ("purchase_cost", "DOUBLE", "Purchases received in the month (open and planned "
                 "orders) x unit_cost."),
                ("overtime_cost", "DOUBLE", "Overtime hours x overtime cost per hour, shared "
                 "among families by their planned hours on each work centre."),
                ("holding_cost", "DOUBLE", "Month-end stock x unit_cost x holding cost rate."),
                ("supply_cost", "DOUBLE", "production + purchase + overtime + holding cost."),
                ("lost_sales_qty", "DOUBLE", "Demand the plan cannot serve (units)."),
                ("lost_sales_value", "DOUBLE", "lost_sales_qty x unit_price: revenue lost."),
                ("fill_rate", "DOUBLE", "served_qty / demand_qty; empty without demand."),
                ("inventory_qty", "DOUBLE", "Month-end stock (units)."),
                ("inventory_value", "DOUBLE", "Month-end stock x unit_cost: working capital "
                 "tied up in stock."),
                ("days_of_cover", "DOUBLE", "inventory_value / the average daily cost of goods "
                 "of the demand of this and the next two months; 0 without stock, empty when "
                 "stock has no demand ahead."),
            ),
        ),
        OutputTable(
            "capacity_plan",
            "Rough-cut capacity per work centre and month: hours the consensus demand needs and "
            "hours the supply plan schedules, against the hours available that month.",
            ("cycle_month", "work_center_id", "month"),
            (
                _CYCLE,
                ("work_center_id", "VARCHAR", "Work centre (dim_work_centers.work_center_id)."),
                _MONTH,
                ("required_hours", "DOUBLE", "Consensus units x routing hours per unit: the "
                 "load if every unit were made in the month it is sold."),
                ("planned_hours", "DOUBLE", "Supply plan production x routing hours per unit "
                 "(never above available + allowed overtime)."),
                ("available_hours", "DOUBLE", "Hours the centre has that month: the work-centre "
                 "calendar's where it has the month, else the normal month."),
                ("utilisation", "DOUBLE", "required_hours / available_hours (1.0 = full)."),
                ("planned_utilisation", "DOUBLE", "planned_hours / available_hours; above 1.0 "
                 "only with overtime."),
                ("overload_hours", "DOUBLE", "Hours required beyond those available (>= 0)."),
                ("top_skus", "VARCHAR", "The skus needing the most hours on the centre that "
                 "month, with their hours."),
            ),
        ),
        OutputTable(
            "inventory_projection",
            "Projected stock per sku, location and month with the supply plan: opening + "
            "receipts - demand = closing, against safety stock.",
            ("cycle_month", "sku", "location_id", "month"),
            (
                _CYCLE, _SKU, _LOCATION, _MONTH,
                ("opening_qty", "DOUBLE", "Stock at the start of the month (first month: the "
                 "last snapshot before the cut-off)."),
                ("scheduled_receipts_qty", "DOUBLE", "Open purchase and production orders due "
                 "in the month (late ones in the first month)."),
                ("planned_receipts_qty", "DOUBLE", "Planned production and purchases of the "
                 "supply plan arriving in the month."),
                ("receipts_qty", "DOUBLE", "scheduled + planned receipts."),
                ("demand_qty", "DOUBLE", "Consensus demand for the month."),
                ("unmet_qty", "DOUBLE", "Demand the supply plan cannot meet in the month "
                 "(lost, as in the plan)."),
                ("closing_qty", "DOUBLE", "opening + receipts - (demand - unmet); negative = "
                 "shortage (only without a supply plan)."),
                ("safety_stock_qty", "DOUBLE", "z(service level) x monthly forecast error "
                 "(backtest RMSE) x sqrt(lead time in months)."),
                ("days_of_cover", "DOUBLE", "Days the closing stock lasts at the average daily "
                 "demand of the next three months."),
                ("status", "VARCHAR", "stockout (unmet demand or negative stock), "
                 "below_safety_stock, excess or healthy."),
            ),
        ),
        OutputTable(
            "variance_forecast_vs_actual",
            "Forecasts stored by earlier cycles against the actual of the month that just "
            "closed, by lag, per sku and location: the forecast waterfall's detail.",
            ("cycle_month", "target_month", "sku", "location_id", "lag"),
            (
                _CYCLE,
                ("target_month", "DATE", "Month whose actual is compared (the month before "
                 "cycle_month)."),
                _SKU, _LOCATION,
                ("family", "VARCHAR", "Product family of the sku."),
                ("lag", "BIGINT", "Months between the forecasting cycle and target_month "
                 "(0 = forecast made in that month's own cycle)."),
                ("forecast_cycle", "DATE", "Cycle that made the forecast."),
                ("forecast_qty", "DOUBLE", "Selected forecast of that cycle for target_month."),
                ("naive_qty", "DOUBLE", "Seasonal naive forecast of that cycle for "
                 "target_month: the baseline of forecast value added."),
                ("actual_qty", "DOUBLE", "Units ordered in target_month (0 when none)."),
                ("error", "DOUBLE", "forecast_qty - actual_qty."),
                ("abs_error", "DOUBLE", "Absolute error."),
            ),
        ),
        OutputTable(
            "variance_forecast_by_family",
            "The forecast waterfall: accuracy of earlier cycles' forecasts of the month that "
            "just closed, by family and lag, against seasonal naive.",
            ("cycle_month", "target_month", "family", "lag"),
            (
                _CYCLE,
                ("target_month", "DATE", "Month whose actual is compared."),
                ("family", "VARCHAR", "Product family, or 'all' for every family."),
                ("lag", "BIGINT", "Months between the forecasting cycle and target_month."),
                ("series", "BIGINT", "Sku-locations compared."),
                ("forecast_qty", "DOUBLE", "Sum of the selected forecasts."),
                ("naive_qty", "DOUBLE", "Sum of the seasonal naive forecasts."),
                ("actual_qty", "DOUBLE", "Sum of the actuals."),
                ("wape", "DOUBLE", "sum |forecast - actual| / sum actual, over the family's "
                 "sku-locations."),
                ("bias", "DOUBLE", "sum(forecast - actual) / sum actual; positive = "
                 "over-forecast."),
                ("naive_wape", "DOUBLE", "The same WAPE for seasonal naive."),
                ("fva", "DOUBLE", "Forecast value added: naive_wape - wape (positive = the "
                 "forecast beat the naive baseline)."),
            ),
        ),
        OutputTable(
            "variance_plan_vs_actual",
            "Supply plan vs what happened in the month that just closed: production planned by "
            "that month's own cycle vs production orders completed, purchases planned vs "
            "purchase lines received, by family.",
            ("cycle_month", "month", "family", "supply_type"),
            (
                _CYCLE,
                ("month", "DATE", "Month compared (the month before cycle_month)."),
                ("family", "VARCHAR", "Product family."),
                ("supply_type", "VARCHAR", "production or purchase."),
                ("planned_qty", "DOUBLE", "Scheduled + planned receipts of that month in the "
                 "supply plan of the month's own cycle."),
                ("actual_qty", "DOUBLE", "Units completed (production orders due in the month "
                 "and completed) or received (purchase lines received in the month)."),
                ("variance_qty", "DOUBLE", "actual_qty - planned_qty."),
                ("planned_value", "DOUBLE", "planned_qty x unit cost."),
                ("actual_value", "DOUBLE", "actual_qty x unit cost."),
                ("variance_value", "DOUBLE", "actual_value - planned_value."),
            ),
        ),
        OutputTable(
            "variance_budget",
            "Consensus demand vs budget by family and month, in units and money, with the "
            "cumulative gap over the fiscal year (actuals for months already closed).",
            ("cycle_month", "family", "month"),
            (
                _CYCLE,
                ("family", "VARCHAR", "Product family."),
                ("month", "DATE", "Budget month."),
                ("fiscal_year", "BIGINT", "Fiscal year of the month (the year it ends in)."),
                ("basis", "VARCHAR", "actual (month closed before the cycle) or consensus."),
                ("budget_qty", "DOUBLE", "Budgeted units."),
                ("plan_qty", "DOUBLE", "Actual units (closed months) or consensus units."),
                ("gap_qty", "DOUBLE", "plan_qty - budget_qty (negative = below budget)."),
                ("budget_value", "DOUBLE", "Budgeted revenue."),
                ("plan_value", "DOUBLE", "Actual net value (closed months) or consensus value."),
                ("gap_value", "DOUBLE", "plan_value - budget_value."),
                ("cumulative_gap_qty", "DOUBLE", "gap_qty summed from the fiscal year's first "
                 "month to this one."),
                ("cumulative_gap_value", "DOUBLE", "gap_value summed likewise."),
            ),
        ),
        OutputTable(
            "cycle_summary",
            "One row per cycle with the headline figures of the S&OP meeting.",
            ("cycle_month",),
            (
                _CYCLE,
                ("wape_lag1", "DOUBLE", "WAPE of the forecasts made one month before the month "
                 "that just closed."),
                ("wape_lag3", "DOUBLE", "The same, three months before."),
                ("bias_lag1", "DOUBLE", "Bias of the lag-1 forecasts (positive = over)."),
                ("fva_lag1", "DOUBLE", "Forecast value added over seasonal naive at lag 1."),
                ("consensus_value_fy", "DOUBLE", "Revenue of the current fiscal year: actuals "
                 "of closed months + consensus of the rest."),
                ("budget_value_fy", "DOUBLE", "Budgeted revenue of the current fiscal year."),
                ("gap_to_budget_pct", "DOUBLE", "consensus_value_fy / budget_value_fy - 1."),
                ("peak_utilisation", "DOUBLE", "Highest required / available hours over work "
                 "centres and horizon months."),
                ("peak_work_center", "VARCHAR", "Work centre and month of that peak."),
                ("skus_at_stockout_risk", "BIGINT", "Sku-locations projected to stock out in "
                 "the horizon."),
                ("unmet_qty", "DOUBLE", "Demand the supply plan cannot meet over the horizon."),
                ("inventory_value_m3", "DOUBLE", "Projected stock (>= 0) x unit cost at the end "
                 "of the cycle's third month."),
                ("alerts_high", "BIGINT", "High-severity alerts."),
                ("alerts_medium", "BIGINT", "Medium-severity alerts."),
                ("alerts_low", "BIGINT", "Low-severity alerts."),
            ),
        ),
        OutputTable(
            "alerts",
            "What needs a planner's attention this cycle, one sentence each.",
            ("cycle_month", "kind", "entity", "month"),
            (
                _CYCLE,
                ("kind", "VARCHAR", "projected_stockout, below_safety_stock, excess_stock, "
                 "capacity_overload, late_purchase_order, supplier_lead_time, "
                 "biased_forecast, possibly_obsolete, or an action message: release_now, "
                 "expedite, push_out, cancel."),
                ("severity", "VARCHAR", "high, medium or low."),
                ("entity", "VARCHAR", "sku@location, work centre, purchase order line, "
                 "production order or supplier/sku."),
                ("month", "DATE", "Month the alert is about."),
                ("message", "VARCHAR", "The alert in a sentence a planner understands."),
                ("value", "DOUBLE", "The measured value (shortage units, utilisation, days, "
                 "months an order can move: see sop_pipeline.review.alerts per kind)."),
                ("threshold", "DOUBLE", "The threshold the value crossed."),
                ("value_at_risk", "DOUBLE", "Money at stake (the items' currency), what alerts "
                 "of one severity are ordered by: see sop_pipeline.review.alerts per kind."),
            ),
        ),
    )
}
