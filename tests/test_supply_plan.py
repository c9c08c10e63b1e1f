"""Supply plan LP: hand-computed plans for capacity, build-ahead, lead time, priorities, safety
stock and overtime; input errors; the balance and capacity invariants on a random case."""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sop_pipeline.supply import solve
from sop_pipeline.supply.plan import (
    LOAD_COLUMNS,
    PLAN_COLUMNS,
    PlanInputs,
    SupplyPlan,
    SupplyPlanError,
    SupplySettings,
    plan_supply,
)

CYCLE = pd.Timestamp("2026-10-01")
NO_OVERTIME = SupplySettings(overtime_share=0.0)


def months(count: int) -> pd.DatetimeIndex:
    return pd.date_range(CYCLE, periods=count, freq="MS")


def demand_rows(sku: str, quantities: list[float], location: str = "L1") -> pd.DataFrame:
    horizon = months(len(quantities))
    return pd.DataFrame({"sku": sku, "location_id": location, "month": horizon,
                         "qty": [float(q) for q in quantities]})


def item(sku: str, make_or_buy: str = "make", cost: float = 10.0, price: float = 20.0,
         lead_time_days: float = 0) -> dict:
    return {"sku": sku, "make_or_buy": make_or_buy, "unit_cost": cost, "unit_price": price,
            "lead_time_days": lead_time_days}


def capacity_rows(hours: list[float], centre: str = "W1") -> pd.DataFrame:
    return pd.DataFrame({"work_center_id": centre, "month": months(len(hours)),
                         "available_hours": [float(h) for h in hours]})


def stock(rows: list[tuple[str, str, float]] | None = None) -> pd.DataFrame:
    return pd.DataFrame(rows or [], columns=["sku", "location_id", "on_hand_qty"])


def receipts(rows: list[tuple[str, str, pd.Timestamp, float]] | None = None) -> pd.DataFrame:
    return pd.DataFrame(rows or [], columns=["sku", "location_id", "month", "qty"])


def routing(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["sku", "work_center_id", "hours_per_unit"])


def plan(demand, items, capacity, *, opening=None, scheduled=None, routings=None,
         safety_stock=None, settings=None, horizon=None) -> SupplyPlan:
    """plan_supply over the demand's months, with empty defaults for the optional tables."""
    horizon = horizon if horizon is not None else pd.DatetimeIndex(
        sorted(demand["month"].unique()))
    return plan_supply(plan_inputs(demand, items, capacity, opening=opening, scheduled=scheduled,
                                   routings=routings, safety_stock=safety_stock,
                                   horizon=horizon), settings)


def plan_inputs(demand, items, capacity, *, opening=None, scheduled=None, routings=None,
                safety_stock=None, horizon=None) -> PlanInputs:
    """The supply plan's inputs over the demand's months, empty where not given."""
    horizon = horizon if horizon is not None else pd.DatetimeIndex(
        sorted(demand["month"].unique()))
    optional = {} if safety_stock is None else {"safety_stock": safety_stock}
    return PlanInputs(
        cycle_month=CYCLE, months=horizon, demand=demand, items=pd.DataFrame(items),
        opening=stock() if opening is None else opening,
        scheduled_receipts=receipts() if scheduled is None else scheduled,
        routings=routing([]) if routings is None else routings, capacity=capacity, **optional)


def column(result: SupplyPlan, name: str, sku: str = "A") -> list[float]:
    rows = result.plan[result.plan["sku"] == sku].sort_values("month")
    return [round(value, 6) for value in rows[name]]


def assert_balances_close(result: SupplyPlan) -> None:
    p = result.plan
    closing = (p["opening_qty"] + p["scheduled_receipts_qty"] + p["planned_production_qty"]
               + p["planned_purchase_qty"] - (p["demand_qty"] - p["unmet_qty"]))
    np.testing.assert_allclose(p["closing_qty"], closing, rtol=0, atol=1e-9)
    assert (p["closing_qty"] >= 0).all() and (p["unmet_qty"] >= 0).all()
    assert (p["unmet_qty"] <= p["demand_qty"]).all()
    following = p.groupby(["sku", "location_id"])["opening_qty"].shift(-1)
    last_closing = p["closing_qty"][following.notna()]
    assert (following.dropna() == last_closing).all()  # next opening is exactly this closing


