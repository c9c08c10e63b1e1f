"""What-if scenarios re-plan the cycle from the same forecast: with no lever they give the
baseline's tables, and each lever moves the plan the way it should.

The levers run on the real inputs of the shared demo company's last cycle (its warehouse, read
only) through the real LP; the demo's own scenarios are checked in the tables the run wrote.
"""

from __future__ import annotations

import csv
import shutil

import duckdb
import numpy as np
import pandas as pd
import pytest

from sop_pipeline.cli import main
from sop_pipeline.review.scenario_inputs import check_scenarios
from sop_pipeline.supply.plan import SupplySettings
from sop_pipeline.supply.scenarios import apply_levers, plan_scenario, scheduled_receipts
from sop_pipeline.supply.stage import plan_inputs
from sop_pipeline.tables import BASELINE, OUTPUT_TABLES
from sop_pipeline.warehouse import cycle_rows, database_path, query
from tests.conftest import COMPANY_CYCLES

CYCLE = COMPANY_CYCLES[-1]
HORIZON = 18  # the resource's default, which the company ran with
SERVICE_LEVEL = 0.95
DEMO_SCENARIOS = ["baseline", "extra_shift", "late_supplier", "promotion"]


@pytest.fixture(scope="module")
def con(company):
    _, warehouse = company
    with duckdb.connect(str(database_path(warehouse)), read_only=True) as connection:
        yield connection


@pytest.fixture(scope="module")
def inputs(con):
    return plan_inputs(con, CYCLE, HORIZON)


@pytest.fixture(scope="module")
def baseline(inputs):
    return plan_scenario(inputs, _levers(inputs, []), SupplySettings(), SERVICE_LEVEL)


def _levers(inputs, rows: list[dict], con=None) -> pd.DataFrame:
    """Lever rows of one scenario 'what_if', validated as the stage validates them."""
    frame = pd.DataFrame([{"scenario": "what_if", **row} for row in rows],
                         columns=["scenario", "lever", "family", "sku", "work_center_id",
                                  "supplier_id", "start_month", "end_month", "value"])
    return check_scenarios(frame, inputs.items, inputs.work_centers,
                           inputs.suppliers["supplier_id"], inputs.months)


def _plan(inputs, rows: list[dict]):
    return plan_scenario(inputs, _levers(inputs, rows), SupplySettings(), SERVICE_LEVEL)


def _total(plan, column: str) -> float:
    return float(plan.financials[column].sum())


def test_no_lever_is_the_baseline_the_run_wrote(con, baseline):
    for name, field in (("supply_plan", "plan"), ("capacity_plan", "capacity"),
                        ("inventory_projection", "inventory"), ("plan_financials", "financials")):
        written = cycle_rows(con, name, CYCLE)
        keys = [c for c in OUTPUT_TABLES[name].grain if c not in ("cycle_month", "scenario")]
        ours = getattr(baseline, field)
        pd.testing.assert_frame_equal(
            ours.sort_values(keys, ignore_index=True)[written.columns],
            written.sort_values(keys, ignore_index=True), check_dtype=False, atol=1e-6)


@pytest.mark.parametrize("change", [0.3, 1.0])
def test_more_capacity_never_loses_more_sales(inputs, baseline, change):
    assert len(inputs.work_centers), "the demo company has work centres"
    more = _plan(inputs, [{"lever": "capacity_pct", "work_center_id": centre, "value": change}
                          for centre in inputs.work_centers["work_center_id"]])
    assert _total(more, "lost_sales_qty") <= _total(baseline, "lost_sales_qty") + 1e-6
    assert not more.supply.problems
    # the centres really have more hours: none has fewer, some have more
    hours = more.capacity.merge(baseline.capacity, on=["work_center_id", "month"])
    assert (hours["available_hours_x"] >= hours["available_hours_y"] - 1e-9).all()
    assert (hours["available_hours_x"] > hours["available_hours_y"]).any()


def test_less_capacity_never_loses_fewer_sales(inputs, baseline):
    less = _plan(inputs, [{"lever": "capacity_pct", "work_center_id": centre, "value": -0.6}
                          for centre in inputs.work_centers["work_center_id"]])
    assert _total(less, "lost_sales_qty") >= _total(baseline, "lost_sales_qty") - 1e-6
    assert not less.supply.problems


