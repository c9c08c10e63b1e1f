"""The declarations of the review's tables: variance, the value each demand step adds, the
decisions, the cycle's summary and its alerts."""

from __future__ import annotations

from sop_pipeline.tables.declaration import CYCLE, LOCATION, MONTH, SKU, OutputTable

REVIEW_TABLES: tuple[OutputTable, ...] = (
    OutputTable(
        "variance_forecast_vs_actual",
        "Forecasts stored by earlier cycles against the actual of the month that just "
        "closed, by lag, per sku and location: the forecast waterfall's detail.",
        ("cycle_month", "target_month", "sku", "location_id", "lag"),
        (
            CYCLE,
            ("target_month", "DATE", "Month whose actual is compared (the month before "
             "cycle_month)."),
            SKU, LOCATION,
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
            CYCLE,
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
            CYCLE,
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
            CYCLE,
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
        "variance_fva_stairstep",
        "The value each demand step adds: earlier cycles' forecasts of the month that just "
        "closed at each step, seasonal naive -> statistical -> + events -> + CRM pipeline "
        "-> + planner overrides (= consensus), against the actual, by family and lag; and "
        "the overrides by author.",
        ("cycle_month", "target_month", "family", "lag", "step", "author"),
        (
            CYCLE,
            ("target_month", "DATE", "Month whose actual is compared (the month before "
             "cycle_month)."),
            ("family", "VARCHAR", "Product family, or 'all' for every family."),
            ("lag", "BIGINT", "Months between the forecasting cycle and target_month."),
            ("step", "VARCHAR", "seasonal_naive, statistical, events, crm_pipeline or "
             "overrides: the forecast after that step."),
            ("step_order", "BIGINT", "1 to 5, the step's place in the stairstep."),
            ("author", "VARCHAR", "'all'; for step overrides also one row per author, over "
             "the sku-months that author overrode."),
            ("series", "BIGINT", "Sku-location-months compared."),
            ("forecast_qty", "DOUBLE", "Sum of the step's forecasts."),
            ("actual_qty", "DOUBLE", "Sum of the actuals."),
            ("wape", "DOUBLE", "sum |forecast - actual| / sum actual."),
            ("bias", "DOUBLE", "sum(forecast - actual) / sum actual; positive = over."),
            ("fva", "DOUBLE", "Value added by the step: the previous step's WAPE minus this "
             "one's (positive = the step improved the forecast); empty for seasonal naive."),
            ("fva_vs_naive", "DOUBLE", "Seasonal naive's WAPE minus this step's."),
        ),
    ),
    OutputTable(
        "variance_plan_drift",
        "What changed since last cycle: this cycle's consensus against the previous "
        "cycle's for the same months, by family and month.",
        ("cycle_month", "family", "month"),
        (
            CYCLE,
            ("family", "VARCHAR", "Product family, or 'all' for every family."),
            MONTH,
            ("previous_qty", "DOUBLE", "Consensus of the previous cycle for the month."),
            ("consensus_qty", "DOUBLE", "Consensus of this cycle for the month."),
            ("change_qty", "DOUBLE", "consensus_qty - previous_qty."),
            ("change_pct", "DOUBLE", "change_qty / previous_qty; empty when it was 0."),
            ("previous_value", "DOUBLE", "The previous consensus x unit price."),
            ("consensus_value", "DOUBLE", "This consensus x unit price."),
            ("change_value", "DOUBLE", "consensus_value - previous_value."),
        ),
    ),
    OutputTable(
        "decision_log",
        "Every S&OP decision (plan/decisions) as it stands at each cycle: what was decided, "
        "by whom, by when, and whether it is done or overdue.",
        ("cycle_month", "decision_id"),
        (
            CYCLE,
            ("decision_id", "VARCHAR", "Decision code (plan/decisions)."),
            ("decided_in", "DATE", "Cycle of the meeting that took the decision."),
            ("title", "VARCHAR", "What was decided."),
            ("adopted_scenario", "VARCHAR", "Scenario the decision adopts as the plan; "
             "empty when it adopts none."),
            ("owner", "VARCHAR", "Who follows it up."),
            ("due_month", "DATE", "Month it is due (first day)."),
            ("status", "VARCHAR", "open, done or dropped, as of this cycle."),
            ("rationale", "VARCHAR", "Why it was decided (plan/decisions)."),
            ("is_overdue", "BOOLEAN", "Open and due before this cycle."),
            ("months_overdue", "BIGINT", "Months past the due month while open (0 if not)."),
        ),
    ),
    OutputTable(
        "plan_version",
        "The cycle's adopted plan: the scenario a decision adopted, else the baseline.",
        ("cycle_month",),
        (
            CYCLE,
            ("scenario", "VARCHAR", "Adopted scenario ('baseline' without a decision)."),
            ("decision_id", "VARCHAR", "Decision that adopted it; empty for the baseline."),
            ("decided_by", "VARCHAR", "The decision's owner."),
            ("decided_in", "DATE", "Cycle of the meeting that adopted it."),
        ),
    ),
    OutputTable(
        "cycle_summary",
        "One row per cycle with the headline figures of the S&OP meeting.",
        ("cycle_month",),
        (
            CYCLE,
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
            CYCLE,
            ("kind", "VARCHAR", "projected_stockout, unplannable_sku, below_safety_stock, "
             "excess_stock, capacity_overload, late_purchase_order, supplier_lead_time, "
             "biased_forecast, possibly_obsolete, an action message (release_now, "
             "expedite, push_out, cancel) or decision_overdue."),
            ("severity", "VARCHAR", "high, medium or low."),
            ("entity", "VARCHAR", "sku@location, work centre, purchase order line, "
             "production order, supplier/sku or decision id."),
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
