"""One cycle of the bundled demo company (the default generator settings) through the real
Dagster job: the supply plan respects capacity, stock balances close, every alert kind fires."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from sop_pipeline.cli import run_cycles
from sop_pipeline.demo import DEMO_SEED, generate_company
from sop_pipeline.review.alerts import ALERT_KINDS
from sop_pipeline.supply.plan import SupplySettings
from sop_pipeline.warehouse import database_path

CYCLE = pd.Timestamp("2026-11-01")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    generate_company(root / "extracts", seed=DEMO_SEED, end_month="2026-10")
    assert run_cycles([CYCLE], root / "extracts", root / "warehouse")
    return root / "warehouse"


def _read(warehouse, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(database_path(warehouse)), read_only=True) as con:
        return con.execute(sql).df()


def test_the_plan_never_uses_more_hours_than_available(warehouse):
    capacity = _read(warehouse, "SELECT * FROM main.capacity_plan")
    assert len(capacity) and (capacity["planned_hours"] > 0).any()
    limit = capacity["available_hours"] * (1 + SupplySettings.overtime_share)
    assert (capacity["planned_hours"] <= limit + 1e-6).all()
    # the unconstrained load does exceed capacity somewhere: the plan had to work around it
    assert (capacity["required_hours"] > capacity["available_hours"]).any()


def test_stock_balances_close_on_every_row(warehouse):
    plan = _read(warehouse, "SELECT * FROM main.supply_plan")
    balance = (plan["opening_qty"] + plan["scheduled_receipts_qty"]
               + plan["planned_production_qty"] + plan["planned_purchase_qty"]
               - (plan["demand_qty"] - plan["unmet_qty"]) - plan["closing_qty"])
    assert balance.abs().max() < 1e-6
    projection = _read(warehouse, "SELECT * FROM main.inventory_projection")
    balance = (projection["opening_qty"] + projection["receipts_qty"]
               - (projection["demand_qty"] - projection["unmet_qty"]) - projection["closing_qty"])
    assert balance.abs().max() < 1e-6
    # the projection agrees with the plan: same closing stock, same unmet demand
    both = projection.merge(plan, on=["cycle_month", "scenario", "sku", "location_id", "month"],
                            suffixes=("", "_plan"))
    assert len(both) == len(plan)
    assert (both["closing_qty"] - both["closing_qty_plan"]).abs().max() < 1e-6
    assert (both["unmet_qty"] - both["unmet_qty_plan"]).abs().max() < 1e-9
    assert (projection["receipts_qty"] - projection["scheduled_receipts_qty"]
            - projection["planned_receipts_qty"]).abs().max() < 1e-6


def test_every_alert_kind_fires_and_names_its_entity(warehouse):
    alerts = _read(warehouse, "SELECT * FROM main.alerts")
    assert set(alerts["kind"]) == set(ALERT_KINDS)
    for row in alerts.itertuples(index=False):
        named = row.entity.split("@")[0].split("/")[0]
        assert named in row.message, (row.kind, row.entity, row.message)
    centres = alerts[alerts["kind"] == "capacity_overload"]
    assert centres["message"].str.contains("Most of the load comes from").all()
