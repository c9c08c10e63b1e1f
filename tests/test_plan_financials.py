"""The plan in money: a small hand-made plan with known answers, and on a real cycle the table's
totals equal the plan tables' (supply_plan, capacity_plan, dim_items)."""

from __future__ import annotations

import re

import duckdb
import numpy as np
import pandas as pd
import pytest

from sop_pipeline.report.pack import chart_figures, pack_path, pack_problems
from sop_pipeline.supply.financials import plan_financials
from sop_pipeline.supply.inventory import DAYS_PER_MONTH
from sop_pipeline.supply.plan import SupplySettings
from sop_pipeline.tables import OUTPUT_TABLES
from sop_pipeline.warehouse import database_path

MONTHS = pd.date_range("2026-10-01", periods=4, freq="MS")
SETTINGS = SupplySettings(holding_cost_rate=0.02, overtime_cost_per_hour=60.0, currency="USD")
ITEMS = pd.DataFrame({
    "sku": ["BIK-1", "PRT-1", "PRT-2"],
    "family": ["Bikes", "Parts", "Parts"],
    "unit_cost": [100.0, 10.0, 20.0],
    "unit_price": [250.0, 30.0, 50.0],
})
ROUTINGS = pd.DataFrame({
    "sku": ["BIK-1", "PRT-2", "PRT-2"],
    "work_center_id": ["WC-A", "WC-A", "WC-B"],
    "hours_per_unit": [2.0, 1.0, 0.5],
})
# planned hours on WC-A: 8 x 2 + 20 x 1 = 36 (6 overtime), 10 x 2 + 40 x 1 = 60 (10), 24 (0)
CAPACITY = pd.DataFrame({
    "work_center_id": ["WC-A"] * 4 + ["WC-B"] * 4,
    "month": list(MONTHS) * 2,
    "planned_hours": [36.0, 60.0, 24.0, 0.0, 10.0, 20.0, 0.0, 0.0],
    "available_hours": [30.0, 50.0, 30.0, 30.0, 100.0, 100.0, 100.0, 100.0],
})
_PLAN_ROWS = {
    # sku, location, make_or_buy: per month demand, scheduled, production, purchase,
    # opening, closing, unmet
    ("BIK-1", "PLT1", "make"): [(10, 5, 8, 0, 2, 5, 0), (12, 0, 10, 0, 5, 3, 0),
                                (20, 0, 12, 0, 3, 0, 5), (0, 0, 0, 0, 0, 0, 0)],
    ("PRT-1", "DC1", "buy"): [(100, 50, 0, 60, 40, 50, 0), (100, 0, 0, 100, 50, 50, 0),
                              (100, 0, 0, 50, 50, 0, 0), (0, 0, 0, 0, 0, 0, 0)],
    ("PRT-2", "PLT1", "make"): [(20, 0, 20, 0, 0, 0, 0), (20, 0, 40, 0, 0, 20, 0),
                                (20, 0, 0, 0, 20, 0, 0), (0, 0, 0, 0, 0, 0, 0)],
}
PLAN = pd.DataFrame([
    {"sku": sku, "location_id": location, "month": month, "make_or_buy": make_or_buy,
     **dict(zip(["demand_qty", "scheduled_receipts_qty", "planned_production_qty",
                 "planned_purchase_qty", "opening_qty", "closing_qty", "unmet_qty"],
                map(float, quantities), strict=True)),
     "safety_stock_qty": 0.0}
    for (sku, location, make_or_buy), months in _PLAN_ROWS.items()
    for month, quantities in zip(MONTHS, months, strict=True)
])


def _row(money: pd.DataFrame, family: str, month: int) -> pd.Series:
    return money[(money["family"] == family) & (money["month"] == MONTHS[month])].iloc[0]


