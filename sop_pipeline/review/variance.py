"""Variance: where the earlier plans went wrong, and the gap to budget.

Forecast vs actual by lag: lag is the number of months between the cycle that made a forecast
and the month forecast: lag 0 is the forecast made in the cycle of that very month, lag 3 the
one made three cycles before. Reading the same target month across lags shows whether
forecasts improve as the month gets closer (the forecast waterfall). Each row also carries
the seasonal naive forecast the same cycle made, so forecast value added (FVA = naive WAPE -
WAPE) can be read by family and lag.

Plan vs actual, for the month that just closed, against the supply plan of that month's own
cycle: production (make skus: scheduled production orders + planned production) vs
production orders completed and due in the month (production orders carry no completion
date); purchases (buy skus: open purchase lines + planned purchases) vs purchase lines
received in the month. By family, in units and at unit cost.

Budget: per family and budget month of every fiscal year the horizon touches, the budget
against the actual (months closed before the cycle: ordered units and net value) or the
consensus (horizon months: consensus_qty and consensus_value), with the running gap from the
fiscal year's first month. fiscal_year is the calendar year the fiscal year ends in; it
starts in FISCAL_YEAR_START_MONTH (January by default). Budget months after the horizon end
are left out: no plan exists for them yet.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sop_pipeline.cycle import month_start, month_starts
from sop_pipeline.demand.metrics import fva, scores
from sop_pipeline.tables import SERIES_KEY

FISCAL_YEAR_START_MONTH = 1
ALL_FAMILIES = "all"
VARIANCE_COLUMNS = [
    "target_month",
    "sku",
    "location_id",
    "family",
    "lag",
    "forecast_cycle",
    "forecast_qty",
    "naive_qty",
    "actual_qty",
    "error",
    "abs_error",
]
WATERFALL_COLUMNS = ["target_month", "family", "lag", "series", "forecast_qty", "naive_qty",
                     "actual_qty", "wape", "bias", "naive_wape", "fva"]
PLAN_VARIANCE_COLUMNS = ["month", "family", "supply_type", "planned_qty", "actual_qty",
                         "variance_qty", "planned_value", "actual_value", "variance_value"]
BUDGET_COLUMNS = ["family", "month", "fiscal_year", "basis", "budget_qty", "plan_qty", "gap_qty",
                  "budget_value", "plan_value", "gap_value", "cumulative_gap_qty",
                  "cumulative_gap_value"]


def forecast_vs_actual(
    forecasts: pd.DataFrame, actuals: pd.DataFrame, target_month: pd.Timestamp,
    items: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every forecast made for target_month by a cycle <= target_month, against the actual.

    forecasts: cycle_month, sku, location_id, month, qty (selected forecasts of earlier cycles)
    and optionally naive_qty (seasonal naive of the same cycle); actuals: sku, location_id,
    month, qty; items: sku, family. A missing actual counts as 0; error = forecast - actual.
    """
    target = month_start(target_month)
    made = forecasts.assign(
        cycle_month=month_starts(forecasts["cycle_month"]), month=month_starts(forecasts["month"])
    )
    if "naive_qty" not in made:
        made["naive_qty"] = np.nan
    made = made[(made["month"] == target) & (made["cycle_month"] <= target)]
    variance = made.groupby([*SERIES_KEY, "cycle_month"], as_index=False)[["qty", "naive_qty"]].sum(
        min_count=1).rename(columns={"cycle_month": "forecast_cycle", "qty": "forecast_qty"})
    family = (items.drop_duplicates("sku").set_index("sku")["family"] if items is not None
              else pd.Series(dtype=object))
    variance["family"] = variance["sku"].map(family)

    actual = actuals[month_starts(actuals["month"]) == target]
    actual = (actual.groupby(SERIES_KEY, as_index=False)["qty"].sum()
              .rename(columns={"qty": "actual_qty"}))
    variance = variance.merge(actual, on=SERIES_KEY, how="left").fillna({"actual_qty": 0.0})

    variance["target_month"] = target
    variance["lag"] = _months_between(variance["forecast_cycle"], target).astype(int)
    variance["forecast_qty"] = variance["forecast_qty"].astype(float)
    variance["actual_qty"] = variance["actual_qty"].astype(float)
    variance["error"] = variance["forecast_qty"] - variance["actual_qty"]
    variance["abs_error"] = variance["error"].abs()
    return variance.sort_values([*SERIES_KEY, "lag"], ignore_index=True)[VARIANCE_COLUMNS]


def waterfall_by_family(variance: pd.DataFrame) -> pd.DataFrame:
    """forecast_vs_actual rows rolled up per family and lag (and family 'all'): WAPE, bias,
    seasonal naive's WAPE and FVA = naive_wape - wape (sop_pipeline.demand.metrics)."""
    if variance.empty:
        return pd.DataFrame(columns=WATERFALL_COLUMNS)
    keys = ["target_month", "family", "lag"]
    rows = pd.concat([variance, variance.assign(family=ALL_FAMILIES)], ignore_index=True)
    grouped = rows.groupby(keys, as_index=False).agg(
        series=("sku", "size"), forecast_qty=("forecast_qty", "sum"),
        naive_qty=("naive_qty", lambda q: q.sum(min_count=1)), actual_qty=("actual_qty", "sum"))
    forecast = scores(rows, keys, actual="actual_qty", forecast="forecast_qty")
    naive = scores(rows, keys, actual="actual_qty", forecast="naive_qty")
    grouped = grouped.merge(forecast[[*keys, "wape", "bias"]], on=keys).merge(
        naive[[*keys, "wape"]].rename(columns={"wape": "naive_wape"}), on=keys)
    grouped["fva"] = fva(grouped["naive_wape"], grouped["wape"])
    return grouped.sort_values(["family", "lag"], ignore_index=True)[WATERFALL_COLUMNS]