@pytest.mark.parametrize("change", [0.1, 0.5])
def test_more_demand_never_lowers_revenue(inputs, baseline, change):
    family = inputs.items["family"].iloc[0]
    for rows in ([{"lever": "demand_pct", "value": change}],
                 [{"lever": "demand_pct", "family": family, "value": change}]):
        more = _plan(inputs, rows)
        assert _total(more, "revenue") >= _total(baseline, "revenue") - 1e-6
        assert _total(more, "demand_qty") > _total(baseline, "demand_qty")
        assert not more.supply.problems


def test_a_demand_lever_acts_on_its_family_and_months_only(inputs):
    family = inputs.items["family"].iloc[0]
    months = inputs.months[2:4]
    changed = apply_levers(inputs, _levers(inputs, [
        {"lever": "demand_pct", "family": family, "value": 0.5, "start_month": months[0],
         "end_month": months[-1]}])).consensus
    demand = changed.merge(inputs.consensus, on=["sku", "location_id", "month"],
                           how="outer").merge(inputs.items[["sku", "family"]], on="sku")
    assert len(demand) == len(inputs.consensus)
    inside = (demand["family"] == family) & demand["month"].isin(months)
    assert np.allclose(demand.loc[~inside, "qty_x"], demand.loc[~inside, "qty_y"])
    assert np.allclose(demand.loc[inside, "qty_x"], 1.5 * demand.loc[inside, "qty_y"])
    assert demand.loc[inside, "qty_y"].sum() > 0


def test_a_supplier_delay_never_moves_receipts_earlier(inputs, baseline):
    supplier = inputs.suppliers["supplier_id"].iloc[0]
    late = _plan(inputs, [{"lever": "supplier_delay_days", "supplier_id": supplier,
                           "value": 45}])
    orders = late.open_orders.merge(inputs.open_orders, on=["order_id", "line_no"],
                                    suffixes=("", "_before"))
    assert (orders["receipt_month"] >= orders["receipt_month_before"]).all()
    moved = orders["supplier_id"] == supplier
    assert (orders.loc[~moved, "receipt_month"] == orders.loc[~moved, "receipt_month_before"]).all()
    # by sku-location, the open orders received by any month are never more than before
    before = _cumulative(scheduled_receipts(inputs.open_orders))
    after = _cumulative(scheduled_receipts(late.open_orders))
    both = before.merge(after, on=["sku", "location_id", "month"], how="outer",
                        suffixes=("_before", "_after"))
    both = both.sort_values(["sku", "location_id", "month"])
    filled = both.groupby(["sku", "location_id"])[["qty_before", "qty_after"]].ffill().fillna(0)
    assert (filled["qty_after"] <= filled["qty_before"] + 1e-9).all()
    # the supplier's skus take longer: the plan buys nothing inside the longer lead time
    skus = set(inputs.suppliers.loc[inputs.suppliers["supplier_id"] == supplier, "sku"])
    longer = late.items.set_index("sku")["lead_time_days"]
    assert all(longer[sku] == inputs.items.set_index("sku").loc[sku, "lead_time_days"] + 45
               for sku in skus)
    assert not late.supply.problems  # judged with the longer lead times
    assert _total(late, "lost_sales_qty") >= _total(baseline, "lost_sales_qty") - 1e-6


def _cumulative(receipts: pd.DataFrame) -> pd.DataFrame:
    receipts = receipts.sort_values(["sku", "location_id", "month"])
    receipts["qty"] = receipts.groupby(["sku", "location_id"])["qty"].cumsum()
    return receipts


def test_price_and_cost_levers_price_what_the_plan_serves(inputs, baseline):
    dearer = _plan(inputs, [{"lever": "price_pct", "value": 0.1},
                            {"lever": "cost_pct", "value": 0.2}])
    # the LP may serve other units at other prices; what it serves is priced +10 %, costed +20 %
    served = dearer.plan.assign(qty=dearer.plan["demand_qty"] - dearer.plan["unmet_qty"]).merge(
        inputs.items[["sku", "unit_price", "unit_cost"]], on="sku")
    assert _total(dearer, "revenue") == pytest.approx(
        1.1 * (served["qty"] * served["unit_price"]).sum(), rel=1e-9)
    assert _total(dearer, "cost_of_goods") == pytest.approx(
        1.2 * (served["qty"] * served["unit_cost"]).sum(), rel=1e-9)


