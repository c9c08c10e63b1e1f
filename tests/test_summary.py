"""cycle_summary's headline figures on hand-made rows of the other tables."""

import math

import pandas as pd
import pytest

from sop_pipeline.review.summary import SUMMARY_COLUMNS, cycle_summary

CYCLE = pd.Timestamp("2026-11-01")
NOV, DEC, JAN = (pd.Timestamp(m) for m in ("2026-11-01", "2026-12-01", "2027-01-01"))


def test_headline_figures():
    waterfall = pd.DataFrame({"family": ["all", "all", "Bikes"], "lag": [1, 3, 1],
                              "wape": [0.2, 0.3, 0.9], "bias": [0.05, 0.1, 0.5],
                              "fva": [0.04, 0.02, 0.0]})
    budget = pd.DataFrame({"month": [NOV, DEC, JAN], "fiscal_year": [2026, 2026, 2027],
                           "plan_value": [900.0, 1300.0, 5.0],
                           "budget_value": [1000.0, 1000.0, 5.0]})
    capacity = pd.DataFrame({"work_center_id": ["WC1", "WC2"], "month": [NOV, DEC],
                             "utilisation": [0.9, 1.25]})
    inventory = pd.DataFrame({
        "sku": ["A", "A", "A", "B", "B", "B"], "location_id": "DC1",
        "month": [NOV, DEC, JAN] * 2, "closing_qty": [5.0, -1.0, 4.0, 10.0, 10.0, -2.0],
        "status": ["healthy", "stockout", "healthy", "healthy", "healthy", "stockout"]})
    supply = pd.DataFrame({"unmet_qty": [1.0, 2.5]})
    alerts = pd.DataFrame({"severity": ["high", "high", "low"]})
    items = pd.DataFrame({"sku": ["A", "B"], "unit_cost": [3.0, 7.0]})
    row = cycle_summary(CYCLE, waterfall=waterfall, budget=budget, capacity=capacity,
                        inventory=inventory, supply=supply, alerts=alerts, items=items).iloc[0]
    assert list(row.index) == SUMMARY_COLUMNS
    assert (row["wape_lag1"], row["wape_lag3"], row["bias_lag1"], row["fva_lag1"]) == (
        0.2, 0.3, 0.05, 0.04)
    assert (row["consensus_value_fy"], row["budget_value_fy"]) == (2200.0, 2000.0)
    assert row["gap_to_budget_pct"] == pytest.approx(0.1)
    assert (row["peak_utilisation"], row["peak_work_center"]) == (1.25, "WC2 2026-12")
    assert row["skus_at_stockout_risk"] == 2 and row["unmet_qty"] == 3.5
    assert row["inventory_value_m3"] == pytest.approx(4 * 3.0)  # January: A 4 x 3, B -2 -> 0
    assert (row["alerts_high"], row["alerts_medium"], row["alerts_low"]) == (2, 0, 1)


def test_first_cycles_have_no_waterfall_yet():
    empty = pd.DataFrame(columns=["family", "lag", "wape", "bias", "fva"])
    row = cycle_summary(
        CYCLE, waterfall=empty, budget=pd.DataFrame(columns=["month", "fiscal_year"]),
        capacity=pd.DataFrame(columns=["work_center_id", "month", "utilisation"]),
        inventory=pd.DataFrame(columns=["sku", "location_id", "month", "closing_qty", "status"]),
        supply=pd.DataFrame(columns=["unmet_qty"]), alerts=pd.DataFrame(columns=["severity"]),
        items=pd.DataFrame(columns=["sku", "unit_cost"])).iloc[0]
    assert math.isnan(row["wape_lag1"]) and math.isnan(row["peak_utilisation"])
    assert row["skus_at_stockout_risk"] == 0 and row["alerts_high"] == 0