def assert_within_capacity(result: SupplyPlan, overtime_share: float) -> None:
    load = result.load
    limit = load["available_hours"] * (1 + overtime_share) + 1e-5
    assert (load["planned_hours"] <= limit).all()


def test_enough_capacity_plans_demand_net_of_opening_and_receipts():
    result = plan(
        demand_rows("A", [100, 100, 100]), [item("A")], capacity_rows([500, 500, 500]),
        opening=stock([("A", "L1", 30.0)]),
        scheduled=receipts([("A", "L1", months(3)[1], 20.0)]),
        routings=routing([("A", "W1", 1.0)]),
    )

    assert list(result.plan.columns) == PLAN_COLUMNS
    assert list(result.load.columns) == LOAD_COLUMNS
    assert column(result, "planned_production_qty") == [70.0, 80.0, 100.0]
    assert column(result, "planned_purchase_qty") == [0.0, 0.0, 0.0]
    assert column(result, "unmet_qty") == [0.0, 0.0, 0.0]
    assert column(result, "closing_qty") == [0.0, 0.0, 0.0]
    assert column(result, "opening_qty") == [30.0, 0.0, 0.0]
    assert result.plan["make_or_buy"].eq("make").all()
    assert list(result.load["planned_hours"].round(6)) == [70.0, 80.0, 100.0]
    assert list(result.load["utilisation"].round(6)) == [0.14, 0.16, 0.2]
    assert result.stats["status"] == "Optimal"
    assert {"variables", "constraints", "nonzeros", "solve_seconds", "build_seconds",
            "objective"} <= result.stats.keys()
    assert_balances_close(result)


@pytest.mark.parametrize("settings", [NO_OVERTIME, SupplySettings()], ids=["no_ot", "default"])
def test_capacity_short_in_the_peak_builds_ahead_in_the_latest_slack_months(settings):
    # capacity 200/month; the December peak needs 100 more, November has 10 spare hours:
    # build 10 in November and 90 in October (holding is far cheaper than overtime or a lost
    # sale; the latest slack first, as each month earlier costs another month of holding)
    result = plan(
        demand_rows("A", [100, 190, 300, 100]), [item("A")], capacity_rows([200] * 4),
        routings=routing([("A", "W1", 1.0)]), settings=settings,
    )

    assert column(result, "planned_production_qty") == [190.0, 200.0, 200.0, 100.0]
    assert column(result, "closing_qty") == [90.0, 100.0, 0.0, 0.0]
    assert column(result, "unmet_qty") == [0.0] * 4
    assert list(result.load["overtime_hours"]) == [0.0] * 4
    assert_within_capacity(result, settings.overtime_share)
    assert_balances_close(result)


@pytest.mark.parametrize(("lead_time_days", "first_month"), [
    (31, "2026-11"),  # 2026-10-01 + 31 days = 2026-11-01: needed on Nov 1, released Oct 1
    (45, "2026-12"),  # 2026-11-15: too late for Nov 1, so December
    (61, "2026-12"),  # 2026-12-01
    (0, "2026-10"),
])
def test_lead_time_allows_receipts_from_the_first_month_it_reaches_on_its_first_day(
    lead_time_days, first_month
):
    result = plan(
        demand_rows("A", [100, 100, 100, 100]),
        [item("A", "buy", lead_time_days=lead_time_days)], capacity_rows([0] * 4),
        opening=stock([("A", "L1", 60.0)]),
    )

    purchase = dict(zip(result.plan["month"].dt.strftime("%Y-%m"),
                        result.plan["planned_purchase_qty"].round(6), strict=True))
    unmet = column(result, "unmet_qty")
    assert column(result, "planned_production_qty") == [0.0] * 4
    if first_month == "2026-10":
        assert list(purchase.values()) == [40.0, 100.0, 100.0, 100.0]
        assert unmet == [0.0] * 4
    elif first_month == "2026-11":
        # October: 60 on hand against 100 of demand, nothing can arrive: 40 lost
        assert list(purchase.values()) == [0.0, 100.0, 100.0, 100.0]
        assert unmet == [40.0, 0.0, 0.0, 0.0]
    else:
        assert list(purchase.values()) == [0.0, 0.0, 100.0, 100.0]
        assert unmet == [40.0, 100.0, 0.0, 0.0]
    assert_balances_close(result)


