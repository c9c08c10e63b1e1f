"""The supply plan a planner signs: demand served in time order with safety stock used before
a sale is lost (in the LP itself), whole units and lot sizes, tolerances, and the invariants
on random small companies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sop_pipeline.checks import QTY_TOLERANCE
from sop_pipeline.supply import solve
from sop_pipeline.supply.checks import plan_problems
from sop_pipeline.supply.inputs import build_network
from sop_pipeline.supply.lots import Lots, Routing, round_to_lots
from sop_pipeline.supply.plan import SupplyPlanError, SupplySettings
from sop_pipeline.supply.units import (
    ceil_to_step,
    cumulative_round,
    quantity_step,
)
from tests.test_supply_plan import (
    CYCLE,
    assert_balances_close,
    assert_within_capacity,
    capacity_rows,
    demand_rows,
    item,
    months,
    plan,
    plan_inputs,
    random_company,
    routing,
    stock,
)

LEAD_TIME_3_MONTHS = 100  # days: nothing planned arrives in the first three months


def lost_while_stocked(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows that lose a sale and still close the month with stock."""
    return frame[(frame["unmet_qty"] > QTY_TOLERANCE) & (frame["closing_qty"] > QTY_TOLERANCE)]


def test_stock_on_hand_serves_the_first_month_before_any_later_one():
    # The case: 28 on hand, 55 demanded each month, nothing can arrive in time; the
    # plan used to lose all 55 in the first month and keep the 28 (its safety stock) for the
    # next. Served in time order, the 28 go to the first month's customers.
    result = plan(demand_rows("A", [55, 55, 55]), [item("A", "buy", lead_time_days=120)],
                  capacity_rows([0, 0, 0]), opening=stock([("A", "L1", 28.0)]),
                  safety_stock=pd.DataFrame({"sku": ["A"], "location_id": ["L1"],
                                             "safety_stock_qty": [30.0]}))
    rows = result.plan.sort_values("month")
    assert rows["unmet_qty"].tolist() == [27.0, 55.0, 55.0]
    assert rows["closing_qty"].tolist() == [0.0, 0.0, 0.0]


def test_the_lp_itself_serves_in_time_order_on_random_companies():
    # The rule is in the LP's objective, not in a post-processing step: check its own solution.
    for seed in range(6):
        demand, items, capacity, tables = random_company(12, seed=seed)
        network = build_network(plan_inputs(demand, items, capacity, **tables,
                                            horizon=months(12)))
        planned, unmet, _ = solve.solve_groups(network, SupplySettings())
        flows = network.receipts + planned - network.demand + unmet
        closing = network.opening[:, None] + np.cumsum(flows, axis=1)
        kept = (unmet > QTY_TOLERANCE) & (closing > QTY_TOLERANCE)
        assert not kept.any(), f"seed {seed}: {int(kept.sum())} node-months lose sales with stock"
        assert (unmet > QTY_TOLERANCE).any()  # the case is not trivial


@pytest.mark.parametrize("seed", range(8))
def test_random_companies_keep_every_invariant(seed):
    demand, items, capacity, tables = random_company(15, seed=100 + seed)
    rng = np.random.default_rng(seed)
    for entry in items:  # lots on most items, some without
        entry["uom"] = "EA"
        entry["min_order_qty"] = float(rng.choice([np.nan, 15, 40]))
        entry["order_multiple"] = float(rng.choice([np.nan, 5, 12]))
    settings = SupplySettings(overtime_share=0.05)
    result = plan(demand, items, capacity, **tables, settings=settings)
    p = result.plan.merge(pd.DataFrame(items), on="sku")

    assert lost_while_stocked(p).empty
    assert_balances_close(result)
    assert_within_capacity(result, settings.overtime_share)
    planned = p["planned_production_qty"] + p["planned_purchase_qty"]
    ordered = planned > 0
    assert ordered.any()
    assert (planned == planned.round()).all()  # whole units
    multiple = p["order_multiple"].fillna(1.0)
    assert (planned[ordered] % multiple[ordered] == 0).all()
    assert (planned[ordered] >= p.loc[ordered, "min_order_qty"].fillna(0.0)).all()
    arrival = (CYCLE + pd.to_timedelta(p["lead_time_days"], unit="D")).dt.to_period("M")
    assert (planned[p["month"].dt.to_period("M") < arrival] == 0).all()  # lead time
    assert (p["demand_qty"] == p["demand_qty"].round()).all()
    assert (p["safety_stock_qty"] == p["safety_stock_qty"].round()).all()
    assert plan_problems(result.plan, result.load, pd.DataFrame(items), CYCLE,
                         settings.overtime_share) == []


