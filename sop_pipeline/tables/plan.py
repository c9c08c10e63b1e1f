"""The declarations of the plan's tables: forecast, consensus, supply, capacity, inventory,
money and the scenarios side by side."""

from __future__ import annotations

from sop_pipeline.tables.declaration import CYCLE, LOCATION, MONTH, SCENARIO, SKU, OutputTable

PLAN_TABLES: tuple[OutputTable, ...] = (
    OutputTable(
        "demand_forecast",
        "Statistical demand forecast of each candidate model per series and month; "
        "is_selected marks the model chosen by backtest.",
        ("cycle_month", "sku", "location_id", "month", "model"),
        (
            CYCLE, SKU, LOCATION, MONTH,
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
            CYCLE, SKU, LOCATION,
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
            CYCLE, SKU,
            ("location_id", "VARCHAR", "Location; empty for the pipeline of a sku that has "
             "no forecast series (deals carry no location)."),
            ("family", "VARCHAR", "Product family of the sku."),
            MONTH,
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
            CYCLE,
            ("level", "VARCHAR", "sku, family or total."),
            ("key", "VARCHAR", "The sku, the family, or 'total'."),
            ("family", "VARCHAR", "Family of the sku or the family itself; empty for total."),
            ("location_id", "VARCHAR", "Location, or 'all' for the sum over locations."),
            MONTH,
            ("statistical_qty", "DOUBLE", "Sum of the selected statistical forecasts."),
            ("consensus_qty", "DOUBLE", "Sum of the consensus quantities."),
        ),
    ),
    OutputTable(
        "supply_plan",
        "Constrained supply plan (a linear program solved with HiGHS): production of make "
        "skus and purchases of buy skus per location and month within work-centre capacity "
        "and lead times, and the demand it cannot meet.",
        ("cycle_month", "scenario", "sku", "location_id", "month"),
        (
            CYCLE, SCENARIO, SKU, LOCATION, MONTH,
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
        plans_scenarios=True,
    ),
    OutputTable(
        "plan_financials",
        "The supply plan in money per family and month: revenue, cost of goods and margin "
        "of the demand it serves, what its supply costs, the sales it loses and the value "
        "of the stock it holds (working capital).",
        ("cycle_month", "scenario", "month", "family"),
        (
            CYCLE, SCENARIO, MONTH,
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
        plans_scenarios=True,
    ),
    OutputTable(
        "capacity_plan",
        "Rough-cut capacity per work centre and month: hours the consensus demand needs and "
        "hours the supply plan schedules, against the hours available that month.",
        ("cycle_month", "scenario", "work_center_id", "month"),
        (
            CYCLE, SCENARIO,
            ("work_center_id", "VARCHAR", "Work centre (dim_work_centers.work_center_id)."),
            MONTH,
            ("required_hours", "DOUBLE", "Consensus units x routing hours per unit: the "
             "load if every unit were made in the month it is sold."),
            ("committed_hours", "DOUBLE", "Hours open production orders hold: each order open "
             "at the cut-off loads quantity x routing hours per unit in the month it is due "
             "(a late one in the cut-off's month)."),
            ("planned_hours", "DOUBLE", "Supply plan production x routing hours per unit: the "
             "plan's own, in the hours the open orders leave (committed + planned never above "
             "available + allowed overtime)."),
            ("available_hours", "DOUBLE", "Hours the centre has that month: the work-centre "
             "calendar's where it has the month, else the normal month."),
            ("utilisation", "DOUBLE", "required_hours / available_hours (1.0 = full)."),
            ("planned_utilisation", "DOUBLE", "(committed_hours + planned_hours) / "
             "available_hours: what the plant is booked for; above 1.0 only with overtime."),
            ("overload_hours", "DOUBLE", "Hours required beyond those available (>= 0)."),
            ("top_skus", "VARCHAR", "The skus needing the most hours on the centre that "
             "month, with their hours."),
        ),
        plans_scenarios=True,
    ),
    OutputTable(
        "inventory_projection",
        "Projected stock per sku, location and month with the supply plan: opening + "
        "receipts - demand = closing, against safety stock.",
        ("cycle_month", "scenario", "sku", "location_id", "month"),
        (
            CYCLE, SCENARIO, SKU, LOCATION, MONTH,
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
        plans_scenarios=True,
    ),
    OutputTable(
        "scenario_kpis",
        "Each plan scenario of the cycle, baseline included, in money and service over the "
        "horizon: what it earns, what its supply costs, the sales it loses, the stock it "
        "holds, how loaded the centres are and the alerts it raises; with the differences "
        "to the baseline.",
        ("cycle_month", "scenario"),
        (
            CYCLE, SCENARIO,
            ("description", "VARCHAR", "What the scenario changes (plan/scenarios)."),
            ("currency", "VARCHAR", "Currency of the money columns."),
            ("revenue", "DOUBLE", "Revenue of the demand served over the horizon."),
            ("cost_of_goods", "DOUBLE", "Cost of goods of the demand served."),
            ("gross_margin", "DOUBLE", "revenue - cost_of_goods."),
            ("production_cost", "DOUBLE", "Production received x unit cost."),
            ("purchase_cost", "DOUBLE", "Purchases received x unit cost."),
            ("overtime_cost", "DOUBLE", "Overtime hours x overtime cost per hour."),
            ("holding_cost", "DOUBLE", "Month-end stock x unit cost x holding rate."),
            ("supply_cost", "DOUBLE", "production + purchase + overtime + holding cost."),
            ("lost_sales_qty", "DOUBLE", "Demand the plan cannot serve (units)."),
            ("lost_sales_value", "DOUBLE", "lost_sales_qty x unit price."),
            ("fill_rate", "DOUBLE", "Demand served / demand."),
            ("inventory_value", "DOUBLE", "Average month-end stock value over the horizon."),
            ("days_of_cover", "DOUBLE", "inventory_value / the average daily cost of goods "
             "of the demand."),
            ("peak_utilisation", "DOUBLE", "Highest planned hours / available hours over "
             "centres and months."),
            ("alerts_high", "BIGINT", "High-severity stock and capacity alerts."),
            ("alerts_medium", "BIGINT", "Medium-severity ones."),
            ("alerts_low", "BIGINT", "Low-severity ones."),
            ("margin_vs_baseline", "DOUBLE", "gross_margin - overtime_cost - holding_cost, "
             "minus the baseline's: what the scenario earns against the baseline (0 for "
             "it); what it makes or buys beyond what it sells is in inventory_vs_baseline."),
            ("lost_sales_vs_baseline", "DOUBLE", "lost_sales_value minus the baseline's."),
            ("inventory_vs_baseline", "DOUBLE", "inventory_value minus the baseline's."),
        ),
    ),
)