def test_a_family_month_in_money():
    money = plan_financials(PLAN, CAPACITY, ROUTINGS, ITEMS, SETTINGS)

    assert money.columns.tolist() == OUTPUT_TABLES["plan_financials"].stage_columns
    assert len(money) == 2 * len(MONTHS) and set(money["currency"]) == {"USD"}
    bikes = _row(money, "Bikes", 0)
    assert bikes["demand_qty"] == 10 and bikes["served_qty"] == 10
    assert bikes["revenue"] == 2500 and bikes["cost_of_goods"] == 1000
    assert bikes["gross_margin"] == 1500 and bikes["gross_margin_pct"] == pytest.approx(0.6)
    assert bikes["production_cost"] == (5 + 8) * 100  # open orders + planned production
    assert bikes["purchase_cost"] == 0
    assert bikes["overtime_cost"] == pytest.approx(6 * 16 / 36 * 60)  # 16 of WC-A's 36 hours
    assert bikes["holding_cost"] == pytest.approx(5 * 100 * 0.02)
    assert bikes["supply_cost"] == pytest.approx(1300 + 160 + 10)
    assert bikes["inventory_qty"] == 5 and bikes["inventory_value"] == 500
    assert bikes["fill_rate"] == 1.0 and bikes["lost_sales_qty"] == 0
    # this and the next two months' demand at cost: 1,000, 1,200 and 2,000 a month
    assert bikes["days_of_cover"] == pytest.approx(500 / (1400 / DAYS_PER_MONTH))

    parts = _row(money, "Parts", 0)
    assert parts["revenue"] == 100 * 30 + 20 * 50 and parts["cost_of_goods"] == 1000 + 400
    assert parts["production_cost"] == 20 * 20  # PRT-2 is made
    assert parts["purchase_cost"] == (50 + 60) * 10  # PRT-1 is bought: open + planned
    assert parts["overtime_cost"] == pytest.approx(6 * 20 / 36 * 60)
    assert parts["supply_cost"] == pytest.approx(400 + 1100 + 200 + 50 * 10 * 0.02)


def test_lost_sales_overtime_and_cover_over_the_months():
    money = plan_financials(PLAN, CAPACITY, ROUTINGS, ITEMS, SETTINGS)

    short = _row(money, "Bikes", 2)
    assert short["lost_sales_qty"] == 5 and short["lost_sales_value"] == 5 * 250
    assert short["served_qty"] == 15 and short["fill_rate"] == pytest.approx(0.75)
    assert short["overtime_cost"] == 0  # 24 planned hours within 30
    assert short["days_of_cover"] == 0  # no stock, demand ahead
    assert _row(money, "Parts", 1)["overtime_cost"] == pytest.approx(10 * 40 / 60 * 60)
    assert _row(money, "Parts", 1)["inventory_value"] == 50 * 10 + 20 * 20
    idle = _row(money, "Bikes", 3)  # no demand in the last month
    assert idle["revenue"] == 0 and idle["supply_cost"] == 0
    assert np.isnan(idle["gross_margin_pct"]) and np.isnan(idle["fill_rate"])
    assert idle["days_of_cover"] == 0  # no stock: 0, as in inventory_projection
    assert money["overtime_cost"].sum() == pytest.approx((6 + 10) * 60)


def test_a_distributor_has_no_overtime_and_missing_months_read_zero():
    bought = PLAN[PLAN["sku"] == "PRT-1"]
    bought = bought[bought["month"] < MONTHS[3]]
    bikes = PLAN[(PLAN["sku"] == "BIK-1")].assign(make_or_buy="buy", planned_production_qty=0.0,
                                                   planned_purchase_qty=5.0)
    money = plan_financials(pd.concat([bought, bikes]), CAPACITY.iloc[0:0], ROUTINGS.iloc[0:0],
                            ITEMS, SETTINGS)

    assert (money["overtime_cost"] == 0).all() and (money["production_cost"] == 0).all()
    assert _row(money, "Bikes", 0)["purchase_cost"] == (5 + 5) * 100  # open + planned, bought
    last = _row(money, "Parts", 3)  # Parts has no row in the last month: zeros
    assert last["demand_qty"] == 0 and last["inventory_value"] == 0
    assert money.groupby("family").size().to_dict() == {"Bikes": 4, "Parts": 4}


def test_empty_plan_and_unknown_skus():
    empty = plan_financials(PLAN.iloc[0:0], CAPACITY, ROUTINGS, ITEMS, SETTINGS)
    assert empty.empty and empty.columns.tolist() == OUTPUT_TABLES["plan_financials"].stage_columns

    with pytest.raises(ValueError, match="PRT-2"):
        plan_financials(PLAN, CAPACITY, ROUTINGS, ITEMS[ITEMS["sku"] != "PRT-2"], SETTINGS)


# --- on a real cycle --------------------------------------------------------------------------

CYCLE = pd.Timestamp("2026-10-01")


@pytest.fixture(scope="module")
def warehouse(company):
    """The shared small demo company (work centres, make and buy skus); CYCLE is its last."""
    return company[1]


