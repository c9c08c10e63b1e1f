"""The supply plan in money: per family and month, what the demand it serves earns, what its
supply costs, the sales it loses and the stock it holds (plan_financials).

Every money figure is in the items' currency (SupplySettings.currency), per family x month of
the plan, summed over the family's skus and locations:

- served_qty = demand_qty - unmet_qty; revenue = served_qty x unit_price, cost_of_goods =
  served_qty x unit_cost, gross_margin = revenue - cost_of_goods, gross_margin_pct =
  gross_margin / revenue (empty without revenue).
- production_cost / purchase_cost = what is received in the month, open orders
  (scheduled_receipts_qty) and planned ones, x unit_cost: a make sku's receipts count as
  production (scheduled + planned_production_qty), a buy sku's as purchases (scheduled +
  planned_purchase_qty). Receipts are valued at standard cost in the month they arrive.
- overtime_cost: each work centre's overtime hours in a month, max(committed_hours +
  planned_hours - available_hours, 0) from the capacity plan, x overtime_cost_per_hour,
  shared among the families in proportion to their planned production hours there
  (planned_production_qty x routing hours_per_unit). No work centres (a distributor): 0.
  Overtime of a centre-month on which the plan makes nothing (open production orders alone
  beyond the available hours) cannot be shared by the plan's families and is left out.
- holding_cost = closing_qty x unit_cost x holding_cost_rate (a month's rate).
- supply_cost = production + purchase + overtime + holding cost.
- lost_sales_qty = unmet_qty, lost_sales_value = unmet_qty x unit_price (revenue lost);
  fill_rate = served_qty / demand_qty (empty without demand).
- inventory_qty = closing_qty, inventory_value = closing_qty x unit_cost (working capital).
- days_of_cover = inventory_value / the mean daily cost of goods of the demand (demand_qty x
  unit_cost, served or not) of this month and the next COVER_MONTHS - 1 horizon months (fewer
  at the horizon's end), DAYS_PER_MONTH days a month, by inventory_projection's rule
  (sop_pipeline.supply.inventory.days_of_cover): 0 without stock, empty when stock has no
  demand ahead.

Every family with a plan row gets a row for every month of the plan (zeros where it has
none). Skus missing from the items are an error (ValueError), as their value is unknown.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sop_pipeline.supply.inputs import SupplySettings
from sop_pipeline.supply.inventory import days_of_cover
from sop_pipeline.tables import OUTPUT_TABLES

FINANCIALS_COLUMNS = OUTPUT_TABLES["plan_financials"].stage_columns
FAMILY_MONTH = ["family", "month"]
# Sums per family and month; the ratios and cover are derived from them afterwards.
_SUMMED = ["demand_qty", "served_qty", "revenue", "cost_of_goods", "production_cost",
           "purchase_cost", "holding_cost", "lost_sales_qty", "lost_sales_value",
           "inventory_qty", "inventory_value", "demand_cost"]


def plan_financials(
    plan: pd.DataFrame,
    capacity: pd.DataFrame,
    routings: pd.DataFrame,
    items: pd.DataFrame,
    settings: SupplySettings,
) -> pd.DataFrame:
    """One row per family x plan month, in FINANCIALS_COLUMNS (see the module docstring).

    plan: supply_plan rows (sku, location_id, month, make_or_buy and the plan's quantities);
    capacity: capacity_plan rows (work_center_id, month, planned_hours, available_hours);
    routings: sku, work_center_id, hours_per_unit; items: sku, family, unit_cost, unit_price.
    """
    if plan.empty:
        return _empty_financials()
    rows = _valued_rows(plan, items)
    months = sorted(rows["month"].unique())
    grid = pd.MultiIndex.from_product([sorted(rows["family"].unique()), months],
                                      names=FAMILY_MONTH)
    money = rows.groupby(FAMILY_MONTH)[_SUMMED].sum().reindex(grid, fill_value=0.0)
    money["overtime_cost"] = (
        _overtime_hours_by_family(rows, capacity, routings)
        .reindex(grid, fill_value=0.0) * settings.overtime_cost_per_hour)
    money["holding_cost"] *= settings.holding_cost_rate
    money = money.reset_index()

    money["currency"] = settings.currency
    money["gross_margin"] = money["revenue"] - money["cost_of_goods"]
    money["gross_margin_pct"] = _ratio(money["gross_margin"], money["revenue"])
    money["supply_cost"] = money[["production_cost", "purchase_cost", "overtime_cost",
                                  "holding_cost"]].sum(axis=1)
    money["fill_rate"] = _ratio(money["served_qty"], money["demand_qty"])
    money["days_of_cover"] = _days_of_cover(money, len(months))
    return money.sort_values(["month", "family"], ignore_index=True)[FINANCIALS_COLUMNS]


def _valued_rows(plan: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """The plan's rows with their family and every quantity valued, still per sku-location."""
    priced = plan.assign(month=pd.to_datetime(plan["month"])).merge(
        items[["sku", "family", "unit_cost", "unit_price"]], on="sku", how="left",
        validate="many_to_one")
    unknown = sorted(priced.loc[priced["family"].isna(), "sku"].unique())
    if unknown:
        raise ValueError(f"plan_financials: {len(unknown)} skus of the plan have no item "
                         f"(family, unit_cost, unit_price): {unknown[:5]}")
    cost, price = priced["unit_cost"].astype(float), priced["unit_price"].astype(float)
    unmet = priced["unmet_qty"].astype(float)
    demand = priced["demand_qty"].astype(float)
    closing = priced["closing_qty"].astype(float)
    is_make = priced["make_or_buy"].astype(str).str.lower().eq("make")
    scheduled = priced["scheduled_receipts_qty"].astype(float)
    made = priced["planned_production_qty"].astype(float) + scheduled.where(is_make, 0.0)
    bought = priced["planned_purchase_qty"].astype(float) + scheduled.where(~is_make, 0.0)
    served = demand - unmet
    return pd.DataFrame({
        "sku": priced["sku"], "family": priced["family"], "month": priced["month"],
        "planned_production_qty": priced["planned_production_qty"].astype(float),
        "demand_qty": demand, "served_qty": served,
        "revenue": served * price, "cost_of_goods": served * cost,
        "production_cost": made * cost, "purchase_cost": bought * cost,
        "holding_cost": closing * cost,  # x holding_cost_rate once summed
        "lost_sales_qty": unmet, "lost_sales_value": unmet * price,
        "inventory_qty": closing, "inventory_value": closing * cost,
        "demand_cost": demand * cost,
    })


def _overtime_hours_by_family(
    rows: pd.DataFrame, capacity: pd.DataFrame, routings: pd.DataFrame
) -> pd.Series:
    """Overtime hours per family and month: each centre-month's overtime shared by the
    families' planned production hours on the centre."""
    if capacity.empty or routings.empty:
        return pd.Series(dtype=float, index=pd.MultiIndex.from_arrays([[], []],
                                                                       names=FAMILY_MONTH))
    overtime = capacity.assign(
        month=pd.to_datetime(capacity["month"]),
        overtime_hours=(capacity.get("committed_hours", 0.0)
                        + capacity["planned_hours"].astype(float)
                        - capacity["available_hours"].astype(float)).clip(lower=0.0),
    )[["work_center_id", "month", "overtime_hours"]]
    load = rows[["sku", "family", "month", "planned_production_qty"]].merge(
        routings[["sku", "work_center_id", "hours_per_unit"]], on="sku")
    load["hours"] = load["planned_production_qty"] * load["hours_per_unit"].astype(float)
    load = load.groupby(["work_center_id", "month", "family"], as_index=False)["hours"].sum()
    load["share"] = _ratio(load["hours"],
                           load.groupby(["work_center_id", "month"])["hours"].transform("sum"))
    shared = load.merge(overtime, on=["work_center_id", "month"])
    shared["overtime_hours"] *= shared["share"].fillna(0.0)
    return shared.groupby(FAMILY_MONTH)["overtime_hours"].sum()


def _days_of_cover(money: pd.DataFrame, months: int) -> np.ndarray:
    """inventory_value / mean daily demand cost ahead, as the projection counts cover;
    `money` holds every family for each of `months` months."""
    ordered = money.sort_values(FAMILY_MONTH)
    cover = days_of_cover(ordered["inventory_value"].to_numpy().reshape(-1, months),
                          ordered["demand_cost"].to_numpy().reshape(-1, months))
    return pd.Series(cover.ravel(), index=ordered.index).reindex(money.index).to_numpy()


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator, empty (NaN) where the denominator is 0."""
    return numerator / denominator.where(denominator != 0)


def _empty_financials() -> pd.DataFrame:
    """The table's columns with no rows, typed like a full table."""
    return pd.DataFrame({
        "month": pd.Series(dtype="datetime64[ns]"),
        "family": pd.Series(dtype=object),
        "currency": pd.Series(dtype=object),
        **{column: pd.Series(dtype=float) for column in FINANCIALS_COLUMNS[3:]},
    })
