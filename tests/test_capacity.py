"""Rough-cut capacity on a hand-computed plan."""

import math

import pandas as pd
import pytest

from sop_pipeline.supply.capacity import CAPACITY_COLUMNS, capacity_plan

JAN, FEB = pd.Timestamp("2026-01-01"), pd.Timestamp("2026-02-01")


@pytest.fixture
def plan() -> pd.DataFrame:
    demand = pd.DataFrame(
        {
            "sku": ["A", "A", "B", "A", "C"],
            "location_id": ["DC1", "DC2", "DC1", "DC1", "DC1"],
            "month": [JAN, JAN, JAN, FEB, JAN],
            "qty": [10.0, 5.0, 20.0, 40.0, 100.0],
        }
    )
    routings = pd.DataFrame(
        {"sku": ["A", "A", "B"], "work_center_id": ["WC1", "WC2", "WC1"],
         "hours_per_unit": [2.0, 0.5, 1.0]}
    )
    work_centers = pd.DataFrame(
        {"work_center_id": ["WC1", "WC2", "WC3"], "name": ["Assembly", "Paint", "Pack"],
         "available_hours_per_month": [60.0, 0.0, 100.0]}
    )
    return capacity_plan(demand, routings, work_centers).set_index(["work_center_id", "month"])


def test_one_row_per_work_center_and_demand_month(plan):
    assert list(plan.reset_index().columns) == CAPACITY_COLUMNS
    assert len(plan) == 6
    assert plan.loc[("WC3", JAN), "required_hours"] == 0  # no routing uses it
    assert plan.loc[("WC3", JAN), "utilisation"] == 0


def test_required_hours_sum_locations_and_skus(plan):
    # Jan WC1: A (10 + 5) x 2 h + B 20 x 1 h = 50 h of 60
    assert plan.loc[("WC1", JAN), "required_hours"] == pytest.approx(50.0)
    assert plan.loc[("WC1", JAN), "utilisation"] == pytest.approx(50 / 60)
    assert plan.loc[("WC1", JAN), "overload_hours"] == 0
    # Feb WC1: A 40 x 2 h = 80 h of 60, 20 h over
    assert plan.loc[("WC1", FEB), "utilisation"] == pytest.approx(80 / 60)
    assert plan.loc[("WC1", FEB), "overload_hours"] == pytest.approx(20.0)
    # sku C has no routing: total load is A and B only
    assert plan["required_hours"].sum() == pytest.approx(50 + 7.5 + 80 + 20)


def test_zero_available_hours_give_nan_utilisation_and_full_overload(plan):
    assert plan.loc[("WC2", JAN), "required_hours"] == pytest.approx(7.5)
    assert math.isnan(plan.loc[("WC2", JAN), "utilisation"])
    assert plan.loc[("WC2", JAN), "overload_hours"] == pytest.approx(7.5)


def test_no_work_centers_gives_empty_plan():
    demand = pd.DataFrame({"sku": ["A"], "month": [JAN], "qty": [1.0]})
    routings = pd.DataFrame({"sku": ["A"], "work_center_id": ["WC1"], "hours_per_unit": [1.0]})
    empty = pd.DataFrame(columns=["work_center_id", "available_hours_per_month"])
    plan = capacity_plan(demand, routings, empty)
    assert plan.empty
    assert list(plan.columns) == CAPACITY_COLUMNS


def test_calendar_month_replaces_normal_hours_and_planned_load_is_reported():
    demand = pd.DataFrame({"sku": ["A", "A", "B"], "location_id": ["DC1"] * 3,
                           "month": [JAN, FEB, FEB], "qty": [10.0, 40.0, 5.0]})
    routings = pd.DataFrame({"sku": ["A", "B"], "work_center_id": ["WC1", "WC1"],
                             "hours_per_unit": [2.0, 1.0]})
    work_centers = pd.DataFrame({"work_center_id": ["WC1"], "available_hours_per_month": [60.0]})
    calendar = pd.DataFrame({"work_center_id": ["WC1"], "month": [FEB],
                             "available_hours": [30.0], "reason": ["Shutdown"]})
    planned = pd.DataFrame({"sku": ["A", "A"], "month": [JAN, FEB], "qty": [25.0, 12.5]})
    plan = capacity_plan(demand, routings, work_centers, calendar, planned).set_index("month")
    assert plan.loc[JAN, "available_hours"] == 60.0 and plan.loc[FEB, "available_hours"] == 30.0
    assert plan.loc[FEB, "required_hours"] == pytest.approx(85.0)  # 40 x 2 + 5 x 1
    assert plan.loc[FEB, "overload_hours"] == pytest.approx(55.0)
    assert plan.loc[JAN, "planned_hours"] == pytest.approx(50.0)  # built ahead: 25 x 2
    assert plan.loc[FEB, "planned_utilisation"] == pytest.approx(25.0 / 30.0)
    assert plan.loc[FEB, "top_skus"] == "A (80 h), B (5 h)"
