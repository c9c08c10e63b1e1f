"""Committed capacity (issue 24, item 1): the hours open production orders hold are not the
plan's to use; hand-computed on a one-centre plant."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from sop_pipeline.supply.capacity import capacity_plan, committed_hours
from sop_pipeline.supply.checks import capacity_problems, plan_problems
from sop_pipeline.supply.inventory import open_supply_at_cutoff
from sop_pipeline.supply.plan import SupplySettings, plan_supply
from tests.test_supply_plan import (
    CYCLE,
    capacity_rows,
    demand_rows,
    item,
    months,
    plan_inputs,
    routing,
)

ROUTING = routing([("A", "W1", 1.0)])


def held(hours: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"work_center_id": "W1", "month": months(len(hours)),
                         "committed_hours": hours})


@pytest.mark.parametrize(("overtime_share", "planned"), [(0.0, 40.0), (0.1, 50.0)])
def test_an_open_order_holding_60_of_100_hours_leaves_the_plan_40_plus_overtime(
        overtime_share, planned):
    # 100 units a month at 1 h each on a 100 h centre; an open order holds 60 h each month:
    # the plan makes 40 a month (+ 10 % of 100 h overtime, cheaper than a lost sale at 200)
    inputs = plan_inputs(demand_rows("A", [100, 100, 100]), [item("A", price=200.0)],
                         capacity_rows([100, 100, 100]), routings=ROUTING)
    result = plan_supply(replace(inputs, committed=held([60.0, 60.0, 60.0])),
                         SupplySettings(overtime_share=overtime_share))
    rows = result.plan.sort_values("month")
    assert rows["planned_production_qty"].tolist() == [planned] * 3
    assert rows["unmet_qty"].tolist() == [100.0 - planned] * 3
    load = result.load
    assert load["committed_hours"].tolist() == [60.0] * 3
    assert load["planned_hours"].tolist() == [planned] * 3
    assert load["overtime_hours"].tolist() == pytest.approx([planned - 40.0] * 3)
    assert load["utilisation"].tolist() == pytest.approx([(60.0 + planned) / 100.0] * 3)
    assert result.problems == ()


def test_orders_holding_more_than_available_plus_overtime_leave_the_plan_nothing():
    inputs = plan_inputs(demand_rows("A", [100]), [item("A", price=200.0)],
                         capacity_rows([100]), routings=ROUTING)
    result = plan_supply(replace(inputs, committed=held([130.0])),
                         SupplySettings(overtime_share=0.1))
    assert result.plan["planned_production_qty"].tolist() == [0.0]
    assert result.problems == ()  # the open orders' overload, not the plan's
    load = result.load.assign(planned_hours=1.0)  # a plan that adds an hour there is refused
    assert capacity_problems(load.assign(required_hours=0.0, overload_hours=0.0), 0.1) != []


def test_open_production_orders_load_their_routing_hours_in_their_due_month():
    orders = pd.DataFrame([
        # production, open, due in the second month: 30 x 2 h on W1 and 30 x 0.5 h on W2
        ("production", "P1", 1, None, "A", "L1", 30.0, "2026-09-01", "2026-11-20", None,
         "released"),
        # late (due before the cut-off, still planned): held in the cut-off's month
        ("production", "P2", 1, None, "A", "L1", 10.0, "2026-08-01", "2026-09-15", None,
         "planned"),
        ("production", "P3", 1, None, "A", "L1", 99.0, "2026-09-01", "2026-11-20", None,
         "cancelled"),
        ("purchase", "B1", 1, "S1", "A", "L1", 50.0, "2026-09-01", "2026-11-20", None, "open"),
    ], columns=["supply_type", "order_id", "line_no", "supplier_id", "sku", "location_id",
                "quantity", "order_date", "due_date", "received_date", "status"])
    routings = routing([("A", "W1", 2.0), ("A", "W2", 0.5)])
    hours = committed_hours(open_supply_at_cutoff(orders, CYCLE), routings)
    got = {(row.work_center_id, f"{row.month:%Y-%m}"): row.committed_hours
           for row in hours.itertuples()}
    assert got == {("W1", "2026-10"): 20.0, ("W2", "2026-10"): 5.0,
                   ("W1", "2026-11"): 60.0, ("W2", "2026-11"): 15.0}


def test_capacity_plan_books_committed_and_planned_and_the_check_counts_both():
    centres = pd.DataFrame({"work_center_id": ["W1"], "available_hours_per_month": [100.0]})
    demand = demand_rows("A", [100])
    planned = demand.assign(qty=40.0)
    table = capacity_plan(demand, ROUTING, centres, planned=planned, committed=held([60.0]))
    row = table.iloc[0]
    assert (row["committed_hours"], row["planned_hours"]) == (60.0, 40.0)
    assert row["planned_utilisation"] == 1.0
    assert row["utilisation"] == 1.0  # required / available: what the demand needs
    assert capacity_problems(table, overtime_share=0.0) == []
    over = capacity_plan(demand, ROUTING, centres, planned=demand.assign(qty=50.0),
                         committed=held([60.0]))
    assert capacity_problems(over, overtime_share=0.05) != []
    assert capacity_problems(over, overtime_share=0.1) == []
    plan = plan_supply(plan_inputs(demand, [item("A", price=200.0)], capacity_rows([100]),
                                   routings=ROUTING), SupplySettings()).plan
    problems = plan_problems(plan, over, pd.DataFrame([item("A")]), CYCLE, 0.05)
    assert any("committed + planned hours" in problem for problem in problems)