def test_a_higher_service_level_holds_more_safety_stock(inputs, baseline):
    safer = _plan(inputs, [{"lever": "service_level", "value": 0.99}])
    assert safer.plan["safety_stock_qty"].sum() > baseline.plan["safety_stock_qty"].sum()


def test_the_run_writes_every_scenario_of_every_cycle(con):
    kpis = query(con, "SELECT * FROM main.scenario_kpis ORDER BY cycle_month, scenario")
    for cycle in COMPANY_CYCLES:
        assert sorted(kpis.loc[kpis["cycle_month"] == cycle, "scenario"]) == DEMO_SCENARIOS
        for name in ("supply_plan", "capacity_plan", "inventory_projection", "plan_financials"):
            planned = query(con, f"SELECT DISTINCT scenario FROM main.{name} "
                                 "WHERE cycle_month = ?", [cycle.date()])
            assert sorted(planned["scenario"]) == DEMO_SCENARIOS, name
    base = kpis[kpis["scenario"] == BASELINE]
    assert (base[["margin_vs_baseline", "lost_sales_vs_baseline",
                  "inventory_vs_baseline"]] == 0).all().all()


def test_the_baseline_kpis_are_the_plan_tables_totals(con):
    kpis = query(con, "SELECT * FROM main.scenario_kpis")
    money = query(con, """SELECT cycle_month, scenario, sum(revenue) AS revenue,
                                 sum(gross_margin) AS gross_margin, sum(supply_cost) AS supply_cost,
                                 sum(lost_sales_qty) AS lost_sales_qty,
                                 sum(served_qty) / sum(demand_qty) AS fill_rate
                          FROM main.plan_financials GROUP BY ALL""")
    stock = query(con, """SELECT cycle_month, scenario, avg(value) AS inventory_value FROM (
                              SELECT cycle_month, scenario, month, sum(inventory_value) AS value
                              FROM main.plan_financials GROUP BY ALL) GROUP BY ALL""")
    peak = query(con, """SELECT cycle_month, scenario, max(planned_utilisation) AS peak
                         FROM main.capacity_plan GROUP BY ALL""")
    both = kpis.merge(money, on=["cycle_month", "scenario"], suffixes=("", "_table")).merge(
        stock, on=["cycle_month", "scenario"], suffixes=("", "_table")).merge(
        peak, on=["cycle_month", "scenario"])
    assert len(both) == len(kpis)  # every scenario's KPIs from its own plan rows
    for column in ("revenue", "gross_margin", "supply_cost", "lost_sales_qty", "fill_rate",
                   "inventory_value"):
        assert np.allclose(both[column], both[f"{column}_table"], rtol=1e-9), column
    assert np.allclose(both["peak_utilisation"], both["peak"], rtol=1e-9)
    # the alerts table is the adopted plan's: its stock, capacity and action alerts are among
    # those the adopted scenario's KPIs count
    alerts = query(con, """SELECT cycle_month, count(*) AS high FROM main.alerts
                           WHERE severity = 'high' AND kind IN ('projected_stockout',
                             'below_safety_stock', 'excess_stock', 'capacity_overload',
                             'release_now', 'expedite', 'push_out', 'cancel')
                           GROUP BY ALL""")
    adopted = kpis.merge(query(con, "SELECT cycle_month, scenario FROM main.plan_version"),
                         on=["cycle_month", "scenario"]).merge(alerts, on="cycle_month",
                                                               how="left")
    assert len(adopted) == len(COMPANY_CYCLES)
    assert (adopted["alerts_high"] >= adopted["high"].fillna(0)).all()
    assert adopted["high"].notna().any()