def plan_vs_actual(
    plan: pd.DataFrame, orders: pd.DataFrame, items: pd.DataFrame, month: pd.Timestamp
) -> pd.DataFrame:
    """Planned receipts of `month` (from that month's own cycle) vs what came in, by family.

    plan: supply_plan rows (sku, month, make_or_buy, scheduled_receipts_qty,
    planned_production_qty, planned_purchase_qty); orders: supply orders (supply_type, sku,
    quantity, due_date, received_date, status); items: sku, family, unit_cost.
    """
    target = month_start(month)
    plan = plan[month_starts(plan["month"]) == target]
    planned = plan.assign(
        supply_type=np.where(plan["make_or_buy"] == "make", "production", "purchase"),
        qty=plan["scheduled_receipts_qty"] + plan["planned_production_qty"]
        + plan["planned_purchase_qty"])[["sku", "supply_type", "qty"]]
    supply_type = orders["supply_type"].astype(str)
    completed = ((supply_type == "production") & (orders["status"] == "completed")
                 & (month_starts(orders["due_date"]) == target))
    received = (supply_type == "purchase") & (
        month_starts(orders["received_date"]) == target)
    actual = orders[completed | received].rename(columns={"quantity": "qty"})[
        ["sku", "supply_type", "qty"]]
    both = pd.concat([planned.assign(kind="planned_qty"), actual.assign(kind="actual_qty")],
                     ignore_index=True).merge(items[["sku", "family", "unit_cost"]], on="sku",
                                              how="left")
    both["value"] = both["qty"].astype(float) * both["unit_cost"].astype(float)
    table = both.pivot_table(index=["family", "supply_type"], columns="kind",
                             values=["qty", "value"], aggfunc="sum", fill_value=0.0)
    out = pd.DataFrame({
        "planned_qty": table.get(("qty", "planned_qty"), 0.0),
        "actual_qty": table.get(("qty", "actual_qty"), 0.0),
        "planned_value": table.get(("value", "planned_qty"), 0.0),
        "actual_value": table.get(("value", "actual_qty"), 0.0),
    }, index=table.index).reset_index()
    out["month"] = target
    out["variance_qty"] = out["actual_qty"] - out["planned_qty"]
    out["variance_value"] = out["actual_value"] - out["planned_value"]
    return out.sort_values(["family", "supply_type"], ignore_index=True)[PLAN_VARIANCE_COLUMNS]


def budget_gap(
    budget: pd.DataFrame, consensus: pd.DataFrame, actuals: pd.DataFrame,
    cycle_month: pd.Timestamp, horizon_end: pd.Timestamp,
    fiscal_year_start_month: int = FISCAL_YEAR_START_MONTH,
) -> pd.DataFrame:
    """Budget vs actual-then-consensus per family and month of the fiscal years in the plan.

    budget: month, family, volume, revenue; consensus and actuals: family, month, qty, value
    (consensus for horizon months, actuals for closed months).
    """
    cutoff, end = month_start(cycle_month), month_start(horizon_end)
    if budget.empty:
        return pd.DataFrame(columns=BUDGET_COLUMNS)
    years = {fiscal_year(m, fiscal_year_start_month) for m in (cutoff, end)}
    budget = budget.assign(month=month_starts(budget["month"]))
    budget["fiscal_year"] = [fiscal_year(m, fiscal_year_start_month) for m in budget["month"]]
    budget = budget[budget["fiscal_year"].between(min(years), max(years))
                    & (budget["month"] <= end)]
    closed = _family_months(actuals)[lambda f: f["month"] < cutoff].assign(basis="actual")
    ahead = _family_months(consensus)[lambda f: f["month"] >= cutoff].assign(basis="consensus")
    rows = budget.rename(columns={"volume": "budget_qty", "revenue": "budget_value"}).merge(
        pd.concat([closed, ahead], ignore_index=True), on=["family", "month"], how="left")
    rows["basis"] = np.where(rows["month"] < cutoff, "actual", "consensus")
    rows = rows.fillna({"qty": 0.0, "value": 0.0}).rename(
        columns={"qty": "plan_qty", "value": "plan_value"})
    for column in ("budget_qty", "budget_value", "plan_qty", "plan_value"):
        rows[column] = rows[column].astype(float)
    rows["gap_qty"] = rows["plan_qty"] - rows["budget_qty"]
    rows["gap_value"] = rows["plan_value"] - rows["budget_value"]
    rows = rows.sort_values(["family", "month"], ignore_index=True)
    running = rows.groupby(["family", "fiscal_year"])
    rows["cumulative_gap_qty"] = running["gap_qty"].cumsum()
    rows["cumulative_gap_value"] = running["gap_value"].cumsum()
    return rows[BUDGET_COLUMNS]


def _family_months(frame: pd.DataFrame) -> pd.DataFrame:
    """qty and value summed per family and month."""
    frame = frame.assign(month=month_starts(frame["month"]))
    return frame.groupby(["family", "month"], as_index=False)[["qty", "value"]].sum()


def fiscal_year(month: pd.Timestamp, start_month: int = FISCAL_YEAR_START_MONTH) -> int:
    """The calendar year the fiscal year of `month` ends in."""
    return month.year + (1 if start_month > 1 and month.month >= start_month else 0)


def _months_between(cycles: pd.Series, target: pd.Timestamp) -> pd.Series:
    """Whole months from each cycle month to the target month."""
    return (target.year - cycles.dt.year) * 12 + (target.month - cycles.dt.month)
