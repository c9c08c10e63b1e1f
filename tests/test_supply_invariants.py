"""The supply plan's invariants on every cycle of a real run of the demo company (the shared
`company` warehouse): what make demo's cycles must hold too (scripts/check_plan.py checks a
whole demo run)."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from sop_pipeline.checks import QTY_TOLERANCE
from sop_pipeline.supply.checks import plan_problems
from sop_pipeline.supply.plan import ITEM_COLUMNS, SupplySettings
from sop_pipeline.warehouse import database_path
from tests.conftest import COMPANY_CYCLES


def _read(warehouse, sql: str, cycle: pd.Timestamp | None = None) -> pd.DataFrame:
    with duckdb.connect(str(database_path(warehouse)), read_only=True) as con:
        return con.execute(sql, [cycle.date()] if cycle is not None else []).df()


@pytest.mark.parametrize("cycle", COMPANY_CYCLES, ids=lambda c: f"{c:%Y-%m}")
def test_every_cycle_of_the_demo_plan_holds_its_invariants(company, cycle):
    """In every scenario: a what-if's lead times are only ever longer than the items' (a
    supplier delay), so the items' own are a valid floor to check it against."""
    _, warehouse = company
    plans = _read(warehouse, "SELECT * FROM main.supply_plan WHERE cycle_month = ?", cycle)
    loads = _read(warehouse, "SELECT * FROM main.capacity_plan WHERE cycle_month = ?", cycle)
    items = _read(warehouse, f"SELECT {', '.join(ITEM_COLUMNS)} FROM marts.dim_items")
    assert len(plans) and items["min_order_qty"].notna().any()  # the demo sizes its lots
    assert plans["scenario"].nunique() > 1  # the demo's what-ifs too
    for scenario, plan in plans.groupby("scenario"):
        load = loads[loads["scenario"] == scenario]
        assert plan_problems(plan.drop(columns="scenario"), load.drop(columns="scenario"), items,
                             cycle, SupplySettings().overtime_share) == [], scenario
        planned = plan["planned_production_qty"] + plan["planned_purchase_qty"]
        assert (planned > 0).any() and (planned == planned.round()).all()


@pytest.mark.parametrize("cycle", COMPANY_CYCLES, ids=lambda c: f"{c:%Y-%m}")
def test_no_status_or_alert_comes_from_solver_rounding(company, cycle):
    _, warehouse = company
    projection = _read(warehouse, "SELECT * FROM main.inventory_projection WHERE cycle_month = ?",
                       cycle)
    near = (projection["closing_qty"] - projection["safety_stock_qty"]).abs() <= QTY_TOLERANCE
    assert not (near & (projection["status"] == "below_safety_stock")).any()
    noise = (projection["unmet_qty"] > 0) & (projection["unmet_qty"] <= QTY_TOLERANCE)
    assert not noise.any()
    alerts = _read(warehouse, """SELECT * FROM main.alerts WHERE cycle_month = ?
                                 AND kind = 'below_safety_stock'""", cycle)
    assert not ((alerts["threshold"] - alerts["value"]) <= QTY_TOLERANCE).any()
    # the projection and the plan hold the same stock
    plan = _read(warehouse, "SELECT * FROM main.supply_plan WHERE cycle_month = ?", cycle)
    joined = projection.merge(plan, on=["scenario", "sku", "location_id", "month"],
                              suffixes=("", "_plan"))
    assert len(joined) == len(projection)
    assert (joined["closing_qty"] - joined["closing_qty_plan"]).abs().max() < 1e-6