def test_shared_centre_short_in_total_loses_the_lower_priced_sku():
    # one centre, 150 h/month, 1 h a unit for both: 300 h against 400 units over two months
    demand = pd.concat([demand_rows("A", [100, 100]), demand_rows("B", [100, 100])])
    result = plan(
        demand, [item("A", price=50.0), item("B", price=30.0)], capacity_rows([150, 150]),
        routings=routing([("A", "W1", 1.0), ("B", "W1", 1.0)]), settings=NO_OVERTIME,
    )

    assert column(result, "unmet_qty", "A") == [0.0, 0.0]
    assert column(result, "planned_production_qty", "A") == [100.0, 100.0]
    assert column(result, "unmet_qty", "B") == [50.0, 50.0]
    assert column(result, "planned_production_qty", "B") == [50.0, 50.0]
    assert list(result.load["planned_hours"].round(6)) == [150.0, 150.0]
    assert_balances_close(result)


def test_capacity_is_shared_by_every_location_of_a_sku():
    demand = pd.concat([demand_rows("A", [80], "L1"), demand_rows("A", [80], "L2")])
    result = plan(demand, [item("A")], capacity_rows([100]),
                  routings=routing([("A", "W1", 1.0)]), settings=NO_OVERTIME)

    assert result.plan["planned_production_qty"].sum() == pytest.approx(100.0)
    assert result.plan["unmet_qty"].sum() == pytest.approx(60.0)
    assert_balances_close(result)


def test_safety_stock_is_built_when_capacity_is_free():
    # a shortfall costs 0.25 x 10 = 2.5 a unit-month, holding 0.02 x 10 = 0.2: build it in
    # the first month and keep it
    safety = pd.DataFrame({"sku": ["A"], "location_id": ["L1"], "safety_stock_qty": [50.0]})
    result = plan(demand_rows("A", [100, 100, 100]), [item("A")], capacity_rows([200] * 3),
                  routings=routing([("A", "W1", 1.0)]), safety_stock=safety)

    assert column(result, "planned_production_qty") == [150.0, 100.0, 100.0]
    assert column(result, "closing_qty") == [50.0, 50.0, 50.0]
    assert column(result, "safety_stock_qty") == [50.0] * 3
    assert_balances_close(result)


@pytest.mark.parametrize(("price", "overtime_hours", "unmet"), [
    # a lost unit costs price + cost x (1 + (0.02 + 0.25) x 1 month) = price + 12.7;
    # an overtime unit 60 (1 h a unit at 60 an hour)
    (100.0, 5.0, 0.0),  # 112.7 > 60: 5 h of overtime, nothing lost
    (40.0, 0.0, 5.0),  # 52.7 < 60: no overtime, 5 units lost
])
def test_overtime_only_when_cheaper_than_the_lost_sale(price, overtime_hours, unmet):
    # 105 units against 100 h (+10 h overtime allowed); the 20 units of safety stock would
    # cost 60 each in overtime against a 2.5 shortfall: never built on overtime
    safety = pd.DataFrame({"sku": ["A"], "location_id": ["L1"], "safety_stock_qty": [20.0]})
    result = plan(demand_rows("A", [105]), [item("A", price=price)], capacity_rows([100]),
                  routings=routing([("A", "W1", 1.0)]), safety_stock=safety)

    assert list(result.load["overtime_hours"].round(6)) == [overtime_hours]
    assert column(result, "unmet_qty") == [unmet]
    assert column(result, "closing_qty") == [0.0]
    assert_within_capacity(result, 0.1)
    assert_balances_close(result)