def _read(warehouse, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(database_path(warehouse)), read_only=True) as con:
        return con.execute(sql, [CYCLE.date()]).df()


def test_plan_financials_totals_equal_the_plan_tables(warehouse):
    baseline = "scenario = 'baseline'"  # the what-ifs: test_scenarios
    money = _read(warehouse, f"SELECT * FROM main.plan_financials WHERE cycle_month = ? "
                             f"AND {baseline}")
    plan = _read(warehouse, f"""
        SELECT p.*, i.family, i.unit_cost, i.unit_price FROM main.supply_plan p
        JOIN marts.dim_items i USING (sku) WHERE p.cycle_month = ? AND p.{baseline}""")
    capacity = _read(warehouse, f"SELECT * FROM main.capacity_plan WHERE cycle_month = ? "
                                f"AND {baseline}")
    assert len(money) == plan["family"].nunique() * plan["month"].nunique()
    assert set(money["currency"]) == {SupplySettings().currency}

    served = plan["demand_qty"] - plan["unmet_qty"]
    make = plan["make_or_buy"] == "make"
    receipts = plan["scheduled_receipts_qty"] * plan["unit_cost"]
    overtime = (capacity["planned_hours"] - capacity["available_hours"]).clip(lower=0)
    settings = SupplySettings()
    expected = {
        "demand_qty": plan["demand_qty"].sum(),
        "served_qty": served.sum(),
        "revenue": (served * plan["unit_price"]).sum(),
        "cost_of_goods": (served * plan["unit_cost"]).sum(),
        "gross_margin": (served * (plan["unit_price"] - plan["unit_cost"])).sum(),
        "production_cost": (plan["planned_production_qty"] * plan["unit_cost"]).sum()
        + receipts[make].sum(),
        "purchase_cost": (plan["planned_purchase_qty"] * plan["unit_cost"]).sum()
        + receipts[~make].sum(),
        "overtime_cost": overtime.sum() * settings.overtime_cost_per_hour,
        "holding_cost": (plan["closing_qty"] * plan["unit_cost"]).sum()
        * settings.holding_cost_rate,
        "lost_sales_qty": plan["unmet_qty"].sum(),
        "lost_sales_value": (plan["unmet_qty"] * plan["unit_price"]).sum(),
        "inventory_qty": plan["closing_qty"].sum(),
        "inventory_value": (plan["closing_qty"] * plan["unit_cost"]).sum(),
    }
    for column, total in expected.items():
        assert money[column].sum() == pytest.approx(total, rel=1e-9, abs=1e-6), column
    assert money["supply_cost"].sum() == pytest.approx(sum(
        expected[c] for c in ("production_cost", "purchase_cost", "overtime_cost",
                              "holding_cost")))
    # the demo company makes and buys, and works some overtime: no total above is trivially 0
    assert expected["production_cost"] > 0 and expected["purchase_cost"] > 0
    assert expected["overtime_cost"] > 0
    # per family and month too: the inventory projection holds the same month-end stock
    stock = _read(warehouse, f"""
        SELECT i.family, p.month, sum(p.closing_qty) AS qty FROM main.inventory_projection p
        JOIN marts.dim_items i USING (sku) WHERE p.cycle_month = ? AND p.{baseline}
        GROUP BY ALL""")
    joined = money.merge(stock, on=["family", "month"], validate="one_to_one")
    assert (joined["inventory_qty"] - joined["qty"]).abs().max() < 1e-6


def test_the_pack_shows_the_money_with_currency_and_units_on_every_axis(warehouse):
    page = pack_path(warehouse, CYCLE).read_text(encoding="utf-8")
    assert pack_problems(page) == []
    money = re.search(r'<section [^>]*id="money".*?</section>', page, flags=re.S).group(0)
    assert "The plan in money" in money and "EUR" in money

    figures = chart_figures(page)
    titles = _axis_titles(figures["chart-money"]["layout"])
    assert titles and all("(EUR" in t for t in titles), titles
    for chart_id in ("chart-demand", "chart-budget", "chart-inventory"):
        titles = _axis_titles(figures[chart_id]["layout"])
        assert titles and all(("EUR" in t) or ("units" in t) for t in titles), (chart_id, titles)


def _axis_titles(layout: dict) -> list[str]:
    """The titles of a chart's y axes."""
    return [(layout[name].get("title") or {}).get("text", "")
            for name in sorted(layout) if re.fullmatch(r"yaxis\d*", name)]
