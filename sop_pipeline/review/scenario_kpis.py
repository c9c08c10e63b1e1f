"""Scenarios side by side: one row of money and service per plan scenario of a cycle.

Per scenario, over the horizon: the plan_financials sums (revenue, cost of goods, margin,
supply cost by component, lost sales in units and value); fill_rate = served / demand;
inventory_value = the average month-end stock value over the horizon months; days_of_cover =
inventory_value / the average daily cost of goods of the demand (DAYS_PER_MONTH days a
month); peak_utilisation = the highest planned_utilisation of capacity_plan; alerts by
severity = the stock, capacity and action alerts its plan raises (build_alerts on its
inventory, capacity, plan and open orders; forecast, supplier and decision alerts do not
change with a scenario and are left out). The *_vs_baseline columns subtract the baseline's
figure: margin_vs_baseline is (gross margin - overtime - holding cost) minus the baseline's,
what the scenario earns against it (the cost of goods already counts the production and
purchases it sells; what it makes or buys beyond that is stock, in inventory_vs_baseline).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sop_pipeline.cycle import month_start
from sop_pipeline.review.alerts import build_alerts
from sop_pipeline.supply.inventory import DAYS_PER_MONTH
from sop_pipeline.tables import BASELINE, OUTPUT_TABLES

KPI_COLUMNS = OUTPUT_TABLES["scenario_kpis"].stage_columns
_SUMMED = ["revenue", "cost_of_goods", "gross_margin", "production_cost", "purchase_cost",
           "overtime_cost", "holding_cost", "supply_cost", "lost_sales_qty", "lost_sales_value"]


@dataclass(frozen=True)
class ScenarioTables:
    """What a scenario's KPIs are read from: its plan tables and its inputs as changed."""

    financials: pd.DataFrame  # plan_financials rows
    capacity: pd.DataFrame  # capacity_plan rows
    inventory: pd.DataFrame  # inventory_projection rows
    plan: pd.DataFrame  # supply_plan rows
    open_orders: pd.DataFrame  # open_supply_at_cutoff rows as the scenario expects them
    items: pd.DataFrame  # sku, lead_time_days, unit_cost, unit_price


def scenario_kpis(
    cycle_month: pd.Timestamp, scenarios: dict[str, ScenarioTables],
    descriptions: dict[str, str], currency: str,
) -> pd.DataFrame:
    """One row per scenario (baseline first), in KPI_COLUMNS."""
    rows = [{"scenario": name, "description": descriptions.get(name, ""), "currency": currency,
             **_kpis(month_start(cycle_month), tables, currency)}
            for name, tables in scenarios.items()]
    frame = pd.DataFrame(rows)
    base = frame.loc[frame["scenario"] == BASELINE].iloc[0]
    earned = frame["gross_margin"] - frame["overtime_cost"] - frame["holding_cost"]
    frame["margin_vs_baseline"] = earned - (
        base["gross_margin"] - base["overtime_cost"] - base["holding_cost"])
    frame["lost_sales_vs_baseline"] = frame["lost_sales_value"] - base["lost_sales_value"]
    frame["inventory_vs_baseline"] = frame["inventory_value"] - base["inventory_value"]
    order = (frame["scenario"] != BASELINE).astype(int)
    return frame.assign(_order=order).sort_values(["_order", "scenario"], ignore_index=True)[
        KPI_COLUMNS]


def _kpis(cutoff: pd.Timestamp, tables: ScenarioTables, currency: str) -> dict[str, float]:
    money = tables.financials
    kpis: dict[str, float] = {column: float(money[column].sum()) for column in _SUMMED}
    demand, served = money["demand_qty"].sum(), money["served_qty"].sum()
    kpis["fill_rate"] = float(served / demand) if demand > 0 else np.nan
    monthly = money.groupby("month")[["inventory_value", "cost_of_goods"]].sum()
    kpis["inventory_value"] = float(monthly["inventory_value"].mean()) if len(monthly) else 0.0
    demand_cost = (money["demand_qty"] * _unit_cost_per_unit(money)).sum()
    daily = demand_cost / max(len(monthly), 1) / DAYS_PER_MONTH
    kpis["days_of_cover"] = float(kpis["inventory_value"] / daily) if daily > 0 else np.nan
    utilisation = tables.capacity["planned_utilisation"] if len(tables.capacity) else []
    kpis["peak_utilisation"] = float(np.nanmax(utilisation)) if len(utilisation) else np.nan
    alerts = build_alerts(cutoff, tables.inventory, tables.capacity, tables.open_orders,
                          items=tables.items, plan=tables.plan, currency=currency)
    for severity in ("high", "medium", "low"):
        kpis[f"alerts_{severity}"] = int((alerts["severity"] == severity).sum())
    return kpis


def _unit_cost_per_unit(money: pd.DataFrame) -> pd.Series:
    """Cost of goods per unit served, family x month (the cost of a unit of its demand)."""
    return (money["cost_of_goods"] / money["served_qty"].where(money["served_qty"] > 0)).fillna(
        0.0)