def test_the_plan_check_names_each_broken_invariant():
    demand, items, capacity, tables = random_company(6, seed=3)
    for entry in items:
        entry.update(uom="EA", order_multiple=5.0)
    result = plan(demand, items, capacity, **tables)
    frame = pd.DataFrame(items)
    assert plan_problems(result.plan, result.load, frame, CYCLE, 0.1) == []

    broken = result.plan.copy()
    ordered = (broken["planned_production_qty"] + broken["planned_purchase_qty"]) > 0
    first = ordered.idxmax()
    column = ("planned_production_qty" if broken.at[first, "make_or_buy"] == "make"
              else "planned_purchase_qty")
    broken.at[first, column] += 2  # off its multiple, and the balance no longer closes
    broken.loc[broken.index[0], ["unmet_qty", "closing_qty"]] = [3.0, 4.0]
    late = frame.assign(lead_time_days=400.0)  # everything planned is inside the lead time
    tight = result.load.assign(available_hours=result.load["planned_hours"] / 2)
    problems = "\n".join(plan_problems(broken, tight, late, CYCLE, 0.1))
    for what in ("closing != opening", "a sale lost while the month closes with stock",
                 "planned inside the lead time", "planned off its lot",
                 "planned hours above available + overtime"):
        assert what in problems
    assert "sku=" in problems and "row(s)" in problems


def test_min_order_and_multiple_round_the_order_up_and_carry_the_excess():
    # 7 a month; min 25 in multiples of 10: 30 covers the first four months, then 30 more.
    result = plan(demand_rows("A", [7] * 6),
                  [{**item("A", "buy"), "uom": "EA", "min_order_qty": 25, "order_multiple": 10}],
                  capacity_rows([0] * 6))
    rows = result.plan.sort_values("month")
    assert rows["planned_purchase_qty"].tolist() == [30.0, 0.0, 0.0, 0.0, 30.0, 0.0]
    assert rows["closing_qty"].tolist() == [23.0, 16.0, 9.0, 2.0, 25.0, 18.0]
    assert rows["unmet_qty"].sum() == 0


def test_rounding_up_past_capacity_is_repaired_within_the_hours():
    # 10 hours a month, 1 hour a unit, demand 9.5 (two skus at 4.75): rounded up to lots of
    # 5 each they would need 10 h + 10 h; the repair keeps each month within 10 h (no overtime).
    demand = pd.concat([demand_rows("A", [4.75] * 4), demand_rows("B", [4.75] * 4)])
    items = [{**item(sku, price=price), "uom": "EA", "order_multiple": 5}
             for sku, price in (("A", 30.0), ("B", 20.0))]
    result = plan(demand, items, capacity_rows([10] * 4),
                  routings=routing([("A", "W1", 1.0), ("B", "W1", 1.0)]),
                  settings=SupplySettings(overtime_share=0.0))
    assert_within_capacity(result, 0.0)
    assert_balances_close(result)
    planned = result.plan["planned_production_qty"]
    assert (planned % 5 == 0).all() and planned.sum() > 0
    assert lost_while_stocked(result.plan).empty


def test_continuous_units_plan_in_thousandths():
    result = plan(demand_rows("A", [1.23456, 2.5]), [{**item("A", "buy"), "uom": "kg"}],
                  capacity_rows([0, 0]))
    rows = result.plan.sort_values("month")
    assert rows["demand_qty"].tolist() == [1.235, 2.5]  # cumulative: 1.235, 3.735
    assert rows["planned_purchase_qty"].tolist() == [1.235, 2.5]


def test_demand_is_rounded_cumulatively_so_slow_movers_are_planned():
    step = quantity_step(pd.Series(["EA", None, "KG"]))
    assert step.tolist() == [1.0, 1.0, 0.001]
    monthly = cumulative_round(np.full((1, 10), 0.3), np.array([1.0]))
    assert monthly.sum() == 3.0 and set(monthly.ravel()) == {0.0, 1.0}
    assert ceil_to_step(np.array([66.5, 3.0000000001, 2.0]), np.ones(3)).tolist() == [67, 3, 2]


@pytest.mark.parametrize("column", ["min_order_qty", "order_multiple"])
@pytest.mark.parametrize("value, what", [(0, "zero or negative"), (-5, "zero or negative"),
                                         ("ten", "not a number")])
def test_bad_lot_sizes_name_the_table_column_and_rows(column, value, what):
    items = [{**item("A"), column: value}, {**item("B"), column: 10}]
    demand = pd.concat([demand_rows("A", [5]), demand_rows("B", [5])])
    with pytest.raises(SupplyPlanError) as error:
        plan(demand, items, capacity_rows([100]), routings=routing([("A", "W1", 1.0)]))
    message = str(error.value)
    assert f"items.{column}: 1 row(s) {what}" in message and "sku=A" in message


def test_a_lot_cut_at_the_cap_is_made_earlier_where_hours_are_left():
    # The LP makes 15 units in month 1 on a centre with 15 hours then (1 h a unit) and 30 in
    # month 0; lots are at least 20 in tens. Rounded up, month 1's order needs 20 h: the repair
    # cuts it to 0, and the catch-up makes the 20 in month 0, where the hours are.
    planned = np.array([[0.0, 15.0]])
    routing_ = Routing(node=np.array([0]), centre=np.array([0]), hours=np.array([1.0]),
                       cap=np.array([[30.0, 15.0]]))
    lots = Lots(multiple=np.array([10.0]), minimum=np.array([20.0]))
    ordered = round_to_lots(planned, lots, np.ones((1, 2), dtype=bool), routing_,
                            unit_price=np.array([50.0]))
    assert ordered.tolist() == [[20.0, 0.0]]
    # not where the lead time forbids it: then the shortfall stays (never an order inside it)
    ordered = round_to_lots(planned, lots, np.array([[False, True]]), routing_,
                            unit_price=np.array([50.0]))
    assert ordered.tolist() == [[0.0, 0.0]]