def test_negative_hours_name_the_table_column_and_count():
    with pytest.raises(SupplyPlanError, match=r"routings\.hours_per_unit: 1 row\(s\) negative"):
        plan(demand_rows("A", [10]), [item("A")], capacity_rows([100]),
             routings=routing([("A", "W1", -1.0)]))


def test_nan_demand_names_the_table_column_count_and_sample_rows():
    demand = demand_rows("A", [10, np.nan, np.nan])
    with pytest.raises(SupplyPlanError) as raised:
        plan(demand, [item("A")], capacity_rows([100] * 3), routings=routing([("A", "W1", 1)]))

    message = str(raised.value)
    assert "demand.qty: 2 row(s) NaN or not a number" in message
    assert "sku=A" in message and "2026-11-01" in message


@pytest.mark.parametrize(("change", "expected"), [
    ({"items": [item("B")]}, r"items: 1 sku\(s\) .* not in items, e.g. \['A'\]"),
    ({"items": [item("A", "made")]}, r"items\.make_or_buy: 1 row\(s\) not 'make' or 'buy'"),
    ({"items": [item("A", cost=0.0, price=0.0)]}, r"losing their sales costs nothing"),
    ({"capacity": capacity_rows([100], "W2")}, r"capacity: 1 work centre x month\(s\)"),
    ({"capacity": pd.concat([capacity_rows([100])] * 2)}, r"capacity\.work_center_id\+month"),
    ({"routings": routing([])[["sku"]]}, r"routings: missing column\(s\) \['work_center_id'"),
])
def test_inconsistent_inputs_raise_a_named_error(change, expected):
    inputs = {"items": [item("A")], "capacity": capacity_rows([100]),
              "routings": routing([("A", "W1", 1.0)])} | change
    with pytest.raises(SupplyPlanError, match=expected):
        plan(demand_rows("A", [10]), inputs["items"], inputs["capacity"],
             routings=inputs["routings"])


def test_no_optimal_plan_raises_with_the_status_and_a_cause():
    company = random_company(30, seed=3)
    with pytest.raises(SupplyPlanError, match=r"not solved to optimality .*time limit"):
        plan(*company[:3], **company[3], settings=SupplySettings(time_limit_seconds=0.0))


def test_demand_wholly_outside_the_horizon_is_an_error_not_an_empty_plan():
    with pytest.raises(SupplyPlanError, match=r"demand: 2 row\(s\) with qty > 0, none in the "
                                              r"horizon 2027-06\.\.2027-07"):
        plan(demand_rows("A", [10, 10]), [item("A")], capacity_rows([100]),
             horizon=pd.date_range("2027-06-01", periods=2, freq="MS"))


def test_nothing_to_plan_gives_an_empty_plan_and_the_idle_load():
    result = plan(demand_rows("A", [0.0])[:0], [item("A")], capacity_rows([100]),
                  horizon=months(1))

    assert result.plan.empty and list(result.plan.columns) == PLAN_COLUMNS
    assert list(result.load["planned_hours"]) == [0.0]


def test_random_company_balances_close_and_capacity_holds():
    demand, items, capacity, tables = random_company(30, seed=11)
    settings = SupplySettings(overtime_share=0.05)
    result = plan(demand, items, capacity, **tables, settings=settings)
    p = result.plan

    assert len(p) == demand.groupby(["sku", "location_id"]).ngroups * 12
    assert p["demand_qty"].sum() == pytest.approx(demand["qty"].sum())
    assert_balances_close(result)
    assert_within_capacity(result, settings.overtime_share)
    early = p.merge(pd.DataFrame(items), on="sku")
    arrival = (CYCLE + pd.to_timedelta(early["lead_time_days"], unit="D")).dt.to_period("M")
    too_early = early["month"].dt.to_period("M") < arrival
    planned = early["planned_production_qty"] + early["planned_purchase_qty"]
    assert (planned[too_early] == 0).all() and too_early.any()
    assert (p["unmet_qty"] > 0).any() and (p["planned_production_qty"] > 0).any()
    assert (p.loc[p["make_or_buy"] == "buy", "planned_production_qty"] == 0).all()