def test_the_demo_scenarios_move_as_their_levers_say(con):
    kpis = query(con, f"SELECT * FROM main.scenario_kpis WHERE cycle_month = "
                      f"DATE '{CYCLE:%Y-%m-%d}'").set_index("scenario")
    assert kpis.loc["promotion", "description"].startswith("Promotion")
    assert kpis.loc["extra_shift", "lost_sales_qty"] <= kpis.loc[BASELINE, "lost_sales_qty"]
    assert kpis.loc["late_supplier", "lost_sales_qty"] >= kpis.loc[BASELINE, "lost_sales_qty"]
    assert kpis["description"].loc[["promotion", "extra_shift", "late_supplier"]].str.len().gt(
        0).all()


@pytest.mark.parametrize("row, words", [
    ({"lever": "capacity_pct", "work_center_id": "WC-NOPE", "value": "0.1"},
     ["plan/scenarios", "work_center_id", "WC-NOPE"]),
    ({"lever": "capacity_pct", "work_center_id": "{centre}", "value": "-1.5"},
     ["plan/scenarios.csv", "column 'value'", "1 row(s)", "-1.5"]),
])  # every other break is checked on check_scenarios (test_scenario_inputs)
def test_a_bad_scenario_fails_the_cycle_and_changes_nothing(company, tmp_path, capsys, row,
                                                            words):
    extracts, warehouse = company
    broken = tmp_path / "extracts"
    shutil.copytree(extracts, broken)
    copy = _copy_warehouse(warehouse, tmp_path)
    centre = next(csv.DictReader((broken / "erp/work_centers.csv").open()))["work_center_id"]
    path = broken / "plan/scenarios.csv"
    header = next(csv.reader(path.open()))
    with path.open("a", newline="") as handle:
        csv.DictWriter(handle, header).writerow(
            {"scenario": "bad_one", **{k: v.format(centre=centre) for k, v in row.items()}})
    before = _plan_rows(copy)
    assert main(["run", "--extracts", str(broken), "--warehouse", str(copy),
                 "--cycle", f"{CYCLE:%Y-%m}"]) == 1
    err = capsys.readouterr().err
    assert all(word in err for word in words), err
    assert _plan_rows(copy) == before


def _copy_warehouse(warehouse, tmp_path):
    copy = tmp_path / "warehouse"
    copy.mkdir()
    shutil.copy(database_path(warehouse), database_path(copy))
    shutil.copytree(warehouse / "published", copy / "published", symlinks=True)
    return copy


def _plan_rows(warehouse) -> tuple:
    """The scenario tables and the publication, as they stand."""
    with duckdb.connect(str(database_path(warehouse)), read_only=True) as con:
        tables = tuple(con.execute(f"SELECT count(*), sum(hash(t)) FROM main.{name} AS t")
                       .fetchone() for name in ("scenario_kpis", "supply_plan", "alerts"))
    return tables, (warehouse / "published" / "manifest.json").read_text()


def test_the_publication_holds_each_cycles_adopted_plan(company, con):
    _, warehouse = company
    adopted = query(con, "SELECT cycle_month, scenario FROM main.plan_version")
    assert set(adopted["scenario"]) - {BASELINE}, "the demo adopts a what-if in some cycle"
    serving = warehouse / "published" / "sop_serving.duckdb"
    with duckdb.connect(str(serving), read_only=True) as published:
        for name in ("supply_plan", "capacity_plan", "inventory_projection", "plan_financials"):
            shown = query(published, f"SELECT cycle_month, scenario, count(*) AS n "
                                     f"FROM main.{name} GROUP BY ALL")
            assert shown.merge(adopted, on=["cycle_month", "scenario"]).shape[0] == len(shown)
            working = query(con, f"SELECT cycle_month, scenario, count(*) AS n FROM main.{name} "
                                 "GROUP BY ALL")
            assert (shown.merge(working, on=["cycle_month", "scenario"])
                    .eval("n_x == n_y").all()), name
        assert len(query(published, "SELECT * FROM main.scenario_kpis")) == len(
            query(con, "SELECT * FROM main.scenario_kpis"))


def test_the_demo_promotion_earns_more_revenue(con):
    kpis = query(con, f"SELECT * FROM main.scenario_kpis WHERE cycle_month = "
                      f"DATE '{CYCLE:%Y-%m-%d}'").set_index("scenario")
    assert kpis.loc["promotion", "revenue"] > kpis.loc[BASELINE, "revenue"]