def random_company(skus: int, seed: int) -> tuple:
    """(demand, items, capacity, other tables) of `skus` skus at two locations, 12 months,
    two centres with capacity short of the seasonal peak."""
    rng = np.random.default_rng(seed)
    horizon = months(12)
    names = [f"S{number:02d}" for number in range(skus)]
    items = [item(sku, "make" if rng.random() < 0.7 else "buy", cost=float(rng.uniform(5, 50)),
                  price=float(rng.uniform(60, 120)), lead_time_days=int(rng.integers(0, 90)))
             for sku in names]
    nodes = pd.DataFrame({"sku": np.repeat(names, 2), "location_id": ["L1", "L2"] * skus})
    season = 1 + 0.4 * np.cos(2 * np.pi * (horizon.month.to_numpy() - 12) / 12)
    qty = rng.poisson(rng.uniform(20, 80, (len(nodes), 1)) * season).astype(float)
    demand = nodes.loc[nodes.index.repeat(12)].reset_index(drop=True).assign(
        month=np.tile(horizon.to_numpy(), len(nodes)), qty=qty.ravel())
    make = [i["sku"] for i in items if i["make_or_buy"] == "make"]
    routings = routing([(sku, f"W{rng.integers(1, 3)}", float(rng.uniform(0.1, 0.5)))
                        for sku in make])
    capacity = pd.concat([capacity_rows([float(h)] * 12, centre)
                          for centre, h in (("W1", 700), ("W2", 700))])
    tables = {
        "opening": nodes.assign(on_hand_qty=rng.uniform(0, 60, len(nodes)).round(1)),
        "scheduled": nodes.sample(10, random_state=seed).assign(month=horizon[1], qty=25.0),
        "routings": routings,
        "safety_stock": nodes.assign(safety_stock_qty=rng.uniform(0, 20, len(nodes)).round(1)),
    }
    return demand, items, capacity, tables


def test_solving_groups_apart_reaches_the_optimum_of_one_model(monkeypatch):
    # make skus route to W1 or W2: two linked groups, plus the buy skus in one chunk; split
    # the independent nodes one per LP and the optimum must not move
    demand, items, capacity, tables = random_company(30, seed=5)
    grouped = plan(demand, items, capacity, **tables)
    monkeypatch.setattr(solve, "CHUNK_NODES", 1)
    one_node_lps = plan(demand, items, capacity, **tables)

    buy_nodes = 2 * sum(i["make_or_buy"] == "buy" for i in items)
    assert grouped.stats["lps"] == 3
    assert one_node_lps.stats["lps"] == 2 + buy_nodes
    assert one_node_lps.stats["objective"] == pytest.approx(grouped.stats["objective"],
                                                            rel=1e-9)
    assert one_node_lps.plan["unmet_qty"].sum() == pytest.approx(
        grouped.plan["unmet_qty"].sum(), abs=1e-5)


def test_speed_benchmark_prints_its_figures(capsys):
    benchmarks = Path(__file__).resolve().parents[1] / "benchmarks"
    if str(benchmarks) not in sys.path:
        sys.path.insert(0, str(benchmarks))
    speed = importlib.import_module("supply_speed")

    assert speed.main(["--nodes", "40", "--months", "6", "--centres", "2"]) == 0
    output = capsys.readouterr().out
    assert output.startswith("company: 40 nodes (20 skus x 2 locations")
    assert re.search(r"LP: \d+ variables, \d+ constraints, \d+ nonzeros, in \d+ LPs", output)
    assert re.search(r"solve: \d+\.\d s \(HiGHS status Optimal", output)
    assert re.search(r"plan: 240 rows; demand [\d,]+, unmet [\d,]+", output)
    assert re.search(r"peak memory \(ru_maxrss, this process; tracemalloc off\): \d+ MiB",
                     output)
